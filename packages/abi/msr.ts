/**
 * The KVM paravirtual MSRs: their indices, the bit layout of the values written to them, and
 * {@linkcode pvMsrs}, a table describing each one.
 *
 * MSR values are 64-bit, so every layout constant here is a `bigint`; MSR indices are
 * `number`s. Source: spec §2 ([D] msr.rst, [U] kvm_para.h, [X] kvm_set_msr_common,
 * [L] kvm_lapic_set_pv_eoi).
 *
 * @module
 */

import {
  KVM_FEATURE_ASYNC_PF,
  KVM_FEATURE_ASYNC_PF_INT,
  KVM_FEATURE_CLOCKSOURCE,
  KVM_FEATURE_CLOCKSOURCE2,
  KVM_FEATURE_MIGRATION_CONTROL,
  KVM_FEATURE_POLL_CONTROL,
  KVM_FEATURE_PV_EOI,
  KVM_FEATURE_STEAL_TIME,
} from "./cpuid.ts";

// ---------------------------------------------------------------------------------------------
// Indices

/**
 * First index of the MSR range reserved for KVM (0x4b564d is "KVM").
 *
 * @example
 * ```ts
 * import { KVM_MSR_RANGE_FIRST } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MSR_RANGE_FIRST, 0x4b564d00);
 * ```
 */
export const KVM_MSR_RANGE_FIRST = 0x4b564d00; // spec §2: range 0x4b564d00-0x4b564dff

/**
 * Last index of the MSR range reserved for KVM.
 *
 * @example
 * ```ts
 * import { KVM_MSR_RANGE_LAST } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MSR_RANGE_LAST, 0x4b564dff);
 * ```
 */
export const KVM_MSR_RANGE_LAST = 0x4b564dff; // spec §2: range 0x4b564d00-0x4b564dff

/**
 * MSR 0x11: deprecated wall-clock MSR (gate bit 0); same state as 0x4b564d00.
 *
 * @example
 * ```ts
 * import { MSR_KVM_WALL_CLOCK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_WALL_CLOCK, 0x11);
 * ```
 */
export const MSR_KVM_WALL_CLOCK = 0x11; // [U] MSR_KVM_WALL_CLOCK

/**
 * MSR 0x12: deprecated system-time (kvmclock) MSR (gate bit 0); same state as 0x4b564d01.
 *
 * @example
 * ```ts
 * import { MSR_KVM_SYSTEM_TIME } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_SYSTEM_TIME, 0x12);
 * ```
 */
export const MSR_KVM_SYSTEM_TIME = 0x12; // [U] MSR_KVM_SYSTEM_TIME

/**
 * MSR 0x4b564d00: wall-clock MSR (gate bit 3); value = GPA of a pvclock_wall_clock.
 *
 * @example
 * ```ts
 * import { MSR_KVM_WALL_CLOCK_NEW } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_WALL_CLOCK_NEW, 0x4b564d00);
 * ```
 */
export const MSR_KVM_WALL_CLOCK_NEW = 0x4b564d00; // [U] MSR_KVM_WALL_CLOCK_NEW

/**
 * MSR 0x4b564d01: system-time MSR (gate bit 3); value = GPA of pvclock_vcpu_time_info | enable.
 *
 * @example
 * ```ts
 * import { MSR_KVM_SYSTEM_TIME_NEW } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_SYSTEM_TIME_NEW, 0x4b564d01);
 * ```
 */
export const MSR_KVM_SYSTEM_TIME_NEW = 0x4b564d01; // [U] MSR_KVM_SYSTEM_TIME_NEW

/**
 * MSR 0x4b564d02: async page fault enable (gate bit 4).
 *
 * @example
 * ```ts
 * import { MSR_KVM_ASYNC_PF_EN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_ASYNC_PF_EN, 0x4b564d02);
 * ```
 */
export const MSR_KVM_ASYNC_PF_EN = 0x4b564d02; // [U] MSR_KVM_ASYNC_PF_EN

