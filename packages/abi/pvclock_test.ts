import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { kvmGetTimeScale, pvclockReadCycles, pvclockScaleDelta, pvclockTscKhz } from "./pvclock.ts";
import { SplitMix64 } from "./_test_prng.ts";

const NS_PER_SEC = 1_000_000_000n;
const TWO32 = 1n << 32n;
const TWO53 = 1n << 53n;
const TWO64 = 1n << 64n;

// ---------------------------------------------------------------------------------------------
// Independent references, written from the spec's description with division and modulo
// (not the shifts and masks the implementation uses).

/** Non-negative residue of x mod m. */
function mod(x: bigint, m: bigint): bigint {
  return ((x % m) + m) % m;
}

/** spec §4 pvclock_scale_delta, 64-bit build: shift, then (u128 product) >> 32. */
function refScaleDelta(delta: bigint, mul: number, shift: number): bigint {
  let d = mod(delta, TWO64);
  if (shift < 0) d = d / 2n ** BigInt(-shift);
  else d = mod(d * 2n ** BigInt(shift), TWO64);
  return mod((d * BigInt(mul)) / TWO32, TWO64);
}

/** spec §4: the 32-bit build's two 32×32 products; "the result is the same mod 2^64". */
function refScaleDelta32(delta: bigint, mul: number, shift: number): bigint {
  let d = mod(delta, TWO64);
  if (shift < 0) d = d / 2n ** BigInt(-shift);
  else d = mod(d * 2n ** BigInt(shift), TWO64);
  const hi = d / TWO32;
  const lo = d % TWO32;
  const m = BigInt(mul);
  return mod((lo * m) / TWO32 + hi * m, TWO64);
}

/** spec §4 __pvclock_read_cycles. */
function refReadCycles(
  sys: bigint,
  ts: bigint,
  mul: number,
  shift: number,
  tsc: bigint,
): bigint {
  return mod(sys + refScaleDelta(mod(tsc - ts, TWO64), mul, shift), TWO64);
}

// ---------------------------------------------------------------------------------------------
// kvm_get_time_scale

Deno.test("kvmGetTimeScale matches every row of the spec §4 table (scaled = 1e9)", () => {
  const rows: [bigint, number, number][] = [
    [100_000_000n, 4, 0xa0000000],
    [1_000_000_000n, 1, 0x80000000],
    [2_100_000_000n, -1, 0xf3cf3cf3],
    [2_500_000_000n, -1, 0xcccccccc],
    [3_000_000_000n, -1, 0xaaaaaaaa],
    [3_700_000_000n, -1, 0x8a60dd67],
    [5_000_000_000n, -2, 0xcccccccc],
  ];
  for (const [tscHz, shift, mul] of rows) {
    assertEquals(kvmGetTimeScale(NS_PER_SEC, tscHz), { shift, mul }, `TSC ${tscHz} Hz`);
  }
});

Deno.test("kvmGetTimeScale in reverse (scaled = 2.5 GHz, base = 1e9) gives +2 / 0xA0000000", () => {
  // spec §4: KVM's nsec_to_cycles use.
  assertEquals(kvmGetTimeScale(2_500_000_000n, NS_PER_SEC), { shift: 2, mul: 0xa0000000 });
});

Deno.test("one second of ticks is 999999999 ns for non-power-of-2 ratios (truncation)", () => {
  for (const hz of [2_100_000_000n, 2_500_000_000n, 3_000_000_000n, 3_700_000_000n]) {
    const { shift, mul } = kvmGetTimeScale(NS_PER_SEC, hz);
    assertEquals(pvclockScaleDelta(hz, mul, shift), 999_999_999n, `${hz} Hz`);
  }
  // Power-of-2 ratios are exact.
  for (const hz of [1_000_000_000n, 500_000_000n, 250_000_000n]) {
    const { shift, mul } = kvmGetTimeScale(NS_PER_SEC, hz);
    assertEquals(pvclockScaleDelta(hz, mul, shift), NS_PER_SEC, `${hz} Hz`);
  }
});

Deno.test("kvmGetTimeScale rejects zero frequencies instead of looping forever", () => {
  const e = assertThrows(() => kvmGetTimeScale(NS_PER_SEC, 0n), PvkitError);
  assertEquals((e as PvkitError).code, "invalid-time-scale");
  assertThrows(() => kvmGetTimeScale(0n, 2_500_000_000n), PvkitError);
  // 2*scaled wraps to 0 in u64 (scaled = 2^63): KVM would divide by zero.
  assertThrows(() => kvmGetTimeScale(1n << 63n, 1000n), PvkitError);
});

Deno.test("kvmGetTimeScale handles extreme inputs with an s8 shift", () => {
  const max = TWO64 - 1n;
  for (const [scaled, base] of [[1n, max], [max, 1n], [max, max], [1n, 1n], [NS_PER_SEC, 1n]]) {
    const { shift, mul } = kvmGetTimeScale(scaled, base);
    assertEquals(shift >= -128 && shift <= 127, true, `shift ${shift}`);
    assertEquals(mul >= 0 && mul <= 0xffffffff && Number.isInteger(mul), true, `mul ${mul}`);
  }
});

