import { assertEquals, assertThrows } from "@std/assert";
import { ArrayGuestMemory, GuestMemoryError } from "@pvkit/machine";
import {
  KVM_CLOCK_PAIRING_ALIGN,
  KVM_CLOCK_PAIRING_OFFSETS,
  KVM_CLOCK_PAIRING_SIZE,
  readKvmClockPairing,
  writeKvmClockPairing,
} from "./kvm_clock_pairing.ts";
import { le, patternedMemory, RecordingMemory, SubclassedMemory } from "./_test_memory.ts";

const RECORD = { sec: 1_700_000_000n, nsec: 123_456_789n, tsc: 0xfedc_ba98_7654_3210n, flags: 0 };

Deno.test("kvm_clock_pairing: size, alignment and offsets match spec §3", () => {
  assertEquals(KVM_CLOCK_PAIRING_SIZE, 64);
  assertEquals(KVM_CLOCK_PAIRING_ALIGN, 8);
  assertEquals(KVM_CLOCK_PAIRING_OFFSETS, { sec: 0, nsec: 8, tsc: 16, flags: 24, pad: 28 });
});

Deno.test("kvm_clock_pairing: writes the exact 64 bytes, pad zeroed, neighbours untouched", () => {
  const mem = patternedMemory(256);
  const before = mem.bytes.slice();
  writeKvmClockPairing(mem, 0x40n, RECORD);
  assertEquals([...mem.bytes.slice(0x40, 0x80)], [
    ...le(RECORD.sec, 8),
    ...le(RECORD.nsec, 8),
    ...le(RECORD.tsc, 8),
    ...le(RECORD.flags, 4),
    ...new Array(36).fill(0), // pad[9]
  ]);
  assertEquals(mem.bytes.slice(0, 0x40), before.slice(0, 0x40));
  assertEquals(mem.bytes.slice(0x80), before.slice(0x80));
});

Deno.test("kvm_clock_pairing: round trips, s64 sec/nsec keep their sign", () => {
  for (
    const mem of [new ArrayGuestMemory(128), new RecordingMemory(128), new SubclassedMemory(128)]
  ) {
    writeKvmClockPairing(mem, 0x40n, RECORD);
    assertEquals(readKvmClockPairing(mem, 0x40n), RECORD);
    const negative = { sec: -1n, nsec: -(1n << 63n), tsc: 0n, flags: 0 };
    writeKvmClockPairing(mem, 0n, negative);
    assertEquals(readKvmClockPairing(mem, 0n), negative);
  }
});

Deno.test("kvm_clock_pairing: out-of-range GPAs throw GuestMemoryError, nothing written", () => {
  const mem = patternedMemory(128);
  const before = mem.bytes.slice();
  for (const gpa of [0x41n, 0x80n, -8n]) {
    const e = assertThrows(() => writeKvmClockPairing(mem, gpa, RECORD), GuestMemoryError);
    assertEquals((e as GuestMemoryError).length, 64);
    assertThrows(() => readKvmClockPairing(mem, gpa), GuestMemoryError);
  }
  assertEquals(mem.bytes, before);
});