/**
 * MSR 0x4b564d03: steal time (gate bit 5); value = GPA of kvm_steal_time | enable.
 *
 * @example
 * ```ts
 * import { MSR_KVM_STEAL_TIME } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_STEAL_TIME, 0x4b564d03);
 * ```
 */
export const MSR_KVM_STEAL_TIME = 0x4b564d03; // [U] MSR_KVM_STEAL_TIME

/**
 * MSR 0x4b564d04: PV end-of-interrupt enable (gate bit 6); value = GPA of the EOI word | enable.
 *
 * @example
 * ```ts
 * import { MSR_KVM_PV_EOI_EN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_PV_EOI_EN, 0x4b564d04);
 * ```
 */
export const MSR_KVM_PV_EOI_EN = 0x4b564d04; // [U] MSR_KVM_PV_EOI_EN

/**
 * MSR 0x4b564d05: host halt-polling control (gate bit 12).
 *
 * @example
 * ```ts
 * import { MSR_KVM_POLL_CONTROL } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_POLL_CONTROL, 0x4b564d05);
 * ```
 */
export const MSR_KVM_POLL_CONTROL = 0x4b564d05; // [U] MSR_KVM_POLL_CONTROL

/**
 * MSR 0x4b564d06: the APIC vector for async PF 'page ready' interrupts (gate bit 14).
 *
 * @example
 * ```ts
 * import { MSR_KVM_ASYNC_PF_INT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_ASYNC_PF_INT, 0x4b564d06);
 * ```
 */
export const MSR_KVM_ASYNC_PF_INT = 0x4b564d06; // [U] MSR_KVM_ASYNC_PF_INT

/**
 * MSR 0x4b564d07: async PF 'page ready' acknowledge (gate bit 14); reads as 0.
 *
 * @example
 * ```ts
 * import { MSR_KVM_ASYNC_PF_ACK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_ASYNC_PF_ACK, 0x4b564d07);
 * ```
 */
export const MSR_KVM_ASYNC_PF_ACK = 0x4b564d07; // [U] MSR_KVM_ASYNC_PF_ACK

/**
 * MSR 0x4b564d08: live-migration control (gate bit 17). KVM does not emulate it: the VMM must.
 *
 * @example
 * ```ts
 * import { MSR_KVM_MIGRATION_CONTROL } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSR_KVM_MIGRATION_CONTROL, 0x4b564d08);
 * ```
 */
export const MSR_KVM_MIGRATION_CONTROL = 0x4b564d08; // [U] MSR_KVM_MIGRATION_CONTROL

// ---------------------------------------------------------------------------------------------
// Bit layouts

/**
 * Bit 0 of SYSTEM_TIME, STEAL_TIME and PV_EOI_EN values: the feature is enabled.
 *
 * @example
 * ```ts
 * import { KVM_MSR_ENABLED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(0x5000n | KVM_MSR_ENABLED, 0x5001n);
 * ```
 */
export const KVM_MSR_ENABLED = 1n; // [U] KVM_MSR_ENABLED; spec §2 table, b0 = enable

/**
 * SYSTEM_TIME: bits 63:1 of the value are the GPA of pvclock_vcpu_time_info.
 *
 * @example
 * ```ts
 * import { KVM_SYSTEM_TIME_GPA_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(0x5001n & KVM_SYSTEM_TIME_GPA_MASK, 0x5000n);
 * ```
 */
export const KVM_SYSTEM_TIME_GPA_MASK = 0xffff_ffff_ffff_fffen; // spec §2: cache at data & ~1

/**
 * ASYNC_PF_EN bit 0: async PF enabled (since v5.8 delivery also needs DELIVERY_AS_INT).
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_ENABLED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_ENABLED, 1n);
 * ```
 */
export const KVM_ASYNC_PF_ENABLED = 1n << 0n; // [U] KVM_ASYNC_PF_ENABLED; spec §2 b0

