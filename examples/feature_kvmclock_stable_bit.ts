/**
 * kvmclock-stable-bit (CPUID 0x40000001 EAX bit 24): the host promises that every vCPU's
 * pvclock record runs from one master clock (PVCLOCK_TSC_STABLE_BIT), so the guest can trust
 * each vCPU's own reading. Without bit 24, Linux cannot trust it: every read goes through one
 * guest-wide `last_value` (an atomic cmpxchg on a cache line all vCPUs share) and returns
 * max(own reading, last value). Four vCPUs read the clock in turn; the table counts the reads
 * that touched the shared value, the cmpxchg writes to it, and the reads it clamped.
 *
 * Run: deno run -A examples/feature_kvmclock_stable_bit.ts
 */

import { boot, run, table } from "./_harness.ts";

const VCPUS = 4;
const READS = 500;

const rows: (string | number)[][] = [];
for (const cpu of ["host", "host,kvmclock-stable-bit=off"]) {
  const { vm, guest } = boot({ cpu, smp: VCPUS });
  let trusted = 0, shared = 0, writes = 0, clamped = 0;
  run(
    vm,
    vm.vcpus.map(() =>
      function* (c) {
        for (let i = 0; i < READS; i++) {
          // A few reads back to back, then let the other vCPUs run.
          for (let j = 0; j < 3; j++) {
            const before = guest.kvmclock.clamp.lastValue;
            const r = guest.kvmclock.readDetailed(c);
            if (r.stable) trusted++;
            else {
              shared++;
              if (r.clamped) clamped++;
              else if (r.ns > before) writes++;
            }
          }
          yield { kind: "spin", ns: 7 };
        }
      }
    ),
  );
  rows.push([
    `-cpu ${cpu}`,
    guest.uses("kvmclock-stable-bit") ? "yes" : "no",
    VCPUS * READS * 3,
    trusted,
    shared,
    writes,
    clamped,
  ]);
}
table(
  ["machine", "STABLE honoured", "reads", "own reading", "via last_value", "cmpxchg", "clamped"],
  rows,
);
console.log(
  `benefit: with bit 24 all ${rows[0][2]} reads use their own vCPU's record (0 touch the ` +
    `shared last_value); without it ${rows[1][4]} reads go through it, ${rows[1][5]} write it ` +
    `and ${rows[1][6]} are clamped`,
);
