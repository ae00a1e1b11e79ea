import { assertEquals, assertThrows } from "@std/assert";
import { ArrayGuestMemory, GuestMemoryError } from "@pvkit/machine";
import {
  KVM_STEAL_TIME_ALIGN,
  KVM_STEAL_TIME_OFFSETS,
  KVM_STEAL_TIME_SIZE,
  KVM_VCPU_FLUSH_TLB,
  KVM_VCPU_PREEMPTED,
  readKvmStealTime,
  writeKvmStealTime,
} from "./kvm_steal_time.ts";
import { le, patternedMemory, RecordingMemory, SubclassedMemory } from "./_test_memory.ts";

const RECORD = {
  steal: 0x0102_0304_0506_0708n,
  version: 10,
  flags: 0,
  preempted: KVM_VCPU_PREEMPTED | KVM_VCPU_FLUSH_TLB,
};

Deno.test("kvm_steal_time: size, alignment, offsets and preempted bits match spec §3", () => {
  assertEquals(KVM_STEAL_TIME_SIZE, 64);
  assertEquals(KVM_STEAL_TIME_ALIGN, 64);
  assertEquals(KVM_STEAL_TIME_OFFSETS, {
    steal: 0,
    version: 8,
    flags: 12,
    preempted: 16,
    u8Pad: 17,
    pad: 20,
  });
  assertEquals([KVM_VCPU_PREEMPTED, KVM_VCPU_FLUSH_TLB], [1, 2]);
});

Deno.test("kvm_steal_time: writes the exact 64 bytes, pads zeroed, neighbours untouched", () => {
  const mem = patternedMemory(256);
  const before = mem.bytes.slice();
  writeKvmStealTime(mem, 0x40n, RECORD);
  assertEquals([...mem.bytes.slice(0x40, 0x80)], [
    ...le(RECORD.steal, 8),
    ...le(RECORD.version, 4),
    ...le(RECORD.flags, 4),
    0x03,
    ...new Array(3 + 44).fill(0), // u8_pad[3], pad[11]
  ]);
  assertEquals(mem.bytes.slice(0, 0x40), before.slice(0, 0x40));
  assertEquals(mem.bytes.slice(0x80), before.slice(0x80));
});

Deno.test("kvm_steal_time: round trips on every kind of GuestMemory", () => {
  for (
    const mem of [new ArrayGuestMemory(128), new RecordingMemory(128), new SubclassedMemory(128)]
  ) {
    writeKvmStealTime(mem, 0x40n, RECORD);
    assertEquals(readKvmStealTime(mem, 0x40n), RECORD);
  }
});

Deno.test("kvm_steal_time: out-of-range GPAs throw GuestMemoryError, nothing written", () => {
  const mem = new RecordingMemory(128);
  mem.inner.bytes.fill(0xaa);
  for (const gpa of [0x41n, 0x80n, -64n]) {
    const e = assertThrows(() => writeKvmStealTime(mem, gpa, RECORD), GuestMemoryError);
    assertEquals((e as GuestMemoryError).length, 64);
    assertThrows(() => readKvmStealTime(mem, gpa), GuestMemoryError);
  }
  assertEquals(mem.writes, []);
  assertEquals(mem.inner.bytes.every((b) => b === 0xaa), true);
});
