/**
 * `pvkit features`, `explain`, `rules`, `describe -machine help`, opt-in plugins in describe,
 * and third-party plugins with `--plugin FILE`.
 */

import { assertEquals, assertStringIncludes } from "@std/assert";
import { cli } from "./_cli.ts";

const HOST = ["--host", "linux-6.12"];
const ACME = new URL("../examples/acme_plugin.ts", import.meta.url).pathname;

Deno.test("pvkit features lists every feature with its bits and summary", async () => {
  const r = await cli("features", "--json");
  assertEquals(r.status, 0);
  const rows = JSON.parse(r.out) as { name: string; cpuid: string; origin: string }[];
  assertEquals(rows.length, 19);
  assertEquals(rows.find((f) => f.name === "kvm-pv-eoi")?.cpuid, "0x40000001.eax[6]");
  assertEquals(rows.find((f) => f.name === "kvm-migration-control")?.origin, "opt-in");
  assertStringIncludes((await cli("features")).out, "kvm-pv-ipi");
});

Deno.test("pvkit explain kvm-pv-eoi: bit, MSR, rules, what Linux does and saves", async () => {
  const r = await cli("explain", "kvm-pv-eoi");
  assertEquals(r.status, 0);
  for (
    const text of [
      "0x40000001 EAX bit 6 (KVM_FEATURE_PV_EOI)",
      "0x4b564d04 MSR_KVM_PV_EOI_EN",
      "kvm-pv-eoi/in-kernel-irqchip",
      "kvm_guest_apic_eoi_write()",
      "One EOI exit per interrupt",
    ]
  ) assertStringIncludes(r.out, text);
  const steal = JSON.parse((await cli("explain", "kvm-steal-time", "--json")).out);
  // Rules of other features that need steal time are listed too.
  assertEquals(steal.rules.some((x: string) => x.includes("kvm-pv-tlb-flush/requires")), true);
  const typo = await cli("explain", "kvm-pv-eo");
  assertEquals(typo.status, 2);
  assertStringIncludes(typo.err, 'did you mean "kvm-pv-eoi"');
});

Deno.test("pvkit rules: the list, and the graph as text, DOT and Mermaid", async () => {
  assertStringIncludes((await cli("rules")).out, "kvm-pv-tlb-flush/requires-kvm-steal-time");
  assertStringIncludes(
    (await cli("rules", "--graph", "text")).out,
    "kvm-pv-tlb-flush --requires--> kvm-steal-time",
  );
  const dot = (await cli("rules", "--graph=dot")).out;
  assertEquals(dot.startsWith("digraph pvkit_rules {"), true);
  assertStringIncludes(dot, '"kvm-msi-ext-dest-id" -> "irqchip split"');
  const mermaid = (await cli("rules", "--graph", "mermaid")).out;
  assertStringIncludes(mermaid, "kvm_pv_sched_yield -->|requires| kvm_steal_time");
  const json = JSON.parse((await cli("rules", "--json")).out);
  assertEquals(Object.keys(json), ["rules", "edges"]);
});

Deno.test("describe -machine help lists the machine types; -cpu help the models", async () => {
  const r = await cli("describe", "-machine", "help");
  assertEquals(r.status, 0);
  assertStringIncludes(r.out, "Supported machines are:");
  assertStringIncludes(r.out, "q35             alias of pc-q35-10.2");
  assertStringIncludes(r.out, "pvkit");
  assertStringIncludes(
    (await cli("describe", "-machine", "help", "--qemu-version", "7.2")).out,
    "pc-q35-7.2",
  );
  assertStringIncludes((await cli("describe", "-cpu", "help")).out, "Available CPUs:");
});

Deno.test("the shipped kvm-migration-control can be named in describe (strict rules)", async () => {
  const r = await cli("describe", "--json", ...HOST, "-cpu", "qemu64,kvm-migration-control=on");
  assertEquals(r.status, 0, r.err);
  const json = JSON.parse(r.out);
  const f = json.features.find((x: { name: string }) => x.name === "kvm-migration-control");
  assertEquals(f.enabled, true);
  // QEMU has no such property: --rules qemu reproduces its error.
  assertEquals(
    (await cli("describe", ...HOST, "-cpu", "qemu64,kvm-migration-control=on", "--rules", "qemu"))
      .status,
    2,
  );
});

Deno.test("--plugin FILE loads a third-party plugin into describe, features, explain and probe", async () => {
  const d = await cli(
    "describe",
    "--json",
    ...HOST,
    "--plugin",
    ACME,
    "-cpu",
    "qemu64,acme-doorbell=on",
  );
  assertEquals(d.status, 0, d.err);
  assertEquals(JSON.parse(d.out).leaves["0x40000001"].eax, "0x0110007b");
  const f = JSON.parse((await cli("features", "--json", "--plugin", ACME)).out);
  assertEquals(f.at(-1).origin, "plugin");
  assertStringIncludes((await cli("explain", "acme-doorbell", "--plugin", ACME)).out, "bit 20");
  const dir = await Deno.makeTempDir();
  const probe = `${dir}/doorbell.json`;
  await Deno.writeTextFile(
    probe,
    JSON.stringify({
      name: "doorbell",
      machine: { cpu: "base,acme-doorbell=on", plugins: ["acme-doorbell"] },
      vcpus: [{
        steps: [{ op: "cpuid", leaf: "0x40000001", expect: { eax: "0x00100000" } }],
      }],
    }),
  );
  const withPlugin = await cli("probe", probe, "--plugin", ACME);
  assertEquals(withPlugin.status, 0, withPlugin.out + withPlugin.err);
  const without = await cli("probe", probe);
  assertEquals(without.status, 2);
  assertStringIncludes(without.err, 'no plugin named "acme-doorbell"');
  const bad = await cli("features", "--plugin", `${dir}/missing.ts`);
  assertEquals(bad.status, 2);
  assertStringIncludes(bad.err, "cannot load it");
  await Deno.writeTextFile(`${dir}/empty.ts`, "export const x = 1;\n");
  assertStringIncludes(
    (await cli("features", "--plugin", `${dir}/empty.ts`)).err,
    "exports no pvkit plugin",
  );
  await Deno.remove(dir, { recursive: true });
});
