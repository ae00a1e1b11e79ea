import { assertEquals, assertThrows } from "@std/assert";
import {
  kvmGetTimeScale,
  publishPvclockVcpuTimeInfo,
  publishPvclockWallClock,
  PVCLOCK_GUEST_STOPPED,
  PVCLOCK_TSC_STABLE_BIT,
  type PvclockUpdate,
} from "@pvkit/abi";
import { ArrayGuestMemory, PvkitError } from "@pvkit/machine";
import { decideKvmclock, Kvmclock, kvmclockRating, PvclockClamp } from "./kvmclock.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, fakeCpu, HookedMemory, info } from "./_fake_cpu.ts";

const GHZ1: PvclockUpdate = {
  tscTimestamp: 1000n,
  systemTime: 50n,
  tscToSystemMul: 0x80000000,
  tscShift: 1,
  flags: 0,
};

Deno.test("Kvmclock.register: pa | 1 to the chosen MSR, per vCPU", () => {
  const mem = new ArrayGuestMemory(0x10000);
  const c0 = new ScriptedGuestCpu({ index: 0, memory: mem });
  const c1 = new ScriptedGuestCpu({ index: 1, memory: mem });
  const clock = new Kvmclock(info(bits(0, 3)));
  assertEquals(clock.register(c0, 0x1000n), true);
  assertEquals(clock.register(c1, 0x1040n), true);
  assertEquals(c0.msrWrites, [{ msr: 0x4b564d01, value: 0x1001n }]);
  assertEquals(c1.msrWrites, [{ msr: 0x4b564d01, value: 0x1041n }]);
  assertEquals(clock.pvtiGpa(1), 0x1040n);

  const old = new Kvmclock(info(bits(0)));
  const c2 = new ScriptedGuestCpu({ memory: mem });
  old.register(c2, 0x2000n);
  assertEquals(c2.msrWrites, [{ msr: 0x12, value: 0x2001n }]);
});

Deno.test("Kvmclock: off without bits 0/3 or with no-kvmclock: no MSR writes at all", () => {
  for (
    const clock of [
      new Kvmclock(info(bits(5))),
      new Kvmclock(info(bits(3)), { noKvmclock: true }),
      new Kvmclock(undefined),
    ]
  ) {
    const cpu = new ScriptedGuestCpu();
    assertEquals(clock.enabled, false);
    assertEquals(clock.register(cpu, 0x1000n), false);
    clock.disable(cpu);
    assertEquals(cpu.log.length, 0);
    const e = assertThrows(() => clock.read(cpu), PvkitError);
    assertEquals(e.code, "kvmclock-not-registered");
    assertEquals(assertThrows(() => clock.wallClock(cpu, 0x10n), PvkitError).code, "kvmclock-off");
  }
  assertEquals(
    decideKvmclock(info(bits(3)), { noKvmclock: true }).reason,
    "disabled by the no-kvmclock parameter",
  );
});

Deno.test("Kvmclock.disable writes 0 to the system-time MSR in use", () => {
  const cpu = new ScriptedGuestCpu();
  const clock = new Kvmclock(info(bits(0)));
  clock.register(cpu, 0x1000n);
  clock.disable(cpu);
  assertEquals(cpu.msrWrites, [{ msr: 0x12, value: 0x1001n }, { msr: 0x12, value: 0n }]);
});

Deno.test("Kvmclock.read: system_time + scaled TSC delta", () => {
  const cpu = new ScriptedGuestCpu({ tsc: 3000n });
  const clock = new Kvmclock(info(bits(3)));
  clock.register(cpu, 0x1000n);
  publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, GHZ1);
  assertEquals(clock.readDetailed(cpu), {
    ns: 2050n,
    raw: 2050n,
    clamped: false,
    stable: false,
    guestStopped: false,
    attempts: 1,
  });
  // 2.5 GHz: one second of ticks.
  const { shift, mul } = kvmGetTimeScale(1_000_000_000n, 2_500_000_000n);
  publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, {
    ...GHZ1,
    tscTimestamp: 0n,
    systemTime: 10_000n,
    tscToSystemMul: mul,
    tscShift: shift,
  });
  cpu.tsc = 2_500_000_000n;
  assertEquals(clock.read(cpu), 10_000n + 999_999_999n);
  assertEquals(clock.tscKhz(cpu), 2_500_000n);
});

