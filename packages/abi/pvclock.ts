/**
 * kvmclock arithmetic with exact 64-bit semantics: the host's choice of (shift, mul) for a TSC
 * frequency, the guest's TSC → ns conversion, and the TSC frequency a guest derives back.
 *
 * Every function gives the bit-exact result the C code gives (u32/u64 truncation included).
 *
 * Speed: {@linkcode pvclockScaleDelta} and {@linkcode pvclockReadCycles} are the kvmclock hot
 * path. They stay in BigInt arithmetic. A float fast path (exact while every value is below
 * 2^53) was measured in `pvclock_bench.ts` and rejected: in V8, converting the bigint operands
 * to numbers and the result back costs about what it saves for one scale, and makes a whole
 * read slower (three operands to convert). What the hot path does avoid is number → bigint
 * conversion: shift counts come from a table and the multiplier's bigint is cached. The tests
 * check both functions against an independent reference on 10 000 seeded inputs.
 *
 * Source: spec §4 ([X] kvm_get_time_scale; [P] pvclock_scale_delta, __pvclock_read_cycles,
 * pvclock_tsc_khz).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import type { PvclockVcpuTimeInfo } from "./pvclock_vcpu_time_info.ts";

/**
 * A TSC → ns conversion: ns = ((ticks shifted by `shift`) × `mul`) >> 32.
 *
 * @example
 * ```ts
 * import { kvmGetTimeScale, type TimeScale } from "@pvkit/abi";
 * const scale: TimeScale = kvmGetTimeScale(1_000_000_000n, 1_000_000_000n);
 * console.log(scale); // { shift: 1, mul: 0x80000000 }
 * ```
 */
export interface TimeScale {
  /** Shift applied to the tick count first: left if positive, right if negative (s8). */
  shift: number;
  /** 32.32 fixed-point multiplier (u32). */
  mul: number;
}

const U32_MASK = 0xffff_ffffn;
const U64_MASK = 0xffff_ffff_ffff_ffffn;

// Hot-path caches. Converting a number to a bigint is a runtime call in V8, so shift counts
// come from a table and the last multiplier's bigint is kept (mul rarely changes).
const SHIFT_BIG: readonly bigint[] = Array.from({ length: 129 }, (_, k) => BigInt(k));
let cachedMul = NaN; // NaN never equals a mul, so the first call always converts
let cachedMulBig = 0n;

function mulBig(mul: number): bigint {
  if (mul !== cachedMul) {
    cachedMulBig = BigInt(mul >>> 0); // (u32)mul
    cachedMul = mul;
  }
  return cachedMulBig;
}

/** `delta` (already u64) shifted as pvclock_scale_delta does: right by -shift, else left mod 2^64. */
function shiftDelta(delta: bigint, shift: number): bigint {
  if (shift < 0) return delta >> (SHIFT_BIG[-shift] ?? BigInt(-shift));
  if (shift === 0) return delta;
  if (shift >= 64) return 0n;
  return (delta << (SHIFT_BIG[shift] ?? BigInt(shift))) & U64_MASK;
}

/**
 * Computes the (shift, mul) pair that converts `baseHz` ticks to `scaledHz` units, exactly as
 * KVM's kvm_get_time_scale does (kvmclock uses scaled = 1e9, base = TSC Hz).
 *
 * Throws {@linkcode PvkitError} (code `"invalid-time-scale"`) for a zero frequency, where
 * KVM's loop would never end.
 *
 * @example
 * ```ts
 * import { kvmGetTimeScale } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(kvmGetTimeScale(1_000_000_000n, 2_500_000_000n), { shift: -1, mul: 0xcccccccc });
 * ```
 */
export function kvmGetTimeScale(scaledHz: bigint, baseHz: bigint): TimeScale {
  let tps64 = BigInt.asUintN(64, baseHz);
  let scaled64 = BigInt.asUintN(64, scaledHz);
  if (tps64 === 0n || scaled64 === 0n) {
    throw new PvkitError(
      "invalid-time-scale",
      `cannot compute a time scale from ${baseHz} Hz to ${scaledHz} Hz: both must be nonzero`,
      "give a TSC frequency of at least 1 Hz",
    );
  }
  let shift = 0;
  // [X] kvm_get_time_scale: halve the tick rate until it fits in u32 and is at most twice
  // the target rate (the doubling is a u64 product, so it may wrap).
  while (tps64 > ((scaled64 << 1n) & U64_MASK) || (tps64 >> 32n) !== 0n) {
    tps64 >>= 1n;
    shift--;
  }
  let tps32 = tps64 & U32_MASK; // (u32)tps64
  if (tps32 === 0n) {
    // Only reachable when 2*scaled wraps to 0 (scaled = 2^63): KVM would divide by zero.
    throw new PvkitError(
      "invalid-time-scale",
      `cannot compute a time scale from ${baseHz} Hz to ${scaledHz} Hz: the divisor underflows`,
      "use a target rate below 2^63",
    );
  }
  // [X] then make tps32 exceed scaled64 with scaled64 < 2^32, halving scaled or doubling tps.
  while (tps32 <= scaled64 || (scaled64 >> 32n) !== 0n) {
    if ((scaled64 >> 32n) !== 0n || (tps32 & 0x8000_0000n) !== 0n) scaled64 >>= 1n;
    else tps32 <<= 1n;
    shift++;
  }
  // [X] do_shl32_div32: ((u64)(u32)scaled64 << 32) / tps32, kept as u32.
  const mul = Number((((scaled64 & U32_MASK) << 32n) / tps32) & U32_MASK);
  return { shift, mul };
}

