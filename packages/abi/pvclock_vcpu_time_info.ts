/**
 * Codec for `struct pvclock_vcpu_time_info`, the 32-byte per-vCPU kvmclock record the host
 * keeps up to date at the GPA written to MSR 0x4b564d01 (or 0x12).
 *
 * Source: spec §3 ([P] pvclock-abi.h).
 *
 * @module
 */

import type { Gpa, GuestMemory } from "@pvkit/machine";
import { directOffset, directView, readRecord, writeRecord } from "./_record.ts";

/**
 * The decoded fields of a pvclock_vcpu_time_info (pads are not carried).
 *
 * @example
 * ```ts
 * import { PVCLOCK_TSC_STABLE_BIT, type PvclockVcpuTimeInfo } from "@pvkit/abi";
 * const rec: PvclockVcpuTimeInfo = {
 *   version: 2,
 *   tscTimestamp: 0n,
 *   systemTime: 0n,
 *   tscToSystemMul: 0xcccccccc,
 *   tscShift: -1,
 *   flags: PVCLOCK_TSC_STABLE_BIT,
 * };
 * console.log(rec.version % 2 === 0); // consistent
 * ```
 */
export interface PvclockVcpuTimeInfo {
  /** Seqlock version (u32): even when consistent, odd while the host updates the record. */
  version: number;
  /** Guest TSC at the host's last update (u64). */
  tscTimestamp: bigint;
  /** kvmclock in ns at `tscTimestamp` (u64). */
  systemTime: bigint;
  /** Multiplier of the TSC → ns conversion, a 32.32 fixed-point fraction (u32). */
  tscToSystemMul: number;
  /** Binary shift applied to a TSC delta before multiplying (s8, -128..127). */
  tscShift: number;
  /** PVCLOCK_* flag bits (u8). */
  flags: number;
}

/**
 * Size of pvclock_vcpu_time_info in bytes (packed).
 *
 * @example
 * ```ts
 * import { PVCLOCK_VCPU_TIME_INFO_SIZE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_VCPU_TIME_INFO_SIZE, 32);
 * ```
 */
export const PVCLOCK_VCPU_TIME_INFO_SIZE = 32; // spec §3: "32 bytes, packed"

/**
 * Alignment msr.rst asks of the record's GPA. KVM itself checks none.
 *
 * @example
 * ```ts
 * import { PVCLOCK_VCPU_TIME_INFO_ALIGN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_VCPU_TIME_INFO_ALIGN, 4);
 * ```
 */
export const PVCLOCK_VCPU_TIME_INFO_ALIGN = 4; // spec §2 SYSTEM_TIME: "doc: 4-byte aligned"

/**
 * Byte offset of each field of pvclock_vcpu_time_info.
 *
 * @example
 * ```ts
 * import { PVCLOCK_VCPU_TIME_INFO_OFFSETS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_VCPU_TIME_INFO_OFFSETS.tscShift, 28);
 * ```
 */
export const PVCLOCK_VCPU_TIME_INFO_OFFSETS: {
  readonly version: 0;
  readonly pad0: 4;
  readonly tscTimestamp: 8;
  readonly systemTime: 16;
  readonly tscToSystemMul: 24;
  readonly tscShift: 28;
  readonly flags: 29;
  readonly pad: 30;
} = Object.freeze(
  {
    // spec §3 table
    version: 0,
    pad0: 4,
    tscTimestamp: 8,
    systemTime: 16,
    tscToSystemMul: 24,
    tscShift: 28,
    flags: 29,
    pad: 30,
  } as const,
);

/**
 * Flag bit 0: the TSC is stable across vCPUs, so the guest may skip its global monotonic fixup.
 *
 * @example
 * ```ts
 * import { PVCLOCK_TSC_STABLE_BIT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_TSC_STABLE_BIT, 1);
 * ```
 */
export const PVCLOCK_TSC_STABLE_BIT = 1 << 0; // [P] flags b0

/**
 * Flag bit 1: the VMM paused the guest (KVM_KVMCLOCK_CTRL); the guest clears it after a read.
 *
 * @example
 * ```ts
 * import { PVCLOCK_GUEST_STOPPED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_GUEST_STOPPED, 2);
 * ```
 */
export const PVCLOCK_GUEST_STOPPED = 1 << 1; // [P] flags b1

/**
 * Flag bit 2: "counts from zero". It broke the ABI and must not be used.
 *
 * @example
 * ```ts
 * import { PVCLOCK_COUNTS_FROM_ZERO } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_COUNTS_FROM_ZERO, 4);
 * ```
 */
export const PVCLOCK_COUNTS_FROM_ZERO = 1 << 2; // [P] flags b2 ("broke ABI, can't be used")

/**
 * Reads the pvclock_vcpu_time_info at `gpa` with one bounds-checked access.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine` if any of the 32 bytes is outside RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readPvclockVcpuTimeInfo } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * mem.writeU32(0x100n, 2);
 * assertEquals(readPvclockVcpuTimeInfo(mem, 0x100n).version, 2);
 * ```
 */
export function readPvclockVcpuTimeInfo(mem: GuestMemory, gpa: Gpa): PvclockVcpuTimeInfo {
  // The kvmclock hot path: decode in place from a plain ArrayGuestMemory (no copy).
  const direct = directView(mem);
  if (direct !== undefined) {
    return decodePvclockVcpuTimeInfo(
      direct,
      directOffset(direct, gpa, PVCLOCK_VCPU_TIME_INFO_SIZE),
    );
  }
  const [view, at] = readRecord(mem, gpa, PVCLOCK_VCPU_TIME_INFO_SIZE);
  return decodePvclockVcpuTimeInfo(view, at);
}

function decodePvclockVcpuTimeInfo(v: DataView, at: number): PvclockVcpuTimeInfo {
  return {
    version: v.getUint32(at, true),
    tscTimestamp: v.getBigUint64(at + 8, true),
    systemTime: v.getBigUint64(at + 16, true),
    tscToSystemMul: v.getUint32(at + 24, true),
    tscShift: v.getInt8(at + 28),
    flags: v.getUint8(at + 29),
  };
}

/**
 * Writes all 32 bytes of a pvclock_vcpu_time_info at `gpa`, pads as zero, as KVM copies the
 * whole struct. Values are truncated to their field widths.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the record
 * does not fit in RAM. This writes the record as given; for the host's version protocol use
 * {@linkcode publishPvclockVcpuTimeInfo}.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readPvclockVcpuTimeInfo, writePvclockVcpuTimeInfo } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * const rec = {
 *   version: 2,
 *   tscTimestamp: 1000n,
 *   systemTime: 5n,
 *   tscToSystemMul: 0x80000000,
 *   tscShift: 1,
 *   flags: 1,
 * };
 * writePvclockVcpuTimeInfo(mem, 0x40n, rec);
 * assertEquals(readPvclockVcpuTimeInfo(mem, 0x40n), rec);
 * ```
 */
export function writePvclockVcpuTimeInfo(
  mem: GuestMemory,
  gpa: Gpa,
  record: PvclockVcpuTimeInfo,
): void {
  writeRecord(mem, gpa, PVCLOCK_VCPU_TIME_INFO_SIZE, (view) => {
    view.setUint32(0, record.version, true);
    view.setBigUint64(8, record.tscTimestamp, true); // DataView stores a bigint mod 2^64
    view.setBigUint64(16, record.systemTime, true);
    view.setUint32(24, record.tscToSystemMul, true);
    view.setInt8(28, record.tscShift);
    view.setUint8(29, record.flags);
  });
}
