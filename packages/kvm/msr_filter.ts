/**
 * `struct kvm_msr_filter` (KVM_X86_SET_MSR_FILTER) and the KVM_CAP_X86_USER_SPACE_MSR reason
 * bits (Documentation/virt/kvm/api.rst).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/** `kvm_msr_filter.flags`: accesses no range covers are allowed. */
export const KVM_MSR_FILTER_DEFAULT_ALLOW = 0;
/** `kvm_msr_filter.flags`: accesses no range covers are denied. */
export const KVM_MSR_FILTER_DEFAULT_DENY = 1;
/** `kvm_msr_filter_range.flags`: the range applies to RDMSR. */
export const KVM_MSR_FILTER_READ = 1;
/** `kvm_msr_filter_range.flags`: the range applies to WRMSR. */
export const KVM_MSR_FILTER_WRITE = 2;
/** KVM_CAP_X86_USER_SPACE_MSR reason: the MSR is invalid (unknown to KVM). */
export const KVM_MSR_EXIT_REASON_INVAL = 1;
/** KVM_CAP_X86_USER_SPACE_MSR reason: KVM refused the access (e.g. a PV gate). */
export const KVM_MSR_EXIT_REASON_UNKNOWN = 2;
/** KVM_CAP_X86_USER_SPACE_MSR reason: the MSR filter denied the access. */
export const KVM_MSR_EXIT_REASON_FILTER = 4;

/** At most 16 ranges per filter (`KVM_MSR_FILTER_MAX_RANGES`). */
export const KVM_MSR_FILTER_MAX_RANGES = 16;
/** At most 0x600 bytes of bitmap per range (`KVM_MSR_FILTER_MAX_BITMAP_SIZE`). */
export const KVM_MSR_FILTER_MAX_BITMAP_SIZE = 0x600;

const FILTER_SIZE = 392;
const RANGE_SIZE = 24;
const RANGES_OFFSET = 8;

/**
 * One `kvm_msr_filter_range`: MSRs `base .. base + nmsrs - 1`, one bitmap bit each (bit set =
 * allowed, clear = denied), for the accesses in `flags`.
 *
 * @example
 * ```ts
 * import { KVM_MSR_FILTER_WRITE, type MsrFilterRange } from "@pvkit/kvm";
 * const r: MsrFilterRange = { flags: KVM_MSR_FILTER_WRITE, base: 0x11, nmsrs: 2, bitmap: new Uint8Array(8) };
 * console.log(r.nmsrs); // 2
 * ```
 */
export interface MsrFilterRange {
  /** {@linkcode KVM_MSR_FILTER_READ} and/or {@linkcode KVM_MSR_FILTER_WRITE}; not 0. */
  readonly flags: number;
  /** The first MSR. */
  readonly base: number;
  /** The number of MSRs (bits of `bitmap` used). */
  readonly nmsrs: number;
  /** At least `ceil(nmsrs / 64) * 8` bytes: KVM copies whole longs. */
  readonly bitmap: Uint8Array;
}

/**
 * A whole MSR filter: the default action and up to 16 ranges (the first range covering an
 * access decides it).
 *
 * @example
 * ```ts
 * import { denyMsrs, KVM_MSR_FILTER_DEFAULT_ALLOW, KVM_MSR_FILTER_READ, type MsrFilter } from "@pvkit/kvm";
 * const f: MsrFilter = { flags: KVM_MSR_FILTER_DEFAULT_ALLOW, ranges: [denyMsrs(KVM_MSR_FILTER_READ, [0x4b564d08])] };
 * console.log(f.ranges.length); // 1
 * ```
 */
export interface MsrFilter {
  /** {@linkcode KVM_MSR_FILTER_DEFAULT_ALLOW} or {@linkcode KVM_MSR_FILTER_DEFAULT_DENY}. */
  readonly flags: number;
  /** The ranges, at most {@linkcode KVM_MSR_FILTER_MAX_RANGES}. */
  readonly ranges: readonly MsrFilterRange[];
}

/** The bytes KVM copies for a range of `nmsrs` MSRs: BITS_TO_LONGS(nmsrs) * 8. */
export function msrFilterBitmapSize(nmsrs: number): number {
  return Math.ceil(nmsrs / 64) * 8;
}

