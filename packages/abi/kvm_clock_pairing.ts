/**
 * Codec for `struct kvm_clock_pairing`, the 64-byte record the CLOCK_PAIRING hypercall (9)
 * writes: host CLOCK_REALTIME and the guest TSC at the same instant.
 *
 * Source: spec §3 ([U] kvm_para.h) and §5 (kvm_pv_clock_pairing).
 *
 * @module
 */

import type { Gpa, GuestMemory } from "@pvkit/machine";
import { readRecord, writeRecord } from "./_record.ts";

/**
 * The decoded fields of a kvm_clock_pairing (pads are not carried).
 *
 * @example
 * ```ts
 * import type { KvmClockPairing } from "@pvkit/abi";
 * const pair: KvmClockPairing = { sec: 1_700_000_000n, nsec: 5n, tsc: 123n, flags: 0 };
 * console.log(pair.sec * 1_000_000_000n + pair.nsec);
 * ```
 */
export interface KvmClockPairing {
  /** Host CLOCK_REALTIME seconds (s64). */
  sec: bigint;
  /** Host CLOCK_REALTIME nanoseconds (s64). */
  nsec: bigint;
  /** Guest TSC at the same instant (u64). */
  tsc: bigint;
  /** Always 0 (u32). */
  flags: number;
}

/**
 * Size of kvm_clock_pairing in bytes.
 *
 * @example
 * ```ts
 * import { KVM_CLOCK_PAIRING_SIZE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_CLOCK_PAIRING_SIZE, 64);
 * ```
 */
export const KVM_CLOCK_PAIRING_SIZE = 64; // spec §3: "kvm_clock_pairing: 64 bytes"

/**
 * Natural alignment of the record (its 64-bit fields). KVM checks no alignment of a0.
 *
 * @example
 * ```ts
 * import { KVM_CLOCK_PAIRING_ALIGN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_CLOCK_PAIRING_ALIGN, 8);
 * ```
 */
export const KVM_CLOCK_PAIRING_ALIGN = 8; // s64/u64 fields; spec §5 names no alignment check

/**
 * Byte offset of each field of kvm_clock_pairing.
 *
 * @example
 * ```ts
 * import { KVM_CLOCK_PAIRING_OFFSETS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_CLOCK_PAIRING_OFFSETS.tsc, 16);
 * ```
 */
export const KVM_CLOCK_PAIRING_OFFSETS: {
  readonly sec: 0;
  readonly nsec: 8;
  readonly tsc: 16;
  readonly flags: 24;
  readonly pad: 28;
} = Object.freeze({ sec: 0, nsec: 8, tsc: 16, flags: 24, pad: 28 } as const); // spec §3 layout

/**
 * Reads the kvm_clock_pairing at `gpa` with one bounds-checked access.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine` if any of the 64 bytes is outside RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readKvmClockPairing } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * mem.writeU64(0x10n, 0xffff_ffff_ffff_ffffn);
 * assertEquals(readKvmClockPairing(mem, 0x10n).sec, -1n);
 * ```
 */
export function readKvmClockPairing(mem: GuestMemory, gpa: Gpa): KvmClockPairing {
  const [v, at] = readRecord(mem, gpa, KVM_CLOCK_PAIRING_SIZE);
  return {
    sec: v.getBigInt64(at, true),
    nsec: v.getBigInt64(at + 8, true),
    tsc: v.getBigUint64(at + 16, true),
    flags: v.getUint32(at + 24, true),
  };
}

/**
 * Writes all 64 bytes of a kvm_clock_pairing at `gpa`, pad as zero (as KVM does); values are
 * truncated to their field widths.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the record
 * does not fit in RAM. (The hypercall then returns -KVM_EFAULT.)
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readKvmClockPairing, writeKvmClockPairing } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * const rec = { sec: 1_700_000_000n, nsec: 5n, tsc: 123n, flags: 0 };
 * writeKvmClockPairing(mem, 0x40n, rec);
 * assertEquals(readKvmClockPairing(mem, 0x40n), rec);
 * ```
 */
export function writeKvmClockPairing(mem: GuestMemory, gpa: Gpa, record: KvmClockPairing): void {
  writeRecord(mem, gpa, KVM_CLOCK_PAIRING_SIZE, (view) => {
    view.setBigInt64(0, record.sec, true); // DataView stores a bigint mod 2^64
    view.setBigInt64(8, record.nsec, true);
    view.setBigUint64(16, record.tsc, true);
    view.setUint32(24, record.flags, true);
  });
}