/**
 * ASYNC_PF_EN bit 1: deliver 'page not present' even at CPL 0.
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_SEND_ALWAYS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_SEND_ALWAYS, 2n);
 * ```
 */
export const KVM_ASYNC_PF_SEND_ALWAYS = 1n << 1n; // [U] KVM_ASYNC_PF_SEND_ALWAYS; spec §2 b1

/**
 * ASYNC_PF_EN bit 2: in L2, deliver 'page not present' as a #PF vmexit to L1 (needs bit 10).
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT, 4n);
 * ```
 */
export const KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT = 1n << 2n; // [U]; spec §2 b2

/**
 * ASYNC_PF_EN bit 3: deliver 'page ready' as an interrupt (needs bit 14).
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_DELIVERY_AS_INT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_DELIVERY_AS_INT, 8n);
 * ```
 */
export const KVM_ASYNC_PF_DELIVERY_AS_INT = 1n << 3n; // [U]; spec §2 b3

/**
 * ASYNC_PF_EN reserved bits 5:4; a write with any of them set raises #GP.
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_RESERVED_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_RESERVED_MASK, 0x30n);
 * ```
 */
export const KVM_ASYNC_PF_RESERVED_MASK = 0x30n; // spec §2 table: b5:4 reserved, #GP if set

/**
 * ASYNC_PF_EN reserved bits before v5.8 (5:3), when bit 3 did not exist yet.
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_RESERVED_MASK_PRE_5_8 } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_RESERVED_MASK_PRE_5_8, 0x38n);
 * ```
 */
export const KVM_ASYNC_PF_RESERVED_MASK_PRE_5_8 = 0x38n; // spec §6 "Version changes": v5.8

/**
 * ASYNC_PF_EN bits 63:6: the GPA of the 64-byte-aligned kvm_vcpu_pv_apf_data area.
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_GPA_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(0x2009n & KVM_ASYNC_PF_GPA_MASK, 0x2000n);
 * ```
 */
export const KVM_ASYNC_PF_GPA_MASK = 0xffff_ffff_ffff_ffc0n; // spec §2: cache at data & ~0x3f

/**
 * STEAL_TIME: log2 of the record's alignment minus one; the record is 64-byte aligned.
 *
 * @example
 * ```ts
 * import { KVM_STEAL_ALIGNMENT_BITS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_STEAL_ALIGNMENT_BITS, 5);
 * ```
 */
export const KVM_STEAL_ALIGNMENT_BITS = 5; // [U] KVM_STEAL_ALIGNMENT_BITS

/**
 * STEAL_TIME bits 63:6: the GPA of kvm_steal_time (~0x3f).
 *
 * @example
 * ```ts
 * import { KVM_STEAL_VALID_BITS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(0x3001n & KVM_STEAL_VALID_BITS, 0x3000n);
 * ```
 */
export const KVM_STEAL_VALID_BITS = 0xffff_ffff_ffff_ffc0n; // spec §2: KVM_STEAL_VALID_BITS = ~0x3f

/**
 * STEAL_TIME reserved bits 5:1; a write with any of them set raises #GP.
 *
 * @example
 * ```ts
 * import { KVM_STEAL_RESERVED_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_STEAL_RESERVED_MASK, 0x3en);
 * ```
 */
export const KVM_STEAL_RESERVED_MASK = 0x3en; // spec §2: KVM_STEAL_RESERVED_MASK = 0x3e

/**
 * PV_EOI_EN bit 0: PV EOI enabled.
 *
 * @example
 * ```ts
 * import { KVM_PV_EOI_ENABLED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_PV_EOI_ENABLED, 1n);
 * ```
 */
export const KVM_PV_EOI_ENABLED: bigint = KVM_MSR_ENABLED; // [U] KVM_PV_EOI_ENABLED = KVM_MSR_ENABLED

/**
 * PV_EOI_EN value with bit 0 clear: PV EOI disabled.
 *
 * @example
 * ```ts
 * import { KVM_PV_EOI_DISABLED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_PV_EOI_DISABLED, 0n);
 * ```
 */
