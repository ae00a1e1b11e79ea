/**
 * kvm-pv-sched-yield (CPUID 0x40000001 EAX bit 13, needs kvm-steal-time): after sending a
 * call-function IPI, the guest checks the targets' steal-time `preempted` byte; for the first
 * busy, preempted one it issues SCHED_YIELD, and the host gives the sender's CPU to that vCPU
 * (a directed yield), so the function runs now rather than when the host next schedules it.
 * Two vCPUs share one host CPU (2 ms time slices); vCPU 0 sends a call-function IPI to vCPU 1
 * right after the host preempted vCPU 1.
 *
 * Run: deno run -A examples/feature_kvm_pv_sched_yield.ts
 */

import { CALL_FUNCTION_VECTOR } from "@pvkit/guest";
import { boot, run, table, takeInterrupts, us } from "./_harness.ts";

const SLICE_NS = 2_000_000;
const CHUNK_NS = 50_000;

const rows: (string | number)[][] = [];
for (const cpu of ["host", "host,kvm-pv-sched-yield=off"]) {
  const { vm, guest } = boot({ cpu, smp: 2, emu: { hostCpus: 1, timeSliceNs: SLICE_NS } });
  let sentAt = 0n, ranAt = 0n, yieldedTo: number | undefined;
  run(vm, [
    function* (c) { // vCPU 0: busy; sends the IPI once it sees vCPU 1 preempted
      c.vcpu.sti();
      takeInterrupts(guest, c);
      while (!guest.vcpuIsPreempted(c, 1)) yield { kind: "spin", ns: CHUNK_NS };
      sentAt = c.vcpu.clock;
      yieldedTo = guest.sendCallFunctionIpi(c, [1]).yieldedTo;
      yield { kind: "yield" }; // a scheduling point: where a directed yield takes effect
      while (ranAt === 0n) {
        yield { kind: "spin", ns: CHUNK_NS };
        takeInterrupts(guest, c);
      }
    },
    function* (c) { // vCPU 1: busy until it has run the function
      c.vcpu.sti();
      takeInterrupts(guest, c);
      while (ranAt === 0n) {
        yield { kind: "spin", ns: CHUNK_NS };
        takeInterrupts(guest, c, (v) => {
          if (v === CALL_FUNCTION_VECTOR) ranAt = c.vcpu.clock; // the function runs
        });
      }
    },
  ]);
  rows.push([
    `-cpu ${cpu}`,
    yieldedTo === undefined ? "-" : `APIC ${yieldedTo}`,
    vm.scheduler.yields,
    us(ranAt - sentAt),
  ]);
}
table(["machine", "SCHED_YIELD to", "directed yields", "IPI sent → function ran (µs)"], rows);
console.log(
  `benefit: the host made ${rows[0][2]} directed yield and the preempted target ran the ` +
    `function ${rows[0][3]} µs after the IPI, instead of ${rows[1][3]} µs (the rest of the ` +
    `sender's time slice)`,
);
