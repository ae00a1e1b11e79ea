/**
 * The `pvkit` command line: JSON shape, exit codes, error texts, and that user mistakes never
 * print a stack trace.
 */

import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { runCli } from "@pvkit/cli";
import { compose, MachineBuilder } from "@pvkit/pvkit";
import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";

async function cli(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status, out: out.join("\n"), err: err.join("\n") };
}

const HOST = ["--host", "linux-6.12"];

Deno.test("describe --json prints exactly the documented shape", async () => {
  const { status, out } = await cli(
    "describe",
    "--json",
    ...HOST,
    "-cpu",
    "host",
    "-machine",
    "q35,kernel-irqchip=split",
    "-smp",
    "4",
  );
  assertEquals(status, 0);
  const json = JSON.parse(out);
  assertEquals(Object.keys(json), [
    "profile",
    "rules",
    "model",
    "machine",
    "leaves",
    "features",
    "filtered",
    "warnings",
    "notes",
    "errors",
  ]);
  assertEquals(Object.keys(json.machine), ["type", "irqchip", "x2apic", "smp"]);
  assertEquals(json.machine, { type: "pc-q35-10.2", irqchip: "split", x2apic: true, smp: 4 });
  assertEquals(Object.keys(json.leaves), ["0x40000000", "0x40000001"]);
  for (const leaf of Object.values(json.leaves) as Record<string, string>[]) {
    assertEquals(Object.keys(leaf), ["eax", "ebx", "ecx", "edx"]);
    for (const v of Object.values(leaf)) assertMatch(v, /^0x[0-9a-f]{8}$/);
  }
  assertEquals(json.leaves["0x40000001"].eax, "0x0100fefb");
  for (const f of json.features) {
    assertEquals(Object.keys(f), ["name", "bits", "enabled", "source"]);
  }
  assertEquals(json.profile, "linux-6.12");
});

Deno.test("kvm=off prints empty leaves", async () => {
  const json = JSON.parse((await cli("describe", "--json", ...HOST, "-cpu", "qemu64,kvm=off")).out);
  assertEquals(json.leaves, {});
});

Deno.test("a user error exits 2 and still prints the JSON, with QEMU's text and a did-you-mean", async () => {
  const { status, out } = await cli("describe", "--json", ...HOST, "-cpu", "qemu64,kvm-pv-ip=on");
  assertEquals(status, 2);
  const json = JSON.parse(out);
  assertEquals(json.errors, [
    "can't apply global qemu64-x86_64-cpu.kvm-pv-ip=on: Property 'qemu64-x86_64-cpu.kvm-pv-ip' not found",
  ]);
  assertStringIncludes(json.notes.join("\n"), 'did you mean "kvm-pv-ipi"');
});

Deno.test("a rule violation exits 2, prints the table, and names the rule and the fix on stderr", async () => {
  const { status, out, err } = await cli(
    "describe",
    ...HOST,
    "-cpu",
    "qemu64,kvm-msi-ext-dest-id=on",
    "-machine",
    "q35",
  );
  assertEquals(status, 2);
  assertStringIncludes(out, "kvm-msi-ext-dest-id  0x40000001.eax[15]");
  assertStringIncludes(
    err,
    "[rule kvm-msi-ext-dest-id/split-irqchip]; fix: use -machine kernel-irqchip=split",
  );
});

Deno.test("bad command-line options exit 2 with a message, never a stack trace", async () => {
  for (
    const argv of [
      ["describe", "--rules", "lax"],
      ["describe", "-cpu"],
      ["describe", "--frobnicate"],
      ["nope"],
      ["describe", "--host", "linux-1.0"],
    ]
  ) {
    const { status, err, out } = await cli(...argv);
    assertEquals(status, 2, argv.join(" "));
    assertEquals(/\n\s+at /.test(err + out), false, "no stack trace");
  }
  assertStringIncludes(
    (await cli("describe", "--host", "linux-1.0")).err,
    'unknown host profile "linux-1.0"',
  );
});

Deno.test("cpu-help reproduces QEMU 7.2's -cpu help byte for byte", async () => {
  const reference = await Deno.readTextFile(new URL("./qemu72/cpu-help.txt", import.meta.url));
  const { status, out } = await cli("cpu-help", "--qemu-version", "7.2");
  assertEquals(status, 0);
  assertEquals(out + "\n", reference);
});

Deno.test("the builder, compose() and the CLI give the same result", async () => {
  const built = new MachineBuilder().use(kvmPvEoi).irqchip("split").x2apic().smp(4).host(
    "linux-6.12",
  ).build();
  const composed = compose({
    cpu: "base,kvm-pv-eoi=on,x2apic=on",
    machine: "pvkit,kernel-irqchip=split",
    smp: 4,
    host: "linux-6.12",
  });
  const printed = (await cli(
    "describe",
    "--json",
    ...HOST,
    "-cpu",
    "base,kvm-pv-eoi=on,x2apic=on",
    "-machine",
    "pvkit,kernel-irqchip=split",
    "-smp",
    "4",
  )).out;
  assertEquals(JSON.stringify(built), JSON.stringify(composed));
  assertEquals(JSON.stringify(built), printed);
  assertEquals(built.leaves["0x40000001"].eax, "0x00000040");
});

Deno.test("the pvkit executable exits 2 without a stack trace on a user mistake", async () => {
  const main = new URL("../packages/cli/main.ts", import.meta.url);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main.href, "describe", "--host", "linux-6.12", "-cpu", "nosuch"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 2);
  assertStringIncludes(text, "unable to find CPU model 'nosuch'");
  assertEquals(/\n\s+at /.test(text), false);
});

Deno.test("pvkit probe: 0 when expectations hold, 1 when one fails, 2 for a bad probe file", async () => {
  const dir = await Deno.makeTempDir();
  const write = async (name: string, probe: unknown) => {
    const path = `${dir}/${name}`;
    await Deno.writeTextFile(path, JSON.stringify(probe));
    return path;
  };
  const step = (expect: unknown) => ({
    name: "poll",
    machine: {},
    vcpus: [{ steps: [{ op: "rdmsr", msr: "0x4b564d05", expect }] }],
  });
  const good = await write("good.json", step({ value: "0x1" }));
  const bad = await write("bad.json", step({ value: "0x2" }));
  const broken = await write("broken.json", {
    name: "x",
    machine: {},
    vcpus: [{ steps: [{ op: "rdmsr", msr: "0x4b564d1g" }] }],
  });
  assertEquals((await cli("probe", good)).status, 0);
  assertEquals((await cli("probe", bad, "--json")).status, 1);
  const failed = await cli("probe", broken);
  assertEquals(failed.status, 2);
  assertStringIncludes(failed.err, "$.vcpus[0].steps[0].msr");
  assertEquals((await cli("probe", good, "--backend", "qemu")).status, 2);
  assertEquals((await cli("probe", good, "--timeout", "2000")).status, 0);
  assertEquals((await cli("probe", good, "--timeout=1_000")).status, 0);
  for (const argv of [["probe", good, "--timeout", "0"], ["diff", good, "--timeout=x"]]) {
    const r = await cli(...argv);
    assertEquals(r.status, 2, argv.join(" "));
    assertStringIncludes(r.err, "--timeout takes a positive integer, not");
  }
  await Deno.remove(dir, { recursive: true });
});