Deno.test("kvmGetTimeScale: 10 000 seeded TSC rates convert 1 s to 1e9 ns within rounding", () => {
  const rng = new SplitMix64(0x5eed_0001n);
  for (let i = 0; i < 10_000; i++) {
    // 1 MHz .. ~17 GHz
    const hz = 1_000_000n + rng.bitsU64(34);
    const { shift, mul } = kvmGetTimeScale(NS_PER_SEC, hz);
    assertEquals(shift >= -31 && shift <= 31, true);
    const ns = pvclockScaleDelta(hz, mul, shift);
    // Truncating mul and the shifted ticks loses at most a few ns per second.
    const err = NS_PER_SEC - ns;
    if (err < 0n || err > 8n) throw new Error(`${hz} Hz: 1 s came out as ${ns} ns`);
    // The guest's derived frequency is within the truncation of (1e6 << 32) / mul, scaled.
    const khz = pvclockTscKhz(mul, shift);
    const want = hz / 1000n;
    const slack = 2n ** BigInt(Math.max(0, -shift)) + 1n;
    const diff = khz > want ? khz - want : want - khz;
    if (diff > slack) throw new Error(`${hz} Hz: derived ${khz} kHz`);
  }
});

// ---------------------------------------------------------------------------------------------
// pvclock_scale_delta / __pvclock_read_cycles

Deno.test("the two spec references agree (64-bit mulq vs 32-bit two-product build)", () => {
  const rng = new SplitMix64(0x5eed_0002n);
  for (let i = 0; i < 2000; i++) {
    const d = rng.nextU64();
    const mul = rng.nextU32();
    const shift = rng.intIn(-31, 31);
    assertEquals(refScaleDelta32(d, mul, shift), refScaleDelta(d, mul, shift));
  }
});

Deno.test("pvclockScaleDelta: hand-checked values", () => {
  assertEquals(pvclockScaleDelta(0n, 0xffffffff, 5), 0n);
  assertEquals(pvclockScaleDelta(1000n, 0x80000000, 1), 1000n); // 1 GHz
  assertEquals(pvclockScaleDelta(1000n, 0xa0000000, 4), 10_000n); // 100 MHz
  // Left shift loses high bits: 2^63 << 1 is 0 in u64.
  assertEquals(pvclockScaleDelta(1n << 63n, 0xffffffff, 1), 0n);
  // Largest possible product: (2^64 - 1) * (2^32 - 1) >> 32.
  assertEquals(pvclockScaleDelta(TWO64 - 1n, 0xffffffff, 0), ((TWO64 - 1n) * 0xffffffffn) >> 32n);
  // Shifts of 64 or more give 0 in either direction.
  assertEquals(pvclockScaleDelta(TWO64 - 1n, 0xffffffff, 64), 0n);
  assertEquals(pvclockScaleDelta(TWO64 - 1n, 0xffffffff, -64), 0n);
  assertEquals(pvclockScaleDelta(TWO64 - 1n, 0xffffffff, -128), 0n);
  assertEquals(pvclockScaleDelta(TWO64 - 1n, 0xffffffff, 127), 0n);
  // delta is u64: a negative delta wraps.
  assertEquals(pvclockScaleDelta(-1n, 0x80000000, 0), refScaleDelta(-1n, 0x80000000, 0));
  // mul is u32: -1 means 0xFFFFFFFF.
  assertEquals(pvclockScaleDelta(1n << 40n, -1, 0), refScaleDelta(1n << 40n, 0xffffffff, 0));
});

Deno.test("pvclockScaleDelta rejects a non-integer shift", () => {
  assertThrows(() => pvclockScaleDelta(5n, 1, 1.5), RangeError);
  assertThrows(() => pvclockScaleDelta(5n, 1, -1.5), RangeError);
  assertThrows(() => pvclockScaleDelta(5n, 1, NaN), RangeError);
});

/** Deltas that stress every boundary: 0, tiny, 2^32, 2^53, 2^63, 2^64 - 1, and random. */
function interestingDelta(rng: SplitMix64): bigint {
  switch (rng.intIn(0, 7)) {
    case 0:
      return rng.bitsU64(rng.intIn(0, 12)); // tiny
    case 1:
      return rng.bitsU64(40); // typical: minutes of ticks
    case 2:
      return TWO53 - 8n + rng.bitsU64(4); // around 2^53
    case 3:
      return TWO64 - 1n - rng.bitsU64(rng.intIn(0, 40)); // near 2^64
    case 4:
      return (1n << BigInt(rng.intIn(0, 63))) + rng.bitsU64(2) - 1n; // powers of two ± 1
    case 5:
      return TWO32 - 2n + rng.bitsU64(2); // around 2^32
    default:
      return rng.nextU64();
  }
}

