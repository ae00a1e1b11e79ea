import { assertEquals, assertThrows } from "@std/assert";
import { ArrayGuestMemory, GuestMemoryError, PvkitError } from "@pvkit/machine";
import {
  accumulateStealTime,
  beginPvclockUpdate,
  beginSeqUpdate,
  DEFAULT_SEQ_READ_ATTEMPTS,
  endPvclockUpdate,
  endSeqUpdate,
  publishPvclockVcpuTimeInfo,
  publishPvclockWallClock,
  pvclockVersionedRead,
  readPvclockVcpuTimeInfoConsistent,
  seqVersionedRead,
} from "./seqlock.ts";
import {
  PVCLOCK_GUEST_STOPPED,
  PVCLOCK_TSC_STABLE_BIT,
  readPvclockVcpuTimeInfo,
} from "./pvclock_vcpu_time_info.ts";
import { readPvclockWallClock } from "./pvclock_wall_clock.ts";
import { readKvmStealTime, writeKvmStealTime } from "./kvm_steal_time.ts";
import { patternedMemory, RecordingMemory, SubclassedMemory } from "./_test_memory.ts";

const UPDATE = {
  tscTimestamp: 1000n,
  systemTime: 2000n,
  tscToSystemMul: 0x80000000,
  tscShift: 1,
  flags: PVCLOCK_TSC_STABLE_BIT,
};

// ---------------------------------------------------------------------------------------------
// Writers: version transitions

Deno.test("pvclock writer: (v + 1) | 1, then + 1, with u32 wrap", () => {
  const mem = new ArrayGuestMemory(16);
  // [start, odd written at begin, even written at end]
  const cases: [number, number, number][] = [
    [0, 1, 2],
    [2, 3, 4],
    [3, 5, 6], // an odd (torn) version skips ahead and stays odd
    [0xfffffffe, 0xffffffff, 0],
    [0xffffffff, 1, 2], // (0xffffffff + 1) wraps to 0, | 1 = 1
  ];
  for (const [start, odd, even] of cases) {
    mem.writeU32(4n, start);
    assertEquals(beginPvclockUpdate(mem, 4n), odd, `begin from ${start}`);
    assertEquals(mem.readU32(4n), odd);
    assertEquals(endPvclockUpdate(mem, 4n, odd), even, `end from ${start}`);
    assertEquals(mem.readU32(4n), even);
  }
});

Deno.test("steal/wall writer: odd → +1, then +1 (odd), then +1 (even), with u32 wrap", () => {
  const mem = new ArrayGuestMemory(16);
  const cases: [number, number, number][] = [
    [0, 1, 2],
    [4, 5, 6],
    [5, 7, 8],
    [0xfffffffe, 0xffffffff, 0],
    [0xffffffff, 1, 2], // odd: +1 wraps to 0, then +1 = 1
  ];
  for (const [start, odd, even] of cases) {
    mem.writeU32(8n, start);
    assertEquals(beginSeqUpdate(mem, 8n), odd, `begin from ${start}`);
    assertEquals(mem.readU32(8n), odd);
    assertEquals(endSeqUpdate(mem, 8n, odd), even, `end from ${start}`);
    assertEquals(mem.readU32(8n), even);
  }
});

Deno.test("publishPvclockVcpuTimeInfo: odd version, struct carrying it, then even version", () => {
  const mem = new RecordingMemory(4096);
  mem.inner.writeU32(0x100n, 6);
  assertEquals(publishPvclockVcpuTimeInfo(mem, 0x100n, UPDATE), 8);
  const writes = mem.writes;
  assertEquals(writes.map((w) => [w.op, w.gpa]), [
    ["writeU32", 0x100n],
    ["writeBytes", 0x100n],
    ["writeU32", 0x100n],
  ]);
  assertEquals(writes[0].value, 7);
  const struct = writes[1].value as Uint8Array;
  assertEquals(new DataView(struct.buffer).getUint32(0, true), 7); // the struct carries v
  assertEquals(writes[2].value, 8);
  assertEquals(readPvclockVcpuTimeInfo(mem, 0x100n), { version: 8, ...UPDATE });
});

Deno.test("publishPvclockVcpuTimeInfo keeps a GUEST_STOPPED the guest still holds", () => {
  const mem = new ArrayGuestMemory(4096);
  publishPvclockVcpuTimeInfo(mem, 0x40n, { ...UPDATE, flags: PVCLOCK_GUEST_STOPPED });
  publishPvclockVcpuTimeInfo(mem, 0x40n, UPDATE); // host no longer sets it
  assertEquals(
    readPvclockVcpuTimeInfo(mem, 0x40n).flags,
    PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED,
  );
  mem.writeU8(0x40n + 29n, PVCLOCK_TSC_STABLE_BIT); // the guest clears it after reading
  publishPvclockVcpuTimeInfo(mem, 0x40n, UPDATE);
  assertEquals(readPvclockVcpuTimeInfo(mem, 0x40n).flags, PVCLOCK_TSC_STABLE_BIT);
});

Deno.test("publishPvclockWallClock: version protocol and sec/nsec split (sec wraps in 2106)", () => {
  const mem = new RecordingMemory(64);
  mem.inner.writeU32(0x10n, 3); // odd leftover: → 5 → 6
  const epoch = 1_700_000_000n * 1_000_000_000n + 42n;
  assertEquals(publishPvclockWallClock(mem, 0x10n, epoch), 6);
  assertEquals(mem.writes.map((w) => [w.op, w.value instanceof Uint8Array ? "struct" : w.value]), [
    ["writeU32", 5],
    ["writeBytes", "struct"],
    ["writeU32", 6],
  ]);
  assertEquals(readPvclockWallClock(mem, 0x10n), { version: 6, sec: 1_700_000_000, nsec: 42 });
  publishPvclockWallClock(mem, 0x10n, (1n << 32n) * 1_000_000_000n + 999_999_999n);
  assertEquals(readPvclockWallClock(mem, 0x10n), { version: 8, sec: 0, nsec: 999_999_999 });
});

