/**
 * kvm-mmu (CPUID 0x40000001 EAX bit 2): the old paravirtual MMU (KVM_HC_MMU_OP, hypercall 2)
 * was removed from KVM. There is nothing left to gain: pvkit's strict rules refuse the flag,
 * QEMU's rules accept it but the host filters the bit out, and hypercall 2 returns -KVM_ENOSYS
 * (-1000) on every machine, even with bit 2 forced into the guest's CPUID.
 *
 * Run: deno run -A examples/feature_kvm_mmu.ts
 */

import { type EmuGuestCpu, EmuMachine } from "@pvkit/emu";
import { KVM_HC_MMU_OP } from "@pvkit/abi";
import { compose } from "@pvkit/pvkit";
import { HOST, MACHINE, run, table, WALL_CLOCK_EPOCH_NS } from "./_harness.ts";

const strict = compose({ cpu: "host,kvm-mmu=on", machine: MACHINE, host: HOST });
console.log(`-cpu host,kvm-mmu=on (strict rules): ok=${strict.ok}`);
for (const e of strict.errors) console.log(`  error: ${e}`);
console.log();

const rows: string[][] = [];
const cases = [
  { label: "-cpu host (strict)", cpu: "host", rules: "strict", force: false },
  {
    label: "-cpu host,kvm-mmu=on (qemu rules)",
    cpu: "host,kvm-mmu=on",
    rules: "qemu",
    force: false,
  },
  { label: "-cpu host + bit 2 forced in CPUID", cpu: "host", rules: "strict", force: true },
] as const;
for (const c of cases) {
  const composed = compose({ cpu: c.cpu, machine: MACHINE, host: HOST, rules: c.rules });
  const eax = Number(composed.leaves["0x40000001"].eax);
  const vm = EmuMachine.create(composed, {
    wallClockEpochNs: WALL_CLOCK_EPOCH_NS,
    cpuid: c.force ? [{ leaf: 0x40000001, eax: eax | (1 << 2) }] : [],
  });
  let bit = 0, ret = 0n;
  run(vm, [function* (cpu: EmuGuestCpu) {
    bit = (cpu.cpuid(0x40000001).eax >>> 2) & 1;
    ret = cpu.hypercall(KVM_HC_MMU_OP);
    yield { kind: "yield" };
  }]);
  rows.push([
    c.label,
    composed.ok ? "yes" : "no",
    composed.warnings.join("; ") || "-",
    String(bit),
    String(ret),
  ]);
}
table(["machine", "composes", "warnings", "guest sees bit 2", "hypercall 2 returns"], rows);
console.log(
  `benefit: none: strict mode refuses kvm-mmu=on (${strict.errors.length} error) and ` +
    `KVM_HC_MMU_OP returns ${rows.map((r) => r[4]).join("/")} (-KVM_ENOSYS) on every machine`,
);
