import { assertEquals, assertThrows } from "@std/assert";
import { ArrayGuestMemory, GuestMemoryError } from "@pvkit/machine";
import {
  PVCLOCK_COUNTS_FROM_ZERO,
  PVCLOCK_GUEST_STOPPED,
  PVCLOCK_TSC_STABLE_BIT,
  PVCLOCK_VCPU_TIME_INFO_ALIGN,
  PVCLOCK_VCPU_TIME_INFO_OFFSETS,
  PVCLOCK_VCPU_TIME_INFO_SIZE,
  type PvclockVcpuTimeInfo,
  readPvclockVcpuTimeInfo,
  writePvclockVcpuTimeInfo,
} from "./pvclock_vcpu_time_info.ts";
import { le, patternedMemory, RecordingMemory, SubclassedMemory } from "./_test_memory.ts";

const RECORD: PvclockVcpuTimeInfo = {
  version: 0x01020304,
  tscTimestamp: 0x1112_1314_1516_1718n,
  systemTime: 0x2122_2324_2526_2728n,
  tscToSystemMul: 0xcccccccc,
  tscShift: -1,
  flags: PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED,
};

Deno.test("pvclock_vcpu_time_info: size, alignment, offsets and flags match spec §3", () => {
  assertEquals(PVCLOCK_VCPU_TIME_INFO_SIZE, 32);
  assertEquals(PVCLOCK_VCPU_TIME_INFO_ALIGN, 4);
  assertEquals(PVCLOCK_VCPU_TIME_INFO_OFFSETS, {
    version: 0,
    pad0: 4,
    tscTimestamp: 8,
    systemTime: 16,
    tscToSystemMul: 24,
    tscShift: 28,
    flags: 29,
    pad: 30,
  });
  assertEquals([PVCLOCK_TSC_STABLE_BIT, PVCLOCK_GUEST_STOPPED, PVCLOCK_COUNTS_FROM_ZERO], [
    1,
    2,
    4,
  ]);
});

Deno.test("pvclock_vcpu_time_info: writes the exact bytes, pads zeroed, neighbours untouched", () => {
  const mem = patternedMemory(256);
  const before = mem.bytes.slice();
  writePvclockVcpuTimeInfo(mem, 0x40n, RECORD);
  const expected = [
    ...le(RECORD.version, 4),
    0,
    0,
    0,
    0, // pad0
    ...le(RECORD.tscTimestamp, 8),
    ...le(RECORD.systemTime, 8),
    ...le(RECORD.tscToSystemMul, 4),
    0xff, // tsc_shift -1 as s8
    0x03, // flags
    0,
    0, // pad
  ];
  assertEquals([...mem.bytes.slice(0x40, 0x60)], expected);
  assertEquals(mem.bytes.slice(0, 0x40), before.slice(0, 0x40));
  assertEquals(mem.bytes.slice(0x60), before.slice(0x60));
});

Deno.test("pvclock_vcpu_time_info: round trips on every kind of GuestMemory", () => {
  const memories = [
    new ArrayGuestMemory(4096),
    new RecordingMemory(4096),
    new SubclassedMemory(4096),
  ];
  for (const mem of memories) {
    writePvclockVcpuTimeInfo(mem, 0xfe0n, RECORD); // ends exactly at the end of RAM
    assertEquals(readPvclockVcpuTimeInfo(mem, 0xfe0n), RECORD);
  }
  // The subclass goes through its own readBytes, not the in-place fast path.
  assertEquals((memories[2] as SubclassedMemory).readBytesCalls, 1);
});

Deno.test("pvclock_vcpu_time_info: decodes tsc_shift as s8 and truncates values to field widths", () => {
  const mem = new ArrayGuestMemory(64);
  mem.writeU8(28n, 0x80);
  assertEquals(readPvclockVcpuTimeInfo(mem, 0n).tscShift, -128);
  mem.writeU8(28n, 0x7f);
  assertEquals(readPvclockVcpuTimeInfo(mem, 0n).tscShift, 127);
  writePvclockVcpuTimeInfo(mem, 0n, {
    version: 0x1_0000_0002,
    tscTimestamp: (1n << 64n) + 5n,
    systemTime: -1n,
    tscToSystemMul: -1,
    tscShift: 255,
    flags: 0x101,
  });
  assertEquals(readPvclockVcpuTimeInfo(mem, 0n), {
    version: 2,
    tscTimestamp: 5n,
    systemTime: 0xffff_ffff_ffff_ffffn,
    tscToSystemMul: 0xffffffff,
    tscShift: -1,
    flags: 1,
  });
});

Deno.test("pvclock_vcpu_time_info: out-of-range GPAs throw GuestMemoryError, nothing written", () => {
  for (const mem of [patternedMemory(4096), new RecordingMemory(4096)]) {
    const bytes = mem instanceof ArrayGuestMemory ? mem.bytes : mem.inner.bytes;
    const before = bytes.slice();
    for (const gpa of [0xfe1n, 0xfffn, 0x1000n, -1n, 1n << 63n, (1n << 64n) - 1n]) {
      const e = assertThrows(() => writePvclockVcpuTimeInfo(mem, gpa, RECORD), GuestMemoryError);
      assertEquals([(e as GuestMemoryError).gpa, (e as GuestMemoryError).length], [gpa, 32]);
      assertThrows(() => readPvclockVcpuTimeInfo(mem, gpa), GuestMemoryError);
    }
    assertEquals(bytes, before);
    if (mem instanceof RecordingMemory) assertEquals(mem.writes, []);
  }
});