Deno.test("accumulateStealTime adds to guest memory's value, mod 2^64, in the version protocol", () => {
  const mem = new ArrayGuestMemory(128);
  writeKvmStealTime(mem, 0x40n, { steal: 100n, version: 2, flags: 0, preempted: 1 });
  assertEquals(accumulateStealTime(mem, 0x40n, 50n), 150n);
  assertEquals(readKvmStealTime(mem, 0x40n), { steal: 150n, version: 4, flags: 0, preempted: 1 });
  mem.writeU64(0x40n, 0xffff_ffff_ffff_fff0n);
  assertEquals(accumulateStealTime(mem, 0x40n, 0x20n), 0x10n);
  assertEquals(readKvmStealTime(mem, 0x40n).version, 6);
});

Deno.test("writers throw GuestMemoryError and write nothing when the record is out of RAM", () => {
  const mem = new RecordingMemory(128);
  assertThrows(() => publishPvclockVcpuTimeInfo(mem, 0x61n, UPDATE), GuestMemoryError);
  assertThrows(() => publishPvclockWallClock(mem, 0x75n, 5n), GuestMemoryError);
  assertThrows(() => accumulateStealTime(mem, 0x41n, 5n), GuestMemoryError);
  assertThrows(() => publishPvclockVcpuTimeInfo(mem, -1n, UPDATE), GuestMemoryError);
  assertEquals(mem.writes, []);
});

// ---------------------------------------------------------------------------------------------
// Readers

Deno.test("pvclock reader: consistent even version reads in one attempt", () => {
  for (
    const mem of [new ArrayGuestMemory(4096), new RecordingMemory(4096), new SubclassedMemory(4096)]
  ) {
    publishPvclockVcpuTimeInfo(mem, 0x80n, UPDATE);
    const r = readPvclockVcpuTimeInfoConsistent(mem, 0x80n);
    assertEquals(r, { kind: "ok", value: { version: 2, ...UPDATE }, version: 2, attempts: 1 });
  }
});

Deno.test("pvclock reader: an odd version always retries, up to the cap", () => {
  const mem = patternedMemory(4096);
  mem.writeU32(0x80n, 7);
  assertEquals(readPvclockVcpuTimeInfoConsistent(mem, 0x80n, 10), {
    kind: "retry-limit",
    version: 7,
    attempts: 10,
  });
  assertEquals(
    readPvclockVcpuTimeInfoConsistent(mem, 0x80n).attempts,
    DEFAULT_SEQ_READ_ATTEMPTS,
  );
  assertEquals(pvclockVersionedRead(mem, 0x80n, () => 1, 3).kind, "retry-limit");
});

Deno.test("pvclock reader: retries while a concurrent writer changes the version", () => {
  const mem = new RecordingMemory(4096);
  publishPvclockVcpuTimeInfo(mem, 0x80n, UPDATE);
  // A "concurrent" host update lands between the guest's first and second version reads,
  // on the first two attempts.
  mem.onReadU32 = (_gpa, n) => {
    if (n === 1 || n === 3) publishPvclockVcpuTimeInfo(mem.inner, 0x80n, UPDATE);
  };
  const r = readPvclockVcpuTimeInfoConsistent(mem, 0x80n);
  assertEquals(r.kind, "ok");
  assertEquals(r.attempts, 3);
  assertEquals(r.version, 6);
});

Deno.test("steal/wall reader: retries while odd or changed, then succeeds", () => {
  const mem = new RecordingMemory(128);
  mem.inner.writeU32(8n, 5); // odd: update in progress
  mem.inner.writeU64(0n, 777n);
  mem.onReadU32 = (_gpa, n) => {
    if (n === 2) mem.inner.writeU32(8n, 6); // the writer finishes during attempt 1
    if (n === 3) mem.inner.writeU32(8n, 8); // and updates again during attempt 2
  };
  const r = seqVersionedRead(mem, 8n, () => mem.inner.readU64(0n));
  assertEquals(r, { kind: "ok", value: 777n, version: 8, attempts: 3 });
});

Deno.test("steal/wall reader: a stuck odd version ends in retry-limit, not a hang", () => {
  const mem = new ArrayGuestMemory(64);
  mem.writeU32(8n, 9);
  let reads = 0;
  const r = seqVersionedRead(mem, 8n, () => ++reads, 25);
  assertEquals(r, { kind: "retry-limit", version: 9, attempts: 25 });
  assertEquals(reads, 25);
});

Deno.test("readers reject a non-positive attempt cap and out-of-range GPAs", () => {
  const mem = new ArrayGuestMemory(64);
  for (const n of [0, -1, 1.5, NaN]) {
    const e = assertThrows(() => seqVersionedRead(mem, 0n, () => 0, n), PvkitError);
    assertEquals((e as PvkitError).code, "invalid-retry-limit");
    assertThrows(() => pvclockVersionedRead(mem, 0n, () => 0, n), PvkitError);
    assertThrows(() => readPvclockVcpuTimeInfoConsistent(mem, 0n, n), PvkitError);
  }
  assertThrows(() => readPvclockVcpuTimeInfoConsistent(mem, 0x21n), GuestMemoryError);
  assertThrows(
    () => readPvclockVcpuTimeInfoConsistent(new RecordingMemory(64), 0x21n),
    GuestMemoryError,
  );
  assertThrows(() => seqVersionedRead(mem, 0x3dn, () => 0), GuestMemoryError);
});
