import { assertEquals, assertThrows } from "@std/assert";
import { ArrayGuestMemory, GuestMemoryError } from "@pvkit/machine";
import {
  PVCLOCK_WALL_CLOCK_ALIGN,
  PVCLOCK_WALL_CLOCK_OFFSETS,
  PVCLOCK_WALL_CLOCK_SIZE,
  readPvclockWallClock,
  writePvclockWallClock,
} from "./pvclock_wall_clock.ts";
import { le, patternedMemory, RecordingMemory, SubclassedMemory } from "./_test_memory.ts";

const RECORD = { version: 6, sec: 0x6553f100, nsec: 999_999_999 };

Deno.test("pvclock_wall_clock: size, alignment and offsets match spec §3", () => {
  assertEquals(PVCLOCK_WALL_CLOCK_SIZE, 12);
  assertEquals(PVCLOCK_WALL_CLOCK_ALIGN, 4);
  assertEquals(PVCLOCK_WALL_CLOCK_OFFSETS, { version: 0, sec: 4, nsec: 8 });
});

Deno.test("pvclock_wall_clock: writes the exact bytes, neighbours untouched", () => {
  const mem = patternedMemory(64);
  const before = mem.bytes.slice();
  writePvclockWallClock(mem, 0x10n, RECORD);
  assertEquals([...mem.bytes.slice(0x10, 0x1c)], [
    ...le(RECORD.version, 4),
    ...le(RECORD.sec, 4),
    ...le(RECORD.nsec, 4),
  ]);
  assertEquals(mem.bytes.slice(0, 0x10), before.slice(0, 0x10));
  assertEquals(mem.bytes.slice(0x1c), before.slice(0x1c));
});

Deno.test("pvclock_wall_clock: round trips on every kind of GuestMemory; u32 truncation", () => {
  for (const mem of [new ArrayGuestMemory(64), new RecordingMemory(64), new SubclassedMemory(64)]) {
    writePvclockWallClock(mem, 0x34n, RECORD); // ends at the end of RAM
    assertEquals(readPvclockWallClock(mem, 0x34n), RECORD);
    writePvclockWallClock(mem, 0n, { version: -1, sec: 2 ** 32 + 7, nsec: 1 });
    assertEquals(readPvclockWallClock(mem, 0n), { version: 0xffffffff, sec: 7, nsec: 1 });
  }
});

Deno.test("pvclock_wall_clock: out-of-range GPAs throw GuestMemoryError, nothing written", () => {
  const mem = patternedMemory(64);
  const before = mem.bytes.slice();
  for (const gpa of [0x35n, 0x40n, -4n, 1n << 62n]) {
    const e = assertThrows(() => writePvclockWallClock(mem, gpa, RECORD), GuestMemoryError);
    assertEquals((e as GuestMemoryError).length, 12);
    assertThrows(() => readPvclockWallClock(mem, gpa), GuestMemoryError);
  }
  assertEquals(mem.bytes, before);
});