export const KVM_PV_EOI_DISABLED = 0n; // [U] KVM_PV_EOI_DISABLED

/**
 * PV_EOI_EN reserved bit 1: the GPA must be 4-byte aligned, so a set bit 1 raises #GP.
 *
 * @example
 * ```ts
 * import { KVM_PV_EOI_RESERVED_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_PV_EOI_RESERVED_MASK, 2n);
 * ```
 */
export const KVM_PV_EOI_RESERVED_MASK = 0x2n; // spec §2: (data & ~1) not 4-byte aligned → #GP

/**
 * PV_EOI_EN bits 63:2: the GPA of the PV EOI word.
 *
 * @example
 * ```ts
 * import { KVM_PV_EOI_GPA_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(0x4001n & KVM_PV_EOI_GPA_MASK, 0x4000n);
 * ```
 */
export const KVM_PV_EOI_GPA_MASK = 0xffff_ffff_ffff_fffcn; // spec §2: b63:2 = GPA

/**
 * Bit number of the only meaningful bit of the PV EOI word (in its byte 0).
 *
 * @example
 * ```ts
 * import { KVM_PV_EOI_BIT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_PV_EOI_BIT, 0);
 * ```
 */
export const KVM_PV_EOI_BIT = 0; // [U] KVM_PV_EOI_BIT; spec §3 "PV EOI word"

/**
 * Mask of {@linkcode KVM_PV_EOI_BIT} within byte 0 of the PV EOI word.
 *
 * @example
 * ```ts
 * import { KVM_PV_EOI_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_PV_EOI_MASK, 1);
 * ```
 */
export const KVM_PV_EOI_MASK = 1 << KVM_PV_EOI_BIT; // [U] KVM_PV_EOI_MASK

/**
 * POLL_CONTROL bit 0: 1 = host halt-polling allowed (the default), 0 = disabled.
 *
 * @example
 * ```ts
 * import { KVM_POLL_CONTROL_HALT_POLL } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_POLL_CONTROL_HALT_POLL, 1n);
 * ```
 */
export const KVM_POLL_CONTROL_HALT_POLL = 1n; // spec §2: b0; kvm_arch_no_poll = (val & 1) == 0

/**
 * POLL_CONTROL reserved bits 63:1; a write with any of them set raises #GP.
 *
 * @example
 * ```ts
 * import { KVM_POLL_CONTROL_RESERVED_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_POLL_CONTROL_RESERVED_MASK & 1n, 0n);
 * ```
 */
export const KVM_POLL_CONTROL_RESERVED_MASK = 0xffff_ffff_ffff_fffen; // spec §2: b63:1≠0 → #GP

/**
 * POLL_CONTROL value after vCPU creation (not changed by RESET or INIT).
 *
 * @example
 * ```ts
 * import { KVM_POLL_CONTROL_DEFAULT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_POLL_CONTROL_DEFAULT, 1n);
 * ```
 */
export const KVM_POLL_CONTROL_DEFAULT = 1n; // spec §2: set to 1 in kvm_arch_vcpu_postcreate

/**
 * ASYNC_PF_INT bits 7:0: the APIC vector of the 'page ready' interrupt.
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_VECTOR_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(0xf3n & KVM_ASYNC_PF_VECTOR_MASK, 0xf3n);
 * ```
 */
export const KVM_ASYNC_PF_VECTOR_MASK = 0xffn; // spec §2: vec = data & 0xFF

/**
 * ASYNC_PF_INT reserved bits 63:8; a write with any of them set raises #GP.
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_INT_RESERVED_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_INT_RESERVED_MASK & 0xffn, 0n);
 * ```
 */
export const KVM_ASYNC_PF_INT_RESERVED_MASK = 0xffff_ffff_ffff_ff00n; // spec §2: b63:8≠0 → #GP

/**
 * ASYNC_PF_ACK bit 0: acknowledge 'page ready' (other bits are ignored).
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_ACK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_ACK, 1n);
 * ```
 */
