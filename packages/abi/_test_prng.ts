// A small seeded PRNG for the tests (SplitMix64). Not exported from mod.ts.

const U64 = 0xffff_ffff_ffff_ffffn;

/** SplitMix64: a 64-bit state advanced by a constant and scrambled; reproducible per seed. */
export class SplitMix64 {
  #state: bigint;

  /** Starts the sequence at `seed` (taken mod 2^64). */
  constructor(seed: bigint) {
    this.#state = BigInt.asUintN(64, seed);
  }

  /** The next uniformly distributed u64. */
  nextU64(): bigint {
    this.#state = (this.#state + 0x9e37_79b9_7f4a_7c15n) & U64;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & U64;
    z = ((z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn) & U64;
    return z ^ (z >> 31n);
  }

  /** The next uniformly distributed u32, as a number. */
  nextU32(): number {
    return Number(this.nextU64() >> 32n);
  }

  /** A uniformly distributed integer in `[lo, hi]` (both inclusive, |hi - lo| < 2^32). */
  intIn(lo: number, hi: number): number {
    return lo + (this.nextU32() % (hi - lo + 1));
  }

  /** A u64 below 2^bits. */
  bitsU64(bits: number): bigint {
    return bits >= 64 ? this.nextU64() : this.nextU64() & ((1n << BigInt(bits)) - 1n);
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.intIn(0, items.length - 1)];
  }
}
