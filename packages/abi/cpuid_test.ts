import { assertEquals } from "@std/assert";
import * as cpuid from "./cpuid.ts";

Deno.test("signature registers spell KVMKVMKVM\\0\\0\\0 in EBX:ECX:EDX (spec §1)", () => {
  const bytes = new TextEncoder().encode(cpuid.KVM_SIGNATURE);
  assertEquals(bytes.length, 12);
  const view = new DataView(bytes.buffer);
  assertEquals(view.getUint32(0, true), cpuid.KVM_SIGNATURE_EBX);
  assertEquals(view.getUint32(4, true), cpuid.KVM_SIGNATURE_ECX);
  assertEquals(view.getUint32(8, true), cpuid.KVM_SIGNATURE_EDX);
  assertEquals(cpuid.kvmSignatureRegisters(), {
    eax: 0x40000001,
    ebx: 0x4b4d564b,
    ecx: 0x564b4d56,
    edx: 0x0000004d,
  });
  assertEquals(cpuid.kvmSignatureRegisters(0).eax, 0); // an old host's EAX
});

Deno.test("leaves and hypervisor base scan constants (spec §1)", () => {
  assertEquals(cpuid.KVM_CPUID_SIGNATURE, 0x40000000);
  assertEquals(cpuid.KVM_CPUID_FEATURES, 0x40000001);
  const bases = (cpuid.HYPERVISOR_CPUID_BASE_LAST - cpuid.HYPERVISOR_CPUID_BASE_FIRST) /
      cpuid.HYPERVISOR_CPUID_BASE_STEP + 1;
  assertEquals(bases, 256);
  assertEquals(cpuid.CPUID_1_ECX_HYPERVISOR_BIT, 31);
  assertEquals(cpuid.KVM_HINTS_REALTIME, 0);
});

Deno.test("every KVM_FEATURE_* bit has its spec §1 number", () => {
  const features = Object.entries(cpuid).filter(([k]) => k.startsWith("KVM_FEATURE_"));
  assertEquals(Object.fromEntries(features), {
    KVM_FEATURE_CLOCKSOURCE: 0,
    KVM_FEATURE_NOP_IO_DELAY: 1,
    KVM_FEATURE_MMU_OP: 2,
    KVM_FEATURE_CLOCKSOURCE2: 3,
    KVM_FEATURE_ASYNC_PF: 4,
    KVM_FEATURE_STEAL_TIME: 5,
    KVM_FEATURE_PV_EOI: 6,
    KVM_FEATURE_PV_UNHALT: 7,
    KVM_FEATURE_PV_TLB_FLUSH: 9,
    KVM_FEATURE_ASYNC_PF_VMEXIT: 10,
    KVM_FEATURE_PV_SEND_IPI: 11,
    KVM_FEATURE_POLL_CONTROL: 12,
    KVM_FEATURE_PV_SCHED_YIELD: 13,
    KVM_FEATURE_ASYNC_PF_INT: 14,
    KVM_FEATURE_MSI_EXT_DEST_ID: 15,
    KVM_FEATURE_HC_MAP_GPA_RANGE: 16,
    KVM_FEATURE_MIGRATION_CONTROL: 17,
    KVM_FEATURE_CLOCKSOURCE_STABLE_BIT: 24,
  });
});

Deno.test("the bits KVM reports compose to spec §7's 0x01007EDB / 0x01007EFB", () => {
  const mask = (bits: number[]) => bits.reduce((m, b) => (m | (1 << b)) >>> 0, 0);
  const reported = [
    cpuid.KVM_FEATURE_CLOCKSOURCE,
    cpuid.KVM_FEATURE_NOP_IO_DELAY,
    cpuid.KVM_FEATURE_CLOCKSOURCE2,
    cpuid.KVM_FEATURE_ASYNC_PF,
    cpuid.KVM_FEATURE_PV_EOI,
    cpuid.KVM_FEATURE_PV_UNHALT,
    cpuid.KVM_FEATURE_PV_TLB_FLUSH,
    cpuid.KVM_FEATURE_ASYNC_PF_VMEXIT,
    cpuid.KVM_FEATURE_PV_SEND_IPI,
    cpuid.KVM_FEATURE_POLL_CONTROL,
    cpuid.KVM_FEATURE_PV_SCHED_YIELD,
    cpuid.KVM_FEATURE_ASYNC_PF_INT,
    cpuid.KVM_FEATURE_CLOCKSOURCE_STABLE_BIT,
  ];
  assertEquals(mask(reported), 0x01007edb);
  assertEquals(mask([...reported, cpuid.KVM_FEATURE_STEAL_TIME]), 0x01007efb);
});
