/**
 * The KVM paravirtual CPUID leaves: the signature leaf, the feature leaf, every
 * `KVM_FEATURE_*` bit number and the hint bits.
 *
 * Source: spec §1 ([D] cpuid.rst, [U] kvm_para.h, [C] __do_cpuid_func, [G] kvm_cpuid_base).
 *
 * @module
 */

/**
 * CPUID leaf 0x40000000 (KVM_CPUID_SIGNATURE): max KVM leaf in EAX, "KVMKVMKVM" in EBX:ECX:EDX.
 *
 * @example
 * ```ts
 * import { KVM_CPUID_SIGNATURE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_CPUID_SIGNATURE, 0x40000000);
 * ```
 */
export const KVM_CPUID_SIGNATURE = 0x40000000; // [U] KVM_CPUID_SIGNATURE

/**
 * CPUID leaf 0x40000001 (KVM_CPUID_FEATURES): EAX = feature bits, EBX = ECX = 0, EDX = hints.
 *
 * @example
 * ```ts
 * import { KVM_CPUID_FEATURES } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_CPUID_FEATURES, 0x40000001);
 * ```
 */
export const KVM_CPUID_FEATURES = 0x40000001; // [U] KVM_CPUID_FEATURES

/**
 * The 12-byte KVM signature as EBX, ECX, EDX spell it: "KVMKVMKVM" and three NULs.
 *
 * @example
 * ```ts
 * import { KVM_SIGNATURE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_SIGNATURE.length, 12);
 * ```
 */
export const KVM_SIGNATURE = "KVMKVMKVM\0\0\0"; // [U] KVM_SIGNATURE, spec §1

/**
 * EBX of leaf 0x40000000: the bytes "KVMK" read as a little-endian u32.
 *
 * @example
 * ```ts
 * import { KVM_SIGNATURE_EBX } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_SIGNATURE_EBX, 0x4b4d564b);
 * ```
 */
export const KVM_SIGNATURE_EBX = 0x4b4d564b; // spec §1 table: "KVMK"

/**
 * ECX of leaf 0x40000000: the bytes "VMKV" read as a little-endian u32.
 *
 * @example
 * ```ts
 * import { KVM_SIGNATURE_ECX } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_SIGNATURE_ECX, 0x564b4d56);
 * ```
 */
export const KVM_SIGNATURE_ECX = 0x564b4d56; // spec §1 table: "VMKV"

/**
 * EDX of leaf 0x40000000: the bytes "M\0\0\0" read as a little-endian u32.
 *
 * @example
 * ```ts
 * import { KVM_SIGNATURE_EDX } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_SIGNATURE_EDX, 0x4d);
 * ```
 */
export const KVM_SIGNATURE_EDX = 0x0000004d; // spec §1 table: "M\0\0\0"

/**
 * CPUID.1:ECX bit 31 (HYPERVISOR): a guest scans the 0x40000000 range only when it is set.
 *
 * @example
 * ```ts
 * import { CPUID_1_ECX_HYPERVISOR_BIT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(CPUID_1_ECX_HYPERVISOR_BIT, 31);
 * ```
 */
export const CPUID_1_ECX_HYPERVISOR_BIT = 31; // spec §1 discovery

/**
 * First hypervisor CPUID base a guest probes for the KVM signature.
 *
 * @example
 * ```ts
 * import { HYPERVISOR_CPUID_BASE_FIRST } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(HYPERVISOR_CPUID_BASE_FIRST, 0x40000000);
 * ```
 */
export const HYPERVISOR_CPUID_BASE_FIRST = 0x40000000; // spec §1: scan 0x40000000 ...

/**
 * Last hypervisor CPUID base a guest probes (the scan steps by 0x100).
 *
 * @example
 * ```ts
 * import { HYPERVISOR_CPUID_BASE_LAST } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(HYPERVISOR_CPUID_BASE_LAST, 0x4000ff00);
 * ```
 */
export const HYPERVISOR_CPUID_BASE_LAST = 0x4000ff00; // spec §1: ... 0x4000FF00

