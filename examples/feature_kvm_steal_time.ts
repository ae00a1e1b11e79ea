/**
 * kvm-steal-time (CPUID 0x40000001 EAX bit 5): the host adds the time a vCPU was runnable but
 * not running (its thread's run_delay) to a per-vCPU record in guest memory, so the guest can
 * tell time it ran from time the host took (steal). A vCPU does 10 ms of work while the host
 * preempts it three times (1 + 2 + 3 ms); the table compares the guest's steal reading with the
 * host's run_delay, and what the guest then believes it ran.
 *
 * Run: deno run -A examples/feature_kvm_steal_time.ts
 */

import { boot, run, table } from "./_harness.ts";

const ms = (ns: bigint) => (Number(ns) / 1e6).toFixed(3);
const WORK_NS = 10_000_000;
const CHUNK_NS = 100_000;
/** Chunk index → how long the host preempts the vCPU there. */
const PREEMPT_AT = new Map([[20, 1_000_000], [50, 2_000_000], [80, 3_000_000]]);

const rows: string[][] = [];
for (const cpu of ["host", "host,kvm-steal-time=off"]) {
  const { vm, guest } = boot({ cpu });
  let wall = 0n;
  let steal: bigint | undefined;
  run(vm, [function* (c) {
    const stealAvailable = guest.uses("steal-time");
    const s0 = stealAvailable ? guest.stealTime.steal(c) : 0n;
    const t0 = guest.clockRead(c);
    for (let i = 0; i < WORK_NS / CHUNK_NS; i++) {
      const preempt = PREEMPT_AT.get(i);
      if (preempt) yield { kind: "preempt", ns: preempt }; // the host runs another task
      yield { kind: "spin", ns: CHUNK_NS };
    }
    wall = guest.clockRead(c) - t0;
    if (stealAvailable) steal = guest.stealTime.steal(c) - s0;
  }]);
  const runDelay = vm.vcpu(0).runDelay;
  rows.push([
    `-cpu ${cpu}`,
    ms(runDelay),
    steal === undefined ? "n/a" : ms(steal),
    ms(wall),
    ms(wall - (steal ?? 0n)),
  ]);
}
table([
  "machine",
  "host run_delay (ms)",
  "guest steal (ms)",
  "elapsed (ms)",
  "guest thinks it ran (ms)",
], rows);
console.log(
  `benefit: the guest sees ${rows[0][2]} ms of the host's ${rows[0][1]} ms run_delay as steal ` +
    `and accounts ${rows[0][4]} ms of running; without the feature it sees none and ` +
    `charges all ${rows[1][4]} ms to its tasks`,
);
