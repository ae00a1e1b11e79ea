import { assertEquals, assertThrows } from "@std/assert";
import { ArrayGuestMemory, GuestMemoryError } from "@pvkit/machine";
import {
  KVM_ASYNC_PF_WAKE_ALL_TOKEN,
  KVM_PV_REASON_PAGE_NOT_PRESENT,
  KVM_PV_REASON_PAGE_READY,
  KVM_VCPU_PV_APF_DATA_ALIGN,
  KVM_VCPU_PV_APF_DATA_HOST_BYTES,
  KVM_VCPU_PV_APF_DATA_OFFSETS,
  KVM_VCPU_PV_APF_DATA_SIZE,
  KVM_VCPU_PV_APF_DATA_UAPI_SIZE,
  readKvmVcpuPvApfData,
  writeKvmVcpuPvApfData,
} from "./kvm_vcpu_pv_apf_data.ts";
import { le, patternedMemory, RecordingMemory, SubclassedMemory } from "./_test_memory.ts";

Deno.test("kvm_vcpu_pv_apf_data: sizes, offsets and reasons match spec §3", () => {
  assertEquals(KVM_VCPU_PV_APF_DATA_SIZE, 64);
  assertEquals(KVM_VCPU_PV_APF_DATA_UAPI_SIZE, 68);
  assertEquals(KVM_VCPU_PV_APF_DATA_HOST_BYTES, 8);
  assertEquals(KVM_VCPU_PV_APF_DATA_ALIGN, 64);
  assertEquals(KVM_VCPU_PV_APF_DATA_OFFSETS, { flags: 0, token: 4, pad: 8, enabled: 64 });
  assertEquals([KVM_PV_REASON_PAGE_NOT_PRESENT, KVM_PV_REASON_PAGE_READY], [1, 2]);
  assertEquals(KVM_ASYNC_PF_WAKE_ALL_TOKEN, 0xffffffff);
});

Deno.test("kvm_vcpu_pv_apf_data: writes 64 exact bytes and leaves the guest's `enabled` alone", () => {
  const mem = patternedMemory(256);
  const before = mem.bytes.slice();
  writeKvmVcpuPvApfData(mem, 0x40n, { flags: 1, token: 0x0000_1003 });
  assertEquals([...mem.bytes.slice(0x40, 0x80)], [
    ...le(1, 4),
    ...le(0x1003, 4),
    ...new Array(56).fill(0),
  ]);
  // offset 64..67 (`enabled`) and everything else unchanged
  assertEquals(mem.bytes.slice(0x80), before.slice(0x80));
  assertEquals(mem.bytes.slice(0, 0x40), before.slice(0, 0x40));
});

Deno.test("kvm_vcpu_pv_apf_data: round trips on every kind of GuestMemory", () => {
  for (
    const mem of [new ArrayGuestMemory(128), new RecordingMemory(128), new SubclassedMemory(128)]
  ) {
    const rec = { flags: 0, token: KVM_ASYNC_PF_WAKE_ALL_TOKEN };
    writeKvmVcpuPvApfData(mem, 0x40n, rec);
    assertEquals(readKvmVcpuPvApfData(mem, 0x40n), rec);
  }
});

Deno.test("kvm_vcpu_pv_apf_data: out-of-range GPAs throw GuestMemoryError, nothing written", () => {
  const mem = patternedMemory(128);
  const before = mem.bytes.slice();
  for (const gpa of [0x41n, 0x80n, -1n]) {
    const e = assertThrows(
      () => writeKvmVcpuPvApfData(mem, gpa, { flags: 1, token: 1 }),
      GuestMemoryError,
    );
    assertEquals((e as GuestMemoryError).length, 64);
    assertThrows(() => readKvmVcpuPvApfData(mem, gpa), GuestMemoryError);
  }
  assertEquals(mem.bytes, before);
});