Deno.test("Kvmclock.read: an odd version retries (v = version & ~1) until the host finishes", () => {
  const cpu = new ScriptedGuestCpu({ tsc: 3000n });
  const clock = new Kvmclock(info(bits(3)));
  clock.register(cpu, 0x1000n);
  publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, GHZ1); // version 2
  cpu.memory.writeU32(0x1000n, 3); // the host is mid-update
  let reads = 0;
  cpu.onRdtsc = () => {
    reads++;
    // During the first read the host completes: new data, version 4.
    if (reads === 1) cpu.memory.writeU32(0x1000n, 4);
  };
  const r = clock.readDetailed(cpu);
  assertEquals(r.attempts, 2); // 3 & ~1 = 2 ≠ 4, retry; then 4 == 4
  assertEquals(r.ns, 2050n);
  assertEquals(reads, 2);
});

Deno.test("Kvmclock.read: a version that never settles gives up with pvclock-retry-limit", () => {
  const cpu = new ScriptedGuestCpu();
  const clock = new Kvmclock(info(bits(3)), { maxReadAttempts: 5 });
  clock.register(cpu, 0x1000n);
  publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, GHZ1);
  cpu.memory.writeU32(0x1000n, 7);
  const e = assertThrows(() => clock.read(cpu), PvkitError);
  assertEquals(e.code, "pvclock-retry-limit");
});

Deno.test("Kvmclock: without bit 24 the shared clamp keeps two vCPUs monotonic", () => {
  const mem = new ArrayGuestMemory(0x10000);
  const clamp = new PvclockClamp();
  const clock = new Kvmclock(info(bits(3)), { clamp });
  const c0 = new ScriptedGuestCpu({ index: 0, memory: mem, tsc: 5000n });
  const c1 = new ScriptedGuestCpu({ index: 1, memory: mem, tsc: 5000n });
  clock.register(c0, 0x1000n);
  clock.register(c1, 0x1040n);
  // vCPU 1's record is 100 ns behind vCPU 0's; both claim STABLE, which is not trusted.
  publishPvclockVcpuTimeInfo(mem, 0x1000n, { ...GHZ1, flags: PVCLOCK_TSC_STABLE_BIT });
  publishPvclockVcpuTimeInfo(mem, 0x1040n, {
    ...GHZ1,
    systemTime: -50n,
    flags: PVCLOCK_TSC_STABLE_BIT,
  });
  assertEquals(clock.validFlags, 0);
  assertEquals(clock.read(c0), 4050n);
  const r1 = clock.readDetailed(c1);
  assertEquals([r1.raw, r1.ns, r1.clamped, r1.stable], [3950n, 4050n, true, false]);
  assertEquals(clamp.lastValue, 4050n);
  c1.tsc = 6000n; // vCPU 1 moves past the last value
  assertEquals(clock.read(c1), 4950n);
  assertEquals(clamp.lastValue, 4950n);
  clamp.reset();
  assertEquals(clamp.lastValue, 0n);
});

Deno.test("Kvmclock: with bit 24 a STABLE record is returned raw, an unstable one is clamped", () => {
  const mem = new ArrayGuestMemory(0x10000);
  const clock = new Kvmclock(info(bits(3, 24)));
  assertEquals(clock.validFlags, PVCLOCK_TSC_STABLE_BIT);
  const c0 = new ScriptedGuestCpu({ index: 0, memory: mem, tsc: 5000n });
  const c1 = new ScriptedGuestCpu({ index: 1, memory: mem, tsc: 5000n });
  clock.register(c0, 0x1000n);
  clock.register(c1, 0x1040n);
  publishPvclockVcpuTimeInfo(mem, 0x1000n, { ...GHZ1, flags: PVCLOCK_TSC_STABLE_BIT });
  publishPvclockVcpuTimeInfo(mem, 0x1040n, {
    ...GHZ1,
    systemTime: -50n,
    flags: PVCLOCK_TSC_STABLE_BIT,
  });
  assertEquals(clock.read(c0), 4050n);
  const r1 = clock.readDetailed(c1);
  assertEquals([r1.ns, r1.stable, r1.clamped], [3950n, true, false]); // trusted, not clamped
  assertEquals(clock.clamp.lastValue, 0n); // the stable path never touches last_value
  assertEquals(clock.readFlags(c1), PVCLOCK_TSC_STABLE_BIT);
  // Without the flag in the record, the clamp applies again.
  publishPvclockVcpuTimeInfo(mem, 0x1040n, { ...GHZ1, systemTime: -50n, flags: 0 });
  assertEquals(clock.readDetailed(c1).stable, false);
  assertEquals(clock.readFlags(c1), 0);
});

