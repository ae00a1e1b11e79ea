/**
 * Codec for `struct kvm_steal_time`, the 64-byte per-vCPU record at the GPA written to
 * MSR 0x4b564d03: accumulated steal time and the `preempted` byte.
 *
 * Source: spec §3 ([U] kvm_para.h; [X] record_steal_time, kvm_steal_time_set_preempted).
 *
 * @module
 */

import type { Gpa, GuestMemory } from "@pvkit/machine";
import { readRecord, writeRecord } from "./_record.ts";

/**
 * The decoded fields of a kvm_steal_time (pads are not carried).
 *
 * @example
 * ```ts
 * import { KVM_VCPU_PREEMPTED, type KvmStealTime } from "@pvkit/abi";
 * const st: KvmStealTime = { steal: 2_500_000n, version: 4, flags: 0, preempted: 1 };
 * console.log((st.preempted & KVM_VCPU_PREEMPTED) !== 0);
 * ```
 */
export interface KvmStealTime {
  /** ns the vCPU was runnable but not running on the host (u64). */
  steal: bigint;
  /** Seqlock version (u32): even when consistent, odd while the host updates the record. */
  version: number;
  /** Always 0 (u32). */
  flags: number;
  /** KVM_VCPU_PREEMPTED / KVM_VCPU_FLUSH_TLB bits (u8). */
  preempted: number;
}

/**
 * Size of kvm_steal_time in bytes.
 *
 * @example
 * ```ts
 * import { KVM_STEAL_TIME_SIZE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_STEAL_TIME_SIZE, 64);
 * ```
 */
export const KVM_STEAL_TIME_SIZE = 64; // spec §3: "64 bytes, 64-byte aligned"

/**
 * Required alignment of the record's GPA (the MSR value keeps only bits 63:6).
 *
 * @example
 * ```ts
 * import { KVM_STEAL_TIME_ALIGN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_STEAL_TIME_ALIGN, 64);
 * ```
 */
export const KVM_STEAL_TIME_ALIGN = 64; // spec §3; §2: KVM_STEAL_VALID_BITS = ~0x3f

/**
 * Byte offset of each field of kvm_steal_time.
 *
 * @example
 * ```ts
 * import { KVM_STEAL_TIME_OFFSETS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_STEAL_TIME_OFFSETS.preempted, 16);
 * ```
 */
export const KVM_STEAL_TIME_OFFSETS: {
  readonly steal: 0;
  readonly version: 8;
  readonly flags: 12;
  readonly preempted: 16;
  readonly u8Pad: 17;
  readonly pad: 20;
} = Object.freeze(
  {
    // spec §3 table
    steal: 0,
    version: 8,
    flags: 12,
    preempted: 16,
    u8Pad: 17,
    pad: 20,
  } as const,
);

/**
 * `preempted` bit 0: the host descheduled the vCPU (written at vcpu_put).
 *
 * @example
 * ```ts
 * import { KVM_VCPU_PREEMPTED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_VCPU_PREEMPTED, 1);
 * ```
 */
export const KVM_VCPU_PREEMPTED = 1 << 0; // [U]; spec §3 "preempted byte"

/**
 * `preempted` bit 1: a guest asked the host to flush this vCPU's TLB at its next entry.
 *
 * @example
 * ```ts
 * import { KVM_VCPU_FLUSH_TLB } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_VCPU_FLUSH_TLB, 2);
 * ```
 */
export const KVM_VCPU_FLUSH_TLB = 1 << 1; // [U]; spec §3 "preempted byte"

/**
 * Reads the kvm_steal_time at `gpa` with one bounds-checked access.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine` if any of the 64 bytes is outside RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readKvmStealTime } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * mem.writeU64(0x40n, 1234n);
 * assertEquals(readKvmStealTime(mem, 0x40n).steal, 1234n);
 * ```
 */
export function readKvmStealTime(mem: GuestMemory, gpa: Gpa): KvmStealTime {
  const [v, at] = readRecord(mem, gpa, KVM_STEAL_TIME_SIZE);
  return {
    steal: v.getBigUint64(at, true),
    version: v.getUint32(at + 8, true),
    flags: v.getUint32(at + 12, true),
    preempted: v.getUint8(at + 16),
  };
}

/**
 * Writes all 64 bytes of a kvm_steal_time at `gpa`, pads as zero; values are truncated to
 * their field widths.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the record
 * does not fit in RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readKvmStealTime, writeKvmStealTime } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * const rec = { steal: 99n, version: 4, flags: 0, preempted: 1 };
 * writeKvmStealTime(mem, 0x40n, rec);
 * assertEquals(readKvmStealTime(mem, 0x40n), rec);
 * ```
 */
export function writeKvmStealTime(mem: GuestMemory, gpa: Gpa, record: KvmStealTime): void {
  writeRecord(mem, gpa, KVM_STEAL_TIME_SIZE, (view) => {
    view.setBigUint64(0, record.steal, true); // DataView stores a bigint mod 2^64
    view.setUint32(8, record.version, true);
    view.setUint32(12, record.flags, true);
    view.setUint8(16, record.preempted);
  });
}
