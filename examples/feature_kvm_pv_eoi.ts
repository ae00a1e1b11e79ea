/**
 * kvm-pv-eoi (CPUID 0x40000001 EAX bit 6): before entering the guest, the host sets a flag in
 * guest memory when the interrupt in service may be ended without telling it; the guest's EOI
 * then just clears the flag (Linux's PvEoi fast path) instead of writing the APIC's EOI
 * register, which is a VM exit. vCPU 1 sends 1000 IPIs to vCPU 0, which sleeps in HLT and
 * handles each one (plus the async-PF 'wake all' interrupt KVM sends when the guest enables
 * async PF); the table counts vCPU 0's EOI exits.
 *
 * Run: deno run -A examples/feature_kvm_pv_eoi.ts
 */

import { boot, run, table, takeInterrupts, total } from "./_harness.ts";

const INTERRUPTS = 1000;
const VECTOR = 0xec; // LOCAL_TIMER_VECTOR: any fixed vector will do

const rows: (string | number)[][] = [];
for (const cpu of ["host", "host,kvm-pv-eoi=off"]) {
  const { vm, guest } = boot({ cpu, smp: 2 });
  run(vm, [
    function* (c) { // vCPU 0: idle loop, handling interrupts
      c.vcpu.sti();
      let handled = 0;
      for (;;) {
        // Each handler ends with guest.eoi(): the PV EOI fast path, or the APIC write.
        takeInterrupts(guest, c, (vector) => handled += vector === VECTOR ? 1 : 0);
        if (handled === INTERRUPTS) break;
        yield { kind: "hlt" };
      }
    },
    function* (c) { // vCPU 1: sends the interrupts, 20 µs apart
      for (let i = 0; i < INTERRUPTS; i++) {
        yield { kind: "spin", ns: 20_000 };
        guest.sendIpiMask(c, [0], VECTOR);
      }
    },
  ]);
  const v0 = vm.vcpu(0);
  rows.push([
    `-cpu ${cpu}`,
    v0.delivered.length,
    guest.pvEoi.fastPathEois,
    v0.exits.eoi,
    total(v0.exits),
  ]);
}
table(
  ["machine", "interrupts taken", "EOI by PV flag", "EOI exits", "all vCPU 0 exits"],
  rows,
);
console.log(
  `benefit: ${rows[0][1]} interrupts handled with ${rows[0][3]} EOI exits with kvm-pv-eoi ` +
    `(${rows[0][2]} EOIs only cleared the flag) vs ${rows[1][3]} EOI exits without`,
);