export const KVM_ASYNC_PF_ACK = 1n; // spec §2: b0=1 clears pageready_pending

/**
 * MIGRATION_CONTROL bit 0 (KVM_MIGRATION_READY): the guest allows live migration.
 *
 * @example
 * ```ts
 * import { KVM_MIGRATION_READY } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MIGRATION_READY, 1n);
 * ```
 */
export const KVM_MIGRATION_READY = 1n; // [U] KVM_MIGRATION_READY; spec §2 b0

/**
 * The vector Linux guests write to ASYNC_PF_INT (HYPERVISOR_CALLBACK_VECTOR).
 *
 * @example
 * ```ts
 * import { LINUX_HYPERVISOR_CALLBACK_VECTOR } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(LINUX_HYPERVISOR_CALLBACK_VECTOR, 0xf3);
 * ```
 */
export const LINUX_HYPERVISOR_CALLBACK_VECTOR = 0xf3; // spec §6 "Async PF (guest side)"

// ---------------------------------------------------------------------------------------------
// The table

/**
 * Describes one KVM paravirtual MSR: a row of {@linkcode pvMsrs}.
 *
 * @example
 * ```ts
 * import { type PvMsrInfo, pvMsrs } from "@pvkit/abi";
 * const perVcpu: PvMsrInfo[] = pvMsrs.filter((m) => m.scope === "vcpu");
 * console.log(perVcpu.map((m) => m.name));
 * ```
 */
export interface PvMsrInfo {
  /** The MSR index, e.g. `0x4b564d01`. */
  readonly index: number;
  /** The Linux UAPI name, e.g. `"MSR_KVM_SYSTEM_TIME_NEW"`. */
  readonly name: string;
  /** The KVM_FEATURE_* bit (CPUID 0x40000001 EAX) that advertises and, under enforcement, gates it. */
  readonly gateBit: number;
  /** One line saying what the MSR does. */
  readonly description: string;
  /** Whether the MSR's state is per vCPU or one variable for the whole VM. */
  readonly scope: "vcpu" | "vm";
  /** False when KVM does not emulate the MSR and the VMM must (0x4b564d08). */
  readonly kvmEmulated: boolean;
  /** The index of the other MSR that reads and writes the same state, if any. */
  readonly sharesStateWith?: number;
}

