import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  allocKvmCpuid2,
  type CpuidEntry,
  decodeKvmCpuid2,
  encodeKvmCpuid2,
  findCpuidEntry,
  KVM_CPUID2_HEADER_SIZE,
  KVM_CPUID_ENTRY2_SIZE,
  kvmCpuid2Size,
} from "./cpuid2.ts";

const ENTRIES: CpuidEntry[] = [
  {
    function: 0x40000000,
    index: 0,
    flags: 0,
    eax: 0x40000001,
    ebx: 0x4b4d564b,
    ecx: 0x564b4d56,
    edx: 0x4d,
  },
  { function: 0x40000001, index: 0, flags: 0, eax: 0x01007efb, ebx: 0, ecx: 0, edx: 0 },
  {
    function: 0xd,
    index: 1,
    flags: 1,
    eax: 0xffffffff,
    ebx: 0x80000000,
    ecx: 0x12345678,
    edx: 0xdeadbeef,
  },
];

Deno.test("encodeKvmCpuid2 writes the header and each field at its uapi offset", () => {
  const bytes = encodeKvmCpuid2(ENTRIES);
  assertEquals(bytes.byteLength, 8 + 3 * 40);
  assertEquals(KVM_CPUID2_HEADER_SIZE, 8);
  assertEquals(KVM_CPUID_ENTRY2_SIZE, 40);
  const v = new DataView(bytes.buffer);
  assertEquals(v.getUint32(0, true), 3); // nent @0
  assertEquals(v.getUint32(4, true), 0); // padding @4
  // Entry 2 starts at 8 + 2 * 40 = 88.
  const e = 88;
  assertEquals(v.getUint32(e + 0, true), 0xd); // function @0
  assertEquals(v.getUint32(e + 4, true), 1); // index @4
  assertEquals(v.getUint32(e + 8, true), 1); // flags @8
  assertEquals(v.getUint32(e + 12, true), 0xffffffff); // eax @12
  assertEquals(v.getUint32(e + 16, true), 0x80000000); // ebx @16
  assertEquals(v.getUint32(e + 20, true), 0x12345678); // ecx @20
  assertEquals(v.getUint32(e + 24, true), 0xdeadbeef); // edx @24
  assertEquals([...bytes.subarray(e + 28, e + 40)], new Array(12).fill(0)); // padding[3] @28
  // Little-endian byte order: entry 1's EAX 0x01007efb at 8 + 40 + 12 = 60.
  assertEquals([...bytes.subarray(60, 64)], [0xfb, 0x7e, 0x00, 0x01]);
  // "KVMKVMKVM" in entry 0's EBX/ECX/EDX at 8 + 16 = 24.
  assertEquals(new TextDecoder().decode(bytes.subarray(24, 33)), "KVMKVMKVM");
});

Deno.test("decodeKvmCpuid2 inverts encodeKvmCpuid2", () => {
  assertEquals(decodeKvmCpuid2(encodeKvmCpuid2(ENTRIES)), ENTRIES);
  assertEquals(decodeKvmCpuid2(encodeKvmCpuid2([])), []);
});

Deno.test("decodeKvmCpuid2 reads only nent entries of a larger buffer and honours byteOffset", () => {
  const big = new Uint8Array(16 + kvmCpuid2Size(10));
  big.set(encodeKvmCpuid2(ENTRIES), 16);
  assertEquals(decodeKvmCpuid2(big.subarray(16)), ENTRIES);
});

Deno.test("allocKvmCpuid2 sets nent to the capacity", () => {
  const bytes = allocKvmCpuid2(75);
  assertEquals(bytes.byteLength, 3008);
  assertEquals(new DataView(bytes.buffer).getUint32(0, true), 75);
  assertEquals(decodeKvmCpuid2(bytes).length, 75);
});

Deno.test("the codec rejects malformed input with a PvkitError", () => {
  const bytes = encodeKvmCpuid2(ENTRIES);
  assertThrows(
    () => decodeKvmCpuid2(bytes.subarray(0, bytes.byteLength - 1)),
    PvkitError,
    "nent = 3",
  );
  assertThrows(() => decodeKvmCpuid2(new Uint8Array(4)), PvkitError, "header");
  const bad = { ...ENTRIES[1], eax: -1 };
  assertThrows(() => encodeKvmCpuid2([bad]), PvkitError, "eax = -1");
  assertThrows(() => encodeKvmCpuid2([{ ...ENTRIES[1], edx: 2 ** 32 }]), PvkitError, "edx");
  assertThrows(() => allocKvmCpuid2(-1), PvkitError, "not a u32");
});

Deno.test("findCpuidEntry ignores index unless the entry's index is significant", () => {
  assertEquals(findCpuidEntry(ENTRIES, 0x40000001, 7)?.eax, 0x01007efb);
  assertEquals(findCpuidEntry(ENTRIES, 0xd, 1)?.ecx, 0x12345678);
  assertEquals(findCpuidEntry(ENTRIES, 0xd, 0), undefined);
  assertEquals(findCpuidEntry(ENTRIES, 0x80000000), undefined);
});