/**
 * Step between hypervisor CPUID bases; each 0x100 block is its own CPUID class.
 *
 * @example
 * ```ts
 * import { HYPERVISOR_CPUID_BASE_STEP } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(HYPERVISOR_CPUID_BASE_STEP, 0x100);
 * ```
 */
export const HYPERVISOR_CPUID_BASE_STEP = 0x100; // spec §1: bases 0x100 apart

/**
 * Feature bit 0: kvmclock at the deprecated MSRs 0x11/0x12.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_CLOCKSOURCE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_CLOCKSOURCE, 0);
 * ```
 */
export const KVM_FEATURE_CLOCKSOURCE = 0; // spec §1 table, bit 0

/**
 * Feature bit 1: the guest may skip port-I/O delays.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_NOP_IO_DELAY } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_NOP_IO_DELAY, 1);
 * ```
 */
export const KVM_FEATURE_NOP_IO_DELAY = 1; // spec §1 table, bit 1

/**
 * Feature bit 2: the deprecated MMU_OP hypercall (always -KVM_ENOSYS); never reported by KVM.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_MMU_OP } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_MMU_OP, 2);
 * ```
 */
export const KVM_FEATURE_MMU_OP = 2; // spec §1 table, bit 2

/**
 * Feature bit 3: kvmclock at MSRs 0x4b564d00/0x4b564d01 (preferred by Linux over bit 0).
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_CLOCKSOURCE2 } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_CLOCKSOURCE2, 3);
 * ```
 */
export const KVM_FEATURE_CLOCKSOURCE2 = 3; // spec §1 table, bit 3

/**
 * Feature bit 4: asynchronous page faults, MSR 0x4b564d02.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_ASYNC_PF } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_ASYNC_PF, 4);
 * ```
 */
export const KVM_FEATURE_ASYNC_PF = 4; // spec §1 table, bit 4

/**
 * Feature bit 5: steal time, MSR 0x4b564d03 (reported only when the host has sched_info).
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_STEAL_TIME } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_STEAL_TIME, 5);
 * ```
 */
export const KVM_FEATURE_STEAL_TIME = 5; // spec §1 table, bit 5

/**
 * Feature bit 6: paravirtual end-of-interrupt, MSR 0x4b564d04.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_PV_EOI } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_PV_EOI, 6);
 * ```
 */
export const KVM_FEATURE_PV_EOI = 6; // spec §1 table, bit 6

/**
 * Feature bit 7: PV unhalt, i.e. the KICK_CPU hypercall used by PV spinlocks.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_PV_UNHALT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_PV_UNHALT, 7);
 * ```
 */
export const KVM_FEATURE_PV_UNHALT = 7; // spec §1 table, bit 7 (bit 8 is unused)

/**
 * Feature bit 9: PV TLB flush through the steal-time `preempted` byte.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_PV_TLB_FLUSH } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_PV_TLB_FLUSH, 9);
 * ```
 */
export const KVM_FEATURE_PV_TLB_FLUSH = 9; // spec §1 table, bit 9

/**
 * Feature bit 10: async PF may be delivered as a #PF vmexit to L1 (ASYNC_PF_EN bit 2).
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_ASYNC_PF_VMEXIT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_ASYNC_PF_VMEXIT, 10);
 * ```
 */
export const KVM_FEATURE_ASYNC_PF_VMEXIT = 10; // spec §1 table, bit 10

/**
 * Feature bit 11: PV IPIs through the SEND_IPI hypercall.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_PV_SEND_IPI } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_PV_SEND_IPI, 11);
 * ```
 */
export const KVM_FEATURE_PV_SEND_IPI = 11; // spec §1 table, bit 11

/**
 * Feature bit 12: host halt-polling control, MSR 0x4b564d05.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_POLL_CONTROL } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_POLL_CONTROL, 12);
 * ```
 */
export const KVM_FEATURE_POLL_CONTROL = 12; // spec §1 table, bit 12