const PV_MSR_ROWS: PvMsrInfo[] = [
  // spec §2 table; 0x11/0x12 are the deprecated aliases of 0x4b564d00/01.
  {
    index: MSR_KVM_WALL_CLOCK,
    name: "MSR_KVM_WALL_CLOCK",
    gateBit: KVM_FEATURE_CLOCKSOURCE,
    description: "GPA of pvclock_wall_clock; the host fills it once, during the WRMSR",
    scope: "vm",
    kvmEmulated: true,
    sharesStateWith: MSR_KVM_WALL_CLOCK_NEW,
  },
  {
    index: MSR_KVM_SYSTEM_TIME,
    name: "MSR_KVM_SYSTEM_TIME",
    gateBit: KVM_FEATURE_CLOCKSOURCE,
    description: "GPA of this vCPU's pvclock_vcpu_time_info | enable (bit 0); deprecated",
    scope: "vcpu",
    kvmEmulated: true,
    sharesStateWith: MSR_KVM_SYSTEM_TIME_NEW,
  },
  {
    index: MSR_KVM_WALL_CLOCK_NEW,
    name: "MSR_KVM_WALL_CLOCK_NEW",
    gateBit: KVM_FEATURE_CLOCKSOURCE2,
    description: "GPA of pvclock_wall_clock; the host fills it once, during the WRMSR",
    scope: "vm",
    kvmEmulated: true,
    sharesStateWith: MSR_KVM_WALL_CLOCK,
  },
  {
    index: MSR_KVM_SYSTEM_TIME_NEW,
    name: "MSR_KVM_SYSTEM_TIME_NEW",
    gateBit: KVM_FEATURE_CLOCKSOURCE2,
    description: "GPA of this vCPU's pvclock_vcpu_time_info | enable (bit 0)",
    scope: "vcpu",
    kvmEmulated: true,
    sharesStateWith: MSR_KVM_SYSTEM_TIME,
  },
  {
    index: MSR_KVM_ASYNC_PF_EN,
    name: "MSR_KVM_ASYNC_PF_EN",
    gateBit: KVM_FEATURE_ASYNC_PF,
    description: "GPA of kvm_vcpu_pv_apf_data | ENABLED, SEND_ALWAYS, AS_PF_VMEXIT, AS_INT bits",
    scope: "vcpu",
    kvmEmulated: true,
  },
  {
    index: MSR_KVM_STEAL_TIME,
    name: "MSR_KVM_STEAL_TIME",
    gateBit: KVM_FEATURE_STEAL_TIME,
    description: "GPA of this vCPU's 64-byte-aligned kvm_steal_time | enable (bit 0)",
    scope: "vcpu",
    kvmEmulated: true,
  },
  {
    index: MSR_KVM_PV_EOI_EN,
    name: "MSR_KVM_PV_EOI_EN",
    gateBit: KVM_FEATURE_PV_EOI,
    description: "GPA of the 4-byte-aligned PV EOI word | enable (bit 0)",
    scope: "vcpu",
    kvmEmulated: true,
  },
  {
    index: MSR_KVM_POLL_CONTROL,
    name: "MSR_KVM_POLL_CONTROL",
    gateBit: KVM_FEATURE_POLL_CONTROL,
    description: "bit 0: 1 = host halt-polling allowed (default), 0 = disabled",
    scope: "vcpu",
    kvmEmulated: true,
  },
  {
    index: MSR_KVM_ASYNC_PF_INT,
    name: "MSR_KVM_ASYNC_PF_INT",
    gateBit: KVM_FEATURE_ASYNC_PF_INT,
    description: "bits 7:0: APIC vector of the async PF 'page ready' interrupt",
    scope: "vcpu",
    kvmEmulated: true,
  },
  {
    index: MSR_KVM_ASYNC_PF_ACK,
    name: "MSR_KVM_ASYNC_PF_ACK",
    gateBit: KVM_FEATURE_ASYNC_PF_INT,
    description: "write 1 to acknowledge 'page ready' and rescan the queue; reads as 0",
    scope: "vcpu",
    kvmEmulated: true,
  },
  {
    index: MSR_KVM_MIGRATION_CONTROL,
    name: "MSR_KVM_MIGRATION_CONTROL",
    gateBit: KVM_FEATURE_MIGRATION_CONTROL,
    description: "bit 0: guest allows live migration; emulated by the VMM, not by KVM",
    scope: "vm", // one guest-wide permission (spec §2: "1 = guest allows live migration")
    kvmEmulated: false,
  },
];

/**
 * Every KVM paravirtual MSR, in index order: the data the emulated backend and the docs use.
 *
 * @example
 * ```ts
 * import { MSR_KVM_STEAL_TIME, pvMsrs } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const steal = pvMsrs.find((m) => m.index === MSR_KVM_STEAL_TIME);
 * assertEquals(steal?.gateBit, 5);
 * ```
 */
export const pvMsrs: readonly PvMsrInfo[] = Object.freeze(
  PV_MSR_ROWS.map((row) => Object.freeze(row)),
);

/**
 * Finds the {@linkcode pvMsrs} row of an MSR index, or `undefined` for a non-PV MSR.
 *
 * @example
 * ```ts
 * import { pvMsrByIndex } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(pvMsrByIndex(0x4b564d01)?.name, "MSR_KVM_SYSTEM_TIME_NEW");
 * assertEquals(pvMsrByIndex(0x10), undefined);
 * ```
 */
export function pvMsrByIndex(index: number): PvMsrInfo | undefined {
  return pvMsrs.find((m) => m.index === index);
}
