/**
 * Every composition rule of `--rules strict`: the text of its error (or warning, or note) and
 * the passing case. Rules live in the plugins' manifests and in machine/machine_rules.json.
 */

import { assertEquals, assertStringIncludes } from "@std/assert";
import { compose, type ComposeOptions } from "@pvkit/pvkit";

const HOST = "linux-6.12";

function run(options: ComposeOptions) {
  return compose({ host: HOST, machine: "q35", smp: 2, ...options });
}

/** Asserts that `rule` fired in `list` and that its text says what is wrong. */
function fired(list: readonly string[], rule: string, text: string): void {
  const hit = list.find((x) => x.includes(`[rule ${rule}]`));
  assertEquals(hit !== undefined, true, `rule ${rule} did not fire in ${JSON.stringify(list)}`);
  assertStringIncludes(hit!, text);
}

function silent(m: ReturnType<typeof run>, rule: string): void {
  const all = [...m.errors, ...m.warnings, ...m.notes];
  assertEquals(all.some((x) => x.includes(`[rule ${rule}]`)), false, JSON.stringify(all));
}

const irqchipRules = [
  ["kvm-pv-eoi", "kvm-pv-eoi/in-kernel-irqchip"],
  ["kvm-pv-unhalt", "kvm-pv-unhalt/in-kernel-irqchip"],
  ["kvm-asyncpf-int", "kvm-asyncpf-int/in-kernel-irqchip"],
  ["kvm-pv-ipi", "kvm-pv-ipi/in-kernel-irqchip"],
] as const;

for (const [feature, rule] of irqchipRules) {
  Deno.test(`${rule}: asked for with kernel-irqchip=off is an error; on/split pass`, () => {
    const extra = feature === "kvm-asyncpf-int" ? ",kvm-asyncpf=on" : "";
    const bad = run({ cpu: `qemu64,${feature}=on${extra}`, machine: "q35,kernel-irqchip=off" });
    fired(bad.errors, rule, `${feature} needs an in-kernel irqchip (kernel-irqchip=on or split)`);
    assertStringIncludes(
      bad.errors.find((e) => e.includes(rule))!,
      "fix: use -machine kernel-irqchip=on or split",
    );
    for (const mode of ["on", "split"]) {
      const ok = run({
        cpu: `qemu64,${feature}=on${extra}`,
        machine: `q35,kernel-irqchip=${mode}`,
      });
      assertEquals(ok.errors, []);
      assertEquals(ok.isEnabled(feature), true);
    }
  });
}

Deno.test("a default that breaks a rule is dropped with a note", () => {
  const m = run({ cpu: "qemu64", machine: "q35,kernel-irqchip=off" });
  assertEquals(m.errors, []);
  assertEquals(m.isEnabled("kvm-pv-eoi"), false);
  assertEquals(m.features.find((f) => f.name === "kvm-pv-eoi")?.source, "rule");
  fired(m.notes, "kvm-pv-eoi/in-kernel-irqchip", "kvm-pv-eoi (default) dropped");
});

Deno.test("kvm-msi-ext-dest-id/split-irqchip: error with kernel-irqchip=on, passes with split", () => {
  const bad = run({ cpu: "qemu64,kvm-msi-ext-dest-id=on", machine: "q35,kernel-irqchip=on" });
  fired(
    bad.errors,
    "kvm-msi-ext-dest-id/split-irqchip",
    "kvm-msi-ext-dest-id requires kernel-irqchip=split",
  );
  const ok = run({ cpu: "qemu64,kvm-msi-ext-dest-id=on", machine: "q35,kernel-irqchip=split" });
  assertEquals(ok.errors, []);
  assertEquals(ok.isEnabled("kvm-msi-ext-dest-id"), true);
});

