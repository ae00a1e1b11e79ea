/**
 * kvmclock (CPUID 0x40000001 EAX bits 0 and 3): the guest reads the time from a pvclock record
 * the host keeps in guest memory (RDTSC plus a scale), with no VM exit. Without it, this
 * example's guest falls back to a clocksource the host emulates (the ACPI PM timer, port 0x608
 * on q35): one exit per read. Also prints a kvmclock reading, the TSC frequency derived from
 * the record's mul/shift (pvclockTscKhz) and the kvmclock wall clock.
 *
 * Run: deno run -A examples/feature_kvmclock.ts
 */

import { boot, exits, run, table, total, us } from "./_harness.ts";

const READS = 1000;
/** The ACPI PM timer on q35 (PMBASE 0x600 + 8): the fallback that traps. */
const ACPI_PM_TIMER = 0x608;

const rows: (string | number)[][] = [];
const perRead: number[] = [];
for (const cpu of ["host", "host,kvmclock=off"]) {
  const { vm, guest } = boot({ cpu });
  const on = guest.uses("kvmclock");
  let elapsed = 0n;
  let loopExits = 0;
  run(vm, [function* (c) {
    if (on) {
      const now = guest.clockRead(c);
      const khz = guest.kvmclock.tscKhz(c);
      const wall = guest.kvmclock.wallClock(c, guest.wallClockGpa);
      const iso = new Date(Number(wall.sec) * 1000).toISOString().replace(".000Z", "Z");
      console.log(`kvmclock now: ${now} ns; TSC from mul/shift: ${khz} kHz`);
      console.log(`wall clock: ${iso} + ${wall.nsec} ns`);
    }
    const t0 = c.vcpu.clock;
    const e0 = total(exits(vm));
    for (let i = 0; i < READS; i++) {
      if (on) guest.clockRead(c);
      else c.vcpu.in(ACPI_PM_TIMER, 4);
      yield { kind: "yield" };
    }
    elapsed = c.vcpu.clock - t0;
    loopExits = total(exits(vm)) - e0;
  }]);
  const n = loopExits;
  perRead.push(Number(elapsed) / READS);
  rows.push([`-cpu ${cpu}`, on ? "kvmclock" : "acpi_pm (trapped)", READS, n, us(elapsed)]);
}
console.log();
table(["machine", "clocksource", "reads", "exits", "guest time (µs)"], rows);
console.log(
  `benefit: ${READS} time reads cost ${rows[0][3]} exits (${perRead[0].toFixed(1)} ns each) ` +
    `with kvmclock vs ${rows[1][3]} exits (${perRead[1].toFixed(1)} ns each) without`,
);
