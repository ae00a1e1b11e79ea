/**
 * kvm-pv-ipi (CPUID 0x40000001 EAX bit 11): the guest sends one IPI to many vCPUs with the
 * SEND_IPI hypercall, a bitmap of 128 APIC IDs per call (64-bit guest), instead of one ICR
 * write (one VM exit) per destination. vCPU 0 of a 1025-vCPU machine sends one IPI to 64, 255
 * and 1024 of the others.
 *
 * Run: deno run -A examples/feature_kvm_pv_ipi.ts
 */

import { boot, exits, run, table } from "./_harness.ts";

const VCPUS = 1025;
const VECTOR = 0xfd; // RESCHEDULE_VECTOR

const rows: (string | number)[][] = [];
for (const cpu of ["host", "host,kvm-pv-ipi=off"]) {
  const { vm, guest } = boot({ cpu, smp: VCPUS });
  for (const n of [64, 255, 1024]) {
    const targets = Array.from({ length: n }, (_, i) => i + 1);
    const before = exits(vm);
    const irrBefore = vm.vcpus.filter((v) => v.apic?.highestIrr() === VECTOR).length;
    run(vm, [function* (c) {
      guest.sendIpiMask(c, targets, VECTOR);
      yield { kind: "yield" };
    }]);
    const after = exits(vm);
    const received = vm.vcpus.filter((v) => v.apic?.highestIrr() === VECTOR).length - irrBefore;
    for (const v of vm.vcpus) if (v.index !== 0) v.apic?.reset(); // ready for the next round
    rows.push([
      `-cpu ${cpu}`,
      n,
      received,
      after.ipi - before.ipi,
      after.hypercall - before.hypercall,
    ]);
  }
}
table(["machine", "destinations", "received", "ICR-write exits", "SEND_IPI exits"], rows);
const pv = rows.slice(0, 3).map((r) => r[4]).join("/");
const native = rows.slice(3).map((r) => r[3]).join("/");
console.log(
  `benefit: one IPI to 64/255/1024 vCPUs costs ${pv} SEND_IPI hypercalls (⌈N/128⌉) ` +
    `instead of ${native} ICR-write exits`,
);
