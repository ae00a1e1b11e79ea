/**
 * Virtual times (bigint ns) by slot, kept in a Float64Array while a number holds them exactly
 * (below 2^53 ns, about 104 days) and as bigints only past that. A slot therefore holds no
 * pointer to the bigint it was given: a vCPU's clock is a fresh bigint after every step, and
 * arrays of thousands of such pointers made every young-generation collection revisit (and
 * copy) one bigint per vCPU, so the cost of a step grew with the vCPU count.
 *
 * @module
 */

/** Below 2^53 a bigint converts to a number exactly, so numbers compare like the bigints. */
const EXACT = 2 ** 53;

/**
 * A fixed number of bigint times, compared without allocating.
 *
 * @example
 * ```ts
 * import { TimeSlots } from "./_time_slots.ts";
 * const slots = new TimeSlots(2);
 * slots.set(0, 2n ** 60n + 1n); // past 2^53: kept exactly
 * slots.set(1, 2n ** 60n);
 * console.log(slots.compare(0, 1), slots.compareTo(1, 2n ** 60n), slots.get(0) - slots.get(1)); // 1 0 1n
 * ```
 */
export class TimeSlots {
  readonly #approx: Float64Array;
  /** The exact time where the number is not exact (0n elsewhere, so nothing is kept alive). */
  readonly #exact: bigint[];

  /** Creates `length` slots, all at time 0. */
  constructor(length: number) {
    this.#approx = new Float64Array(length);
    this.#exact = new Array<bigint>(length).fill(0n);
  }

  /** Sets slot `i` to `time`. */
  set(i: number, time: bigint): void {
    const approx = Number(time);
    this.#approx[i] = approx;
    this.#exact[i] = Math.abs(approx) >= EXACT ? time : 0n;
  }

  /** Slot `i`'s time. */
  get(i: number): bigint {
    const approx = this.#approx[i];
    return Math.abs(approx) >= EXACT ? this.#exact[i] : BigInt(approx);
  }

  /** Negative, zero or positive as slot `i`'s time is before, at or after `time`. */
  compareTo(i: number, time: bigint): number {
    const a = this.#approx[i], b = Number(time);
    // Number() rounds monotonically: different numbers order the bigints the same way.
    if (a !== b) return a < b ? -1 : 1;
    if (Math.abs(a) < EXACT) return 0;
    const exact = this.#exact[i];
    return exact < time ? -1 : exact > time ? 1 : 0;
  }

  /** Negative, zero or positive as slot `i`'s time is before, at or after slot `j`'s. */
  compare(i: number, j: number): number {
    const a = this.#approx[i], b = this.#approx[j];
    if (a !== b) return a < b ? -1 : 1;
    if (Math.abs(a) < EXACT) return 0;
    const x = this.#exact[i], y = this.#exact[j];
    return x < y ? -1 : x > y ? 1 : 0;
  }
}
