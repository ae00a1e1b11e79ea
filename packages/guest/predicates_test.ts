// Every predicate's truth table against its Linux formula.

import { assertEquals } from "@std/assert";
import { asyncPfSupported, decideAsyncPf } from "./async_pf.ts";
import { decideHaltpoll, haltpollSupported } from "./haltpoll.ts";
import { kvmclockMsrs, kvmclockSupported } from "./kvmclock.ts";
import { decideMsiExtDestId, msiExtDestIdSupported } from "./msi.ts";
import { pvEoiSupported } from "./pv_eoi.ts";
import { decidePvIpi, pvIpiSupported } from "./pv_ipi.ts";
import { decidePvSpinlock, pvSpinlockSupported } from "./pv_spinlock.ts";
import { decidePvTlbFlush, pvTlbFlushSupported } from "./pv_tlb_flush.ts";
import { decidePvSchedYield, pvSchedYieldSupported } from "./sched_yield.ts";
import { decideStealTime, stealTimeSupported } from "./steal_time.ts";
import { info, truthTable } from "./_fake_cpu.ts";

const REALTIME = 1;

Deno.test("pvTlbFlushSupported: bit 9 && bit 5 && !REALTIME && !MWAIT && CPUs != 1", () => {
  let used = 0;
  for (const [b9, b5, rt, mwait, single] of truthTable(5)) {
    const i = info((b9 ? 1 << 9 : 0) | (b5 ? 1 << 5 : 0), {
      hints: rt ? REALTIME : 0,
      mwait,
      possibleCpus: single ? 1 : 8,
    });
    const want = b9 && b5 && !rt && !mwait && !single;
    assertEquals(pvTlbFlushSupported(i), want, JSON.stringify(i));
    assertEquals(decidePvTlbFlush(i).used, want);
    if (want) used++;
  }
  assertEquals(used, 1);
  assertEquals(pvTlbFlushSupported(undefined), false);
});

Deno.test("pvSchedYieldSupported: bit 13 && bit 5 && !REALTIME && !MWAIT && CPUs != 1", () => {
  for (const [b13, b5, rt, mwait, single] of truthTable(5)) {
    const i = info((b13 ? 1 << 13 : 0) | (b5 ? 1 << 5 : 0), {
      hints: rt ? REALTIME : 0,
      mwait,
      possibleCpus: single ? 1 : 2,
    });
    const want = b13 && b5 && !rt && !mwait && !single;
    assertEquals(pvSchedYieldSupported(i), want, JSON.stringify(i));
    assertEquals(decidePvSchedYield(i).used, want);
  }
  assertEquals(pvSchedYieldSupported(undefined), false);
});

Deno.test("pvIpiSupported: bit 11 && CPUs != 1; REALTIME and MWAIT do not matter", () => {
  for (const [b11, rt, mwait, single] of truthTable(4)) {
    const i = info(b11 ? 1 << 11 : 0, {
      hints: rt ? REALTIME : 0,
      mwait,
      possibleCpus: single ? 1 : 300,
    });
    assertEquals(pvIpiSupported(i), b11 && !single);
    assertEquals(decidePvIpi(i).used, b11 && !single);
  }
  assertEquals(pvIpiSupported(undefined), false);
});

Deno.test("pvSpinlockSupported: bit 7 && !REALTIME && CPUs > 1 && !nopvspin, Linux's reasons", () => {
  for (const [b7, rt, single, nopvspin] of truthTable(4)) {
    const i = info(b7 ? 1 << 7 : 0, { hints: rt ? REALTIME : 0, possibleCpus: single ? 1 : 2 });
    const want = b7 && !rt && !single && !nopvspin;
    assertEquals(pvSpinlockSupported(i, { nopvspin }), want);
    const reason = decidePvSpinlock(i, { nopvspin }).reason;
    const expected = !b7
      ? "PV spinlocks disabled, no host support"
      : rt
      ? "PV spinlocks disabled with KVM_HINTS_REALTIME hints"
      : single
      ? "PV spinlocks disabled, single CPU"
      : nopvspin
      ? 'PV spinlocks disabled, forced by "nopvspin" parameter'
      : "PV spinlocks enabled";
    assertEquals(reason, expected);
  }
});

Deno.test("asyncPfSupported: bit 14 && !no-kvmapf; bit 4 alone is not enough", () => {
  for (const [b14, b4, noKvmapf] of truthTable(3)) {
    const i = info((b14 ? 1 << 14 : 0) | (b4 ? 1 << 4 : 0));
    assertEquals(asyncPfSupported(i, { noKvmapf }), b14 && !noKvmapf);
    assertEquals(decideAsyncPf(i, { noKvmapf }).used, b14 && !noKvmapf);
  }
  assertEquals(asyncPfSupported(undefined), false);
});

Deno.test("haltpollSupported: !idle= && KVM && (REALTIME || force) && bit 12", () => {
  for (const [b12, rt, force, idleOverride] of truthTable(4)) {
    const i = info(b12 ? 1 << 12 : 0, { hints: rt ? REALTIME : 0 });
    const want = b12 && (rt || force) && !idleOverride;
    assertEquals(haltpollSupported(i, { force, idleOverride }), want);
    assertEquals(decideHaltpoll(i, { force, idleOverride }).used, want);
  }
  assertEquals(haltpollSupported(undefined, { force: true }), false);
  assertEquals(
    decideHaltpoll(info(0, { hints: REALTIME })).reason,
    "host does not support poll control",
  );
});

Deno.test("kvmclock: CLOCKSOURCE2 first, then CLOCKSOURCE, else off; no-kvmclock wins", () => {
  for (const [b3, b0, noKvmclock] of truthTable(3)) {
    const i = info((b3 ? 1 << 3 : 0) | (b0 ? 1 : 0));
    const want = noKvmclock
      ? undefined
      : b3
      ? { systemTime: 0x4b564d01, wallClock: 0x4b564d00 }
      : b0
      ? { systemTime: 0x12, wallClock: 0x11 }
      : undefined;
    assertEquals(kvmclockMsrs(i, { noKvmclock }), want);
    assertEquals(kvmclockSupported(i, { noKvmclock }), want !== undefined);
  }
  assertEquals(kvmclockMsrs(undefined), undefined);
});

Deno.test("single-bit predicates: steal time (5), PV EOI (6), MSI ext dest ID (15)", () => {
  for (let b = 0; b < 32; b++) {
    const i = info((1 << b) >>> 0);
    assertEquals(stealTimeSupported(i), b === 5);
    assertEquals(decideStealTime(i).used, b === 5);
    assertEquals(pvEoiSupported(i), b === 6);
    assertEquals(msiExtDestIdSupported(i), b === 15);
    assertEquals(decideMsiExtDestId(i, { cpuHasX2apic: true }).used, b === 15);
    assertEquals(decideMsiExtDestId(i, { cpuHasX2apic: false }).used, false);
  }
  assertEquals(decideStealTime(info(1 << 5), { noStealAcc: true }).used, true);
});