function interestingMul(rng: SplitMix64): number {
  switch (rng.intIn(0, 5)) {
    case 0:
      return rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe]);
    case 1:
      return 0x80000000 + (rng.nextU32() >>> 1); // the range kvm_get_time_scale produces
    default:
      return rng.nextU32();
  }
}

Deno.test("pvclockScaleDelta equals the reference on 10 000 seeded inputs", () => {
  const rng = new SplitMix64(0x5eed_0003n);
  for (let i = 0; i < 10_000; i++) {
    const delta = interestingDelta(rng);
    const mul = interestingMul(rng);
    const shift = rng.intIn(0, 9) === 0
      ? rng.pick([-63, -40, -32, 32, 40, 63])
      : rng.intIn(-31, 31);
    const got = pvclockScaleDelta(delta, mul, shift);
    const want = refScaleDelta(delta, mul, shift);
    if (got !== want) {
      throw new Error(`scale(${delta}, 0x${mul.toString(16)}, ${shift}) = ${got}, want ${want}`);
    }
  }
});

Deno.test("pvclockReadCycles equals the reference on 10 000 seeded inputs", () => {
  const rng = new SplitMix64(0x5eed_0004n);
  for (let i = 0; i < 10_000; i++) {
    const ts = rng.intIn(0, 1) === 0 ? rng.nextU64() : rng.bitsU64(50);
    // tsc before, at or after tsc_timestamp (before wraps as u64).
    const tsc = BigInt.asUintN(64, ts + interestingDelta(rng) * (rng.intIn(0, 4) === 0 ? -1n : 1n));
    const sys = rng.intIn(0, 2) === 0 ? TWO64 - 1n - rng.bitsU64(45) : rng.bitsU64(55);
    const mul = interestingMul(rng);
    const shift = rng.intIn(-31, 31);
    const record = { tscTimestamp: ts, systemTime: sys, tscToSystemMul: mul, tscShift: shift };
    const got = pvclockReadCycles(record, tsc);
    const want = refReadCycles(sys, ts, mul, shift, tsc);
    if (got !== want) {
      throw new Error(`readCycles(${JSON.stringify(record, (_, v) => String(v))}, ${tsc})`);
    }
  }
});

Deno.test("pvclockReadCycles wraps system_time + scaled mod 2^64", () => {
  const record = {
    tscTimestamp: 10n,
    systemTime: TWO64 - 5n,
    tscToSystemMul: 0x80000000,
    tscShift: 1,
  };
  assertEquals(pvclockReadCycles(record, 20n), 5n); // 2^64 - 5 + 10
  // A TSC before tsc_timestamp: the u64 delta is huge, as in C.
  assertEquals(pvclockReadCycles(record, 9n), refReadCycles(TWO64 - 5n, 10n, 0x80000000, 1, 9n));
});

Deno.test("the multiplier cache is not fooled by alternating records", () => {
  const a = { tscTimestamp: 0n, systemTime: 0n, tscToSystemMul: 0x80000000, tscShift: 1 };
  const b = { tscTimestamp: 0n, systemTime: 0n, tscToSystemMul: 0xcccccccc, tscShift: -1 };
  for (let i = 0; i < 3; i++) {
    assertEquals(pvclockReadCycles(a, 1000n), 1000n);
    assertEquals(pvclockReadCycles(b, 2_500_000_000n), 999_999_999n);
  }
});

// ---------------------------------------------------------------------------------------------
// pvclock_tsc_khz

Deno.test("pvclockTscKhz inverts the spec table", () => {
  assertEquals(pvclockTscKhz(0xa0000000, 4), 100_000n);
  assertEquals(pvclockTscKhz(0x80000000, 1), 1_000_000n);
  assertEquals(pvclockTscKhz(0xcccccccc, -1), 2_500_000n);
  assertEquals(pvclockTscKhz(0xaaaaaaaa, -1), 3_000_000n);
  assertEquals(pvclockTscKhz(0xcccccccc, -2), 5_000_000n);
  // ((1e6 << 32) / mul) shifted, exactly as the formula says.
  assertEquals(pvclockTscKhz(0xf3cf3cf3, -1), ((1_000_000n << 32n) / 0xf3cf3cf3n) << 1n);
  assertEquals(pvclockTscKhz(0x8a60dd67, -1), ((1_000_000n << 32n) / 0x8a60dd67n) << 1n);
});

Deno.test("pvclockTscKhz: u64 wrap on large left shifts and a zero mul is an error", () => {
  assertEquals(pvclockTscKhz(1, -40), mod((1_000_000n << 32n) << 40n, TWO64));
  assertEquals(pvclockTscKhz(1, 70), 0n);
  const e = assertThrows(() => pvclockTscKhz(0, 0), PvkitError);
  assertEquals((e as PvkitError).code, "invalid-time-scale");
});
