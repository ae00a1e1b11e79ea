import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import type { CpuidEntry } from "./cpuid2.ts";
import { kvmPvLeafFromCpuid, readKvmPvLeaf } from "./host_leaf.ts";
import { KvmSystem } from "./system.ts";
import { kvmTest } from "./_test_utils.ts";

const entry = (fn: number, eax: number, ebx = 0, ecx = 0, edx = 0): CpuidEntry => ({
  function: fn,
  index: 0,
  flags: 0,
  eax,
  ebx,
  ecx,
  edx,
});
const SIGNATURE = entry(0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);

Deno.test("kvmPvLeafFromCpuid reads leaves 0x40000000 and 0x40000001", () => {
  const leaf = kvmPvLeafFromCpuid([
    entry(0, 0xd),
    SIGNATURE,
    entry(0x40000001, 0x01007efb, 0, 0, 1),
  ]);
  assertEquals(leaf, { eax: 0x01007efb, edx: 1, signatureEax: 0x40000001 });
});

Deno.test("kvmPvLeafFromCpuid rejects lists without the KVM signature or features leaf", () => {
  assertThrows(() => kvmPvLeafFromCpuid([entry(0x40000001, 1)]), PvkitError, "KVMKVMKVM");
  const hyperv = entry(0x40000000, 0x40000005, 0x7263694d, 0x666f736f, 0x76482074);
  assertThrows(() => kvmPvLeafFromCpuid([hyperv, entry(0x40000001, 1)]), PvkitError, "KVMKVMKVM");
  assertThrows(() => kvmPvLeafFromCpuid([SIGNATURE]), PvkitError, "0x40000001");
});

// Bits of leaf 0x40000001 EAX (arch/x86/include/uapi/asm/kvm_para.h).
const CLOCKSOURCE = 0;
const MMU_OP = 2; // removed from KVM in 2.6.37; never advertised since
const CLOCKSOURCE2 = 3;
const MSI_EXT_DEST_ID = 15; // only a VMM with a split irqchip may set it; KVM never does
const HC_MAP_GPA_RANGE = 16; // not advertised by KVM_GET_SUPPORTED_CPUID
const MIGRATION_CONTROL = 17; // set by the VMM, not by KVM
const CLOCKSOURCE_STABLE_BIT = 24;

kvmTest("readKvmPvLeaf returns the host's KVM PV feature bits", () => {
  const leaf = readKvmPvLeaf();
  console.log(
    `host KVM PV leaf: EAX=0x${leaf.eax.toString(16).padStart(8, "0")} ` +
      `EDX=0x${leaf.edx.toString(16)} max=0x${leaf.signatureEax.toString(16)}`,
  );
  const bit = (n: number) => (leaf.eax >>> n) & 1;
  for (const n of [CLOCKSOURCE, CLOCKSOURCE2, CLOCKSOURCE_STABLE_BIT]) {
    assertEquals(bit(n), 1, `bit ${n}`);
  }
  for (const n of [MMU_OP, MSI_EXT_DEST_ID, HC_MAP_GPA_RANGE, MIGRATION_CONTROL]) {
    assertEquals(bit(n), 0, `bit ${n}`);
  }
  assertEquals(leaf.signatureEax >= 0x40000001, true);
  using kvm = KvmSystem.open();
  assertEquals(readKvmPvLeaf(kvm), leaf);
  assertEquals(kvm.closed, false);
});