/**
 * A range that denies exactly `msrs` (for `flags`) and allows the rest of the span from the
 * lowest to the highest of them. With KVM_CAP_X86_USER_SPACE_MSR's
 * {@linkcode KVM_MSR_EXIT_REASON_FILTER}, denied guest accesses exit to userspace.
 *
 * @example
 * ```ts
 * import { denyMsrs, KVM_MSR_FILTER_WRITE } from "@pvkit/kvm";
 * const r = denyMsrs(KVM_MSR_FILTER_WRITE, [0x11, 0x12]);
 * console.log(r.base, r.nmsrs, r.bitmap[0]); // 17 2 252
 * ```
 */
export function denyMsrs(flags: number, msrs: readonly number[]): MsrFilterRange {
  if (msrs.length === 0) {
    throw new PvkitError("kvm-msr-filter", "denyMsrs needs at least one MSR");
  }
  const base = Math.min(...msrs);
  const nmsrs = Math.max(...msrs) - base + 1;
  const bitmap = new Uint8Array(msrFilterBitmapSize(nmsrs)).fill(0xff);
  for (const msr of msrs) bitmap[(msr - base) >> 3] &= ~(1 << ((msr - base) & 7));
  return { flags, base, nmsrs, bitmap };
}

/**
 * Checks a filter against KVM's limits; throws a `PvkitError` (`kvm-msr-filter`) naming the
 * problem.
 */
export function validateMsrFilter(filter: MsrFilter): void {
  const fail = (why: string): never => {
    throw new PvkitError("kvm-msr-filter", `invalid MSR filter: ${why}`);
  };
  if (filter.flags !== 0 && filter.flags !== 1) fail(`flags ${filter.flags}`);
  if (filter.ranges.length > KVM_MSR_FILTER_MAX_RANGES) {
    fail(`${filter.ranges.length} ranges (at most ${KVM_MSR_FILTER_MAX_RANGES})`);
  }
  filter.ranges.forEach((r, i) => {
    if (r.flags === 0 || (r.flags & ~3) !== 0) fail(`range ${i} has flags ${r.flags}`);
    const size = msrFilterBitmapSize(r.nmsrs);
    if (!Number.isInteger(r.nmsrs) || r.nmsrs <= 0 || size > KVM_MSR_FILTER_MAX_BITMAP_SIZE) {
      fail(`range ${i} has ${r.nmsrs} MSRs`);
    }
    if (!Number.isInteger(r.base) || r.base < 0 || r.base + r.nmsrs > 0x1_0000_0000) {
      fail(`range ${i} starts at ${r.base}`);
    }
    if (r.bitmap.length < size) {
      fail(`range ${i}'s bitmap has ${r.bitmap.length} bytes, not ${size}`);
    }
  });
}

/**
 * Encodes `struct kvm_msr_filter` (392 bytes): flags u32 @0, then 16 ranges of 24 bytes at @8,
 * each {flags u32 @0, nmsrs u32 @4, base u32 @8, pad @12, bitmap pointer u64 @16}.
 * `bitmapAddresses[i]` is the host address of range i's bitmap (the ioctl's caller keeps it
 * alive during the call; KVM copies it).
 *
 * @example
 * ```ts
 * import { denyMsrs, encodeKvmMsrFilter, KVM_MSR_FILTER_READ } from "@pvkit/kvm";
 * const buf = encodeKvmMsrFilter({ flags: 0, ranges: [denyMsrs(KVM_MSR_FILTER_READ, [8])] }, [0x1000n]);
 * const v = new DataView(buf.buffer);
 * console.log(buf.length, v.getUint32(8, true), v.getUint32(16, true), v.getBigUint64(24, true)); // 392 1 8 4096n
 * ```
 */
export function encodeKvmMsrFilter(
  filter: MsrFilter,
  bitmapAddresses: readonly bigint[],
): Uint8Array<ArrayBuffer> {
  validateMsrFilter(filter);
  if (bitmapAddresses.length !== filter.ranges.length) {
    throw new PvkitError(
      "kvm-msr-filter",
      `${filter.ranges.length} ranges but ${bitmapAddresses.length} bitmap addresses`,
    );
  }
  const buf = new Uint8Array(FILTER_SIZE);
  const v = new DataView(buf.buffer);
  v.setUint32(0, filter.flags, true);
  filter.ranges.forEach((r, i) => {
    const at = RANGES_OFFSET + i * RANGE_SIZE;
    v.setUint32(at, r.flags, true);
    v.setUint32(at + 4, r.nmsrs, true);
    v.setUint32(at + 8, r.base, true);
    v.setBigUint64(at + 16, bitmapAddresses[i], true);
  });
  return buf;
}