Deno.test("kvm-msi-ext-dest-id/x2apic: error with x2apic=off, passes with x2apic", () => {
  const bad = run({
    cpu: "qemu64,kvm-msi-ext-dest-id=on,x2apic=off",
    machine: "q35,kernel-irqchip=split",
  });
  fired(bad.errors, "kvm-msi-ext-dest-id/x2apic", "kvm-msi-ext-dest-id requires x2apic");
  const ok = run({
    cpu: "qemu64,kvm-msi-ext-dest-id=on,x2apic=on",
    machine: "q35,kernel-irqchip=split",
  });
  assertEquals(ok.errors, []);
});

const dependencies = [
  ["kvm-asyncpf-int", "kvm-asyncpf", "q35,kernel-irqchip=split"],
  ["kvm-asyncpf-vmexit", "kvm-asyncpf", "q35"],
  ["kvm-pv-tlb-flush", "kvm-steal-time", "q35"],
  ["kvm-pv-sched-yield", "kvm-steal-time", "q35"],
  ["kvmclock-stable-bit", "kvmclock", "q35"],
] as const;

for (const [feature, needed, machine] of dependencies) {
  Deno.test(`${feature}/requires-${needed}: error without it, passes with it`, () => {
    const bad = run({ cpu: `qemu64,${needed}=off,${feature}=on`, machine });
    fired(bad.errors, `${feature}/requires-${needed}`, `${feature} requires ${needed}`);
    assertStringIncludes(bad.errors.join("\n"), `fix: turn ${needed} on, or turn ${feature} off`);
    const ok = run({ cpu: `qemu64,${needed}=on,${feature}=on`, machine });
    assertEquals(ok.errors, []);
    assertEquals(ok.isEnabled(feature), true);
  });
}

Deno.test("a host feature whose dependency the host lacks is dropped with a note", () => {
  // A host without sched_info reports no STEAL_TIME (arch/x86/kvm/cpuid.c): 0x01007edb.
  const host = {
    name: "no-steal",
    kvmLeaf: { eax: 0x01007edb, edx: 0 },
    x2apicApi: true,
    maxVcpus: 1024,
  };
  const m = compose({ cpu: "host", machine: "q35", smp: 2, host });
  assertEquals(m.errors, []);
  assertEquals(m.isEnabled("kvm-pv-tlb-flush"), false);
  fired(m.notes, "kvm-pv-tlb-flush/requires-kvm-steal-time", "kvm-pv-tlb-flush (host) dropped");
  fired(m.notes, "kvm-pv-sched-yield/requires-kvm-steal-time", "kvm-pv-sched-yield (host) dropped");
});

Deno.test("kvm-mmu/removed: asking for it is an error; off passes", () => {
  const bad = run({ cpu: "qemu64,kvm-mmu=on" });
  fired(bad.errors, "kvm-mmu/removed", "kvm-mmu was removed from KVM");
  assertEquals(run({ cpu: "qemu64,kvm-mmu=off" }).errors, []);
});

Deno.test("kvm-asyncpf/without-asyncpf-int: warns when asked for alone; passes with it", () => {
  const bad = run({ cpu: "qemu64,kvm-asyncpf=on" });
  fired(
    bad.warnings,
    "kvm-asyncpf/without-asyncpf-int",
    "KVM delivers async page faults only when",
  );
  const ok = run({
    cpu: "qemu64,kvm-asyncpf=on,kvm-asyncpf-int=on",
    machine: "q35,kernel-irqchip=split",
  });
  silent(ok, "kvm-asyncpf/without-asyncpf-int");
});

for (const feature of ["kvm-pv-unhalt", "kvm-pv-tlb-flush", "kvm-pv-ipi", "kvm-pv-sched-yield"]) {
  Deno.test(`${feature}/single-vcpu: warns with one vCPU; passes with two`, () => {
    const bad = run({ cpu: `qemu64,${feature}=on`, smp: 1 });
    fired(
      bad.warnings,
      `${feature}/single-vcpu`,
      `${feature} has no effect with one possible vCPU`,
    );
    silent(run({ cpu: `qemu64,${feature}=on`, smp: 2 }), `${feature}/single-vcpu`);
    // maxcpus counts: Linux sizes its possible CPUs from it.
    silent(run({ cpu: `qemu64,${feature}=on`, smp: "1,maxcpus=2" }), `${feature}/single-vcpu`);
  });
}