/**
 * Scales a TSC delta to ns like the guest's pvclock_scale_delta: shift `delta` (u64) right by
 * -shift or left by shift (high bits lost), then take the 96-bit product with `mul` >> 32.
 *
 * `mul` is taken as u32 and `shift` as an integer; a shift of 64 or more gives 0 (C leaves it
 * undefined; kvm_get_time_scale never produces one).
 *
 * @example
 * ```ts
 * import { pvclockScaleDelta } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * // 2.5 GHz: 2.5e9 ticks are 999999999 ns, because mul is truncated.
 * assertEquals(pvclockScaleDelta(2_500_000_000n, 0xcccccccc, -1), 999_999_999n);
 * ```
 */
export function pvclockScaleDelta(delta: bigint, mul: number, shift: number): bigint {
  const d = delta >= 0n && delta <= U64_MASK ? delta : BigInt.asUintN(64, delta);
  // [P] pvclock_scale_delta: ((u128)shifted_delta * mul) >> 32. The shifted delta is below
  // 2^64 and mul below 2^32, so the result is below 2^64 with no further wrapping.
  return (shiftDelta(d, shift) * mulBig(mul)) >> 32n;
}

/**
 * Converts a guest TSC value to kvmclock ns with a pvclock record, like the guest's
 * __pvclock_read_cycles: system_time + scale(tsc - tsc_timestamp), all mod 2^64.
 *
 * @example
 * ```ts
 * import { pvclockReadCycles } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const rec = { tscTimestamp: 1000n, systemTime: 50n, tscToSystemMul: 0x80000000, tscShift: 1 };
 * assertEquals(pvclockReadCycles(rec, 3000n), 2050n); // 1 GHz: 2000 ticks = 2000 ns
 * ```
 */
export function pvclockReadCycles(
  record: Pick<PvclockVcpuTimeInfo, "tscTimestamp" | "systemTime" | "tscToSystemMul" | "tscShift">,
  tsc: bigint,
): bigint {
  // [P] __pvclock_read_cycles: delta = tsc - tsc_timestamp as u64 (wraps).
  let delta = tsc - record.tscTimestamp;
  if (delta < 0n || delta > U64_MASK) delta = BigInt.asUintN(64, delta);
  const scaled = (shiftDelta(delta, record.tscShift) * mulBig(record.tscToSystemMul)) >> 32n;
  // system_time + scaled, mod 2^64.
  const ns = record.systemTime + scaled;
  return ns >= 0n && ns <= U64_MASK ? ns : BigInt.asUintN(64, ns);
}

/**
 * Derives the TSC frequency in kHz from a pvclock (mul, shift) like the guest's
 * pvclock_tsc_khz: (1e6 << 32) / mul, then shifted left by -shift or right by shift (u64).
 *
 * Throws {@linkcode PvkitError} (code `"invalid-time-scale"`) when `mul` is 0.
 *
 * @example
 * ```ts
 * import { pvclockTscKhz } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(pvclockTscKhz(0xcccccccc, -1), 2_500_000n); // 2.5 GHz
 * ```
 */
export function pvclockTscKhz(mul: number, shift: number): bigint {
  const m = BigInt(mul >>> 0);
  if (m === 0n) {
    throw new PvkitError(
      "invalid-time-scale",
      "cannot derive a TSC frequency from tsc_to_system_mul = 0",
      "use the mul/shift pair that kvmGetTimeScale() returns",
    );
  }
  // [P] pvclock_tsc_khz: 1e6 << 32 divided by mul (u64 division).
  const khz = (1_000_000n << 32n) / m;
  return shift < 0 ? (khz << BigInt(-shift)) & U64_MASK : khz >> BigInt(shift);
}