/**
 * Feature bit 13: directed yield through the SCHED_YIELD hypercall.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_PV_SCHED_YIELD } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_PV_SCHED_YIELD, 13);
 * ```
 */
export const KVM_FEATURE_PV_SCHED_YIELD = 13; // spec §1 table, bit 13

/**
 * Feature bit 14: interrupt-based async PF 'page ready' (MSRs 0x4b564d06/07, EN bit 3).
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_ASYNC_PF_INT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_ASYNC_PF_INT, 14);
 * ```
 */
export const KVM_FEATURE_ASYNC_PF_INT = 14; // spec §1 table, bit 14

/**
 * Feature bit 15: the guest may put APIC-ID bits 14:8 in MSI address bits 11:5 (VMM-set).
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_MSI_EXT_DEST_ID } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_MSI_EXT_DEST_ID, 15);
 * ```
 */
export const KVM_FEATURE_MSI_EXT_DEST_ID = 15; // spec §1 table, bit 15

/**
 * Feature bit 16: the MAP_GPA_RANGE hypercall (12) is available (VMM-set).
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_HC_MAP_GPA_RANGE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_HC_MAP_GPA_RANGE, 16);
 * ```
 */
export const KVM_FEATURE_HC_MAP_GPA_RANGE = 16; // spec §1 table, bit 16

/**
 * Feature bit 17: MSR 0x4b564d08 (MIGRATION_CONTROL) exists (VMM-set and VMM-emulated).
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_MIGRATION_CONTROL } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_MIGRATION_CONTROL, 17);
 * ```
 */
export const KVM_FEATURE_MIGRATION_CONTROL = 17; // spec §1 table, bit 17

/**
 * Feature bit 24: the guest may trust PVCLOCK_TSC_STABLE_BIT in the pvclock flags.
 *
 * @example
 * ```ts
 * import { KVM_FEATURE_CLOCKSOURCE_STABLE_BIT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT, 24);
 * ```
 */
export const KVM_FEATURE_CLOCKSOURCE_STABLE_BIT = 24; // spec §1 table, bit 24 (18-23 reserved)

/**
 * EDX hint bit 0 of leaf 0x40000001: vCPUs run on dedicated pCPUs. Only a VMM sets it.
 *
 * @example
 * ```ts
 * import { KVM_HINTS_REALTIME } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HINTS_REALTIME, 0);
 * ```
 */
export const KVM_HINTS_REALTIME = 0; // spec §1: EDX bit 0; KVM itself reports EDX = 0

/**
 * The four result registers of one CPUID leaf, each an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * import type { CpuidRegisters } from "@pvkit/abi";
 * const featureLeaf: CpuidRegisters = { eax: 0x01007edb, ebx: 0, ecx: 0, edx: 0 };
 * console.log(featureLeaf.eax.toString(16));
 * ```
 */
export interface CpuidRegisters {
  /** EAX. */
  eax: number;
  /** EBX. */
  ebx: number;
  /** ECX. */
  ecx: number;
  /** EDX. */
  edx: number;
}

/**
 * Returns the registers of the KVM signature leaf: EAX = highest KVM leaf, EBX:ECX:EDX =
 * "KVMKVMKVM\0\0\0".
 *
 * `maxLeaf` defaults to 0x40000001 (what KVM reports). Old hosts reported 0, which guests
 * treat as 0x40000001 (spec §1).
 *
 * @example
 * ```ts
 * import { kvmSignatureRegisters } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(kvmSignatureRegisters(), {
 *   eax: 0x40000001,
 *   ebx: 0x4b4d564b,
 *   ecx: 0x564b4d56,
 *   edx: 0x4d,
 * });
 * ```
 */
export function kvmSignatureRegisters(maxLeaf: number = KVM_CPUID_FEATURES): CpuidRegisters {
  return {
    eax: maxLeaf >>> 0,
    ebx: KVM_SIGNATURE_EBX,
    ecx: KVM_SIGNATURE_ECX,
    edx: KVM_SIGNATURE_EDX,
  };
}