Deno.test("kvm-hint-dedicated/ignored-features: names the features the guest ignores", () => {
  const bad = run({
    cpu: "qemu64,kvm-hint-dedicated=on,kvm-pv-unhalt=on,kvm-pv-tlb-flush=on,kvm-pv-ipi=on",
  });
  fired(
    bad.warnings,
    "kvm-hint-dedicated/ignored-features",
    "Linux guests ignore kvm-pv-unhalt, kvm-pv-tlb-flush:",
  );
  silent(
    run({ cpu: "qemu64,kvm-hint-dedicated=on,kvm-pv-ipi=on" }),
    "kvm-hint-dedicated/ignored-features",
  );
});

Deno.test("kvm-poll-control/haltpoll-needs-dedicated: a note without the hint", () => {
  const bad = run({ cpu: "qemu64,kvm-poll-control=on" });
  fired(bad.notes, "kvm-poll-control/haltpoll-needs-dedicated", "cpuidle-haltpoll");
  silent(
    run({ cpu: "qemu64,kvm-poll-control=on,kvm-hint-dedicated=on" }),
    "kvm-poll-control/haltpoll-needs-dedicated",
  );
});

Deno.test("apic/x2apic-above-254: more than 255 vCPUs need x2apic", () => {
  const bad = run({ cpu: "qemu64,x2apic=off", machine: "pvkit,kernel-irqchip=split", smp: 256 });
  fired(bad.errors, "apic/x2apic-above-254", "APIC IDs up to 255 need x2APIC");
  assertEquals(
    run({ cpu: "qemu64,x2apic=off", machine: "pvkit,kernel-irqchip=split", smp: 255 }).errors,
    [],
  );
  assertEquals(run({ cpu: "qemu64", machine: "pvkit,kernel-irqchip=split", smp: 256 }).errors, []);
});

Deno.test("apic/ext-dest-id-above-255: more than 255 vCPUs warn without kvm-msi-ext-dest-id", () => {
  const bad = run({ cpu: "qemu64", machine: "pvkit,kernel-irqchip=on", smp: 256 });
  fired(bad.warnings, "apic/ext-dest-id-above-255", "without kvm-msi-ext-dest-id");
  silent(
    run({ cpu: "qemu64", machine: "pvkit,kernel-irqchip=split", smp: 256 }),
    "apic/ext-dest-id-above-255",
  );
});

Deno.test("vcpus/at-most-32768: 32769 vCPUs are an error, 32768 pass", () => {
  const bad = run({ cpu: "qemu64", machine: "pvkit,kernel-irqchip=split", smp: 32769 });
  fired(bad.errors, "vcpus/at-most-32768", "32769 vCPUs asked for, but at most 32768");
  assertEquals(
    run({ cpu: "qemu64", machine: "pvkit,kernel-irqchip=split", smp: 32768 }).errors,
    [],
  );
});

Deno.test("kvm/off-hides-leaves: kvm=off empties the leaves, with a note", () => {
  const m = run({ cpu: "qemu64,kvm=off,kvm-hint-dedicated=on" });
  assertEquals(m.leaves, {});
  assertEquals(m.features.every((f) => f.name === "x2apic" || !f.enabled), true);
  fired(m.notes, "kvm/off-hides-leaves", "the guest sees no KVM CPUID leaves");
  silent(run({ cpu: "qemu64" }), "kvm/off-hides-leaves");
});

Deno.test("more vCPUs than the host's KVM_CAP_MAX_VCPUS warn in strict mode", () => {
  const m = run({ cpu: "qemu64", machine: "pvkit,kernel-irqchip=split", smp: 2048 });
  assertStringIncludes(m.warnings.join("\n"), "runs at most 1024 vCPUs per VM");
});