Deno.test("Kvmclock: GUEST_STOPPED is cleared in guest memory by the read", () => {
  const cpu = new ScriptedGuestCpu({ tsc: 3000n });
  const clock = new Kvmclock(info(bits(3, 24)));
  clock.register(cpu, 0x1000n);
  publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, {
    ...GHZ1,
    flags: PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED,
  });
  const r = clock.readDetailed(cpu);
  assertEquals([r.guestStopped, r.stable, r.ns], [true, true, 2050n]);
  assertEquals(cpu.memory.readU8(0x101dn), PVCLOCK_TSC_STABLE_BIT); // STOPPED gone, STABLE kept
  assertEquals(clock.readDetailed(cpu).guestStopped, false);
  // kvm_check_and_clear_guest_paused.
  cpu.memory.writeU8(0x101dn, PVCLOCK_GUEST_STOPPED);
  assertEquals(clock.checkAndClearGuestPaused(cpu), true);
  assertEquals(clock.checkAndClearGuestPaused(cpu), false);
  assertEquals(cpu.memory.readU8(0x101dn), 0);
});

Deno.test("Kvmclock.wallClock: WRMSR(wall MSR, gpa), read {sec,nsec}, add kvmclock", () => {
  const cpu = new ScriptedGuestCpu({ tsc: 3000n });
  const clock = new Kvmclock(info(bits(3)));
  clock.register(cpu, 0x1000n);
  publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, GHZ1);
  // The host fills the record during the WRMSR.
  cpu.onWrmsr = (msr, value) => {
    if (msr === 0x4b564d00) publishPvclockWallClock(cpu.memory, value, 1_700_000_000_999_999_000n);
  };
  const t = clock.wallClock(cpu, 0x800n);
  assertEquals(cpu.msrWrites.at(-1), { msr: 0x4b564d00, value: 0x800n }); // no enable bit
  // 1_700_000_000.999_999_000 s + 2050 ns = 1_700_000_001.000_001_050
  assertEquals(t, { sec: 1_700_000_001n, nsec: 1050 });
});

Deno.test("Kvmclock.wallClock: retries while the wall-clock version is odd or changed", () => {
  const mem = new HookedMemory(0x10000);
  const cpu = new ScriptedGuestCpu({ memory: mem, tsc: 1000n });
  const clock = new Kvmclock(info(bits(0)));
  clock.register(cpu, 0x1000n);
  publishPvclockVcpuTimeInfo(mem, 0x1000n, GHZ1);
  publishPvclockWallClock(mem, 0x800n, 5_000_000_000n); // version 2
  mem.writeU32(0x800n, 5); // odd: the host is writing
  mem.onRead = (gpa, n) => {
    if (gpa === 0x800n && n === 1) mem.writeU32(0x800n, 6); // finishes after the first try
  };
  assertEquals(clock.wallClock(cpu, 0x800n), { sec: 5n, nsec: 50 });
  assertEquals(cpu.msrWrites.at(-1)?.msr, 0x11);
});

Deno.test("Kvmclock: a #GP on the system-time WRMSR is a warning, as Linux's fixup makes it", () => {
  const cpu = new ScriptedGuestCpu({ gpMsrs: [0x4b564d01] });
  const clock = new Kvmclock(info(bits(3)));
  clock.register(cpu, 0x1000n);
  assertEquals(clock.warnings.length, 1);
  assertEquals(clock.warnings[0].includes("WRMSR to 0x4b564d01"), true);
});

Deno.test("Kvmclock.register: the record must be in guest RAM", () => {
  const cpu = fakeCpu({ memory: new ArrayGuestMemory(0x1000) });
  const clock = new Kvmclock(info(bits(3)));
  assertThrows(() => clock.register(cpu, 0xff0n));
  assertEquals(cpu.log.length, 0);
});

Deno.test("Kvmclock.tscKhz is truncated to u32 on a 32-bit guest", () => {
  const cpu = new ScriptedGuestCpu({ longMode: false });
  const clock = new Kvmclock(info(bits(3)));
  clock.register(cpu, 0x1000n);
  // mul = 1, shift = -8: (1e6 << 32) << 8 kHz, far above 2^32.
  publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, { ...GHZ1, tscToSystemMul: 1, tscShift: -8 });
  assertEquals(clock.tscKhz(cpu), BigInt.asUintN(32, (1_000_000n << 32n) << 8n));
});

Deno.test("kvmclockRating: 299 only for an invariant, stable TSC", () => {
  assertEquals(kvmclockRating({ constantTsc: true, nonstopTsc: true }), 299);
  assertEquals(kvmclockRating({ constantTsc: true, nonstopTsc: true, tscUnstable: true }), 400);
  assertEquals(kvmclockRating({ constantTsc: false, nonstopTsc: true }), 400);
});
