/**
 * An indexed min-heap of ids 0..n-1 keyed by a virtual time (bigint ns), ties going to the lower
 * id: the scheduler's "which host CPU runs next". The heap and the keys live in typed arrays, so
 * a sift touches contiguous memory however many CPUs there are (objects scattered over a large
 * heap made each step slower as the vCPU count grew), and the keys keep no bigint alive (see
 * {@linkcode TimeSlots}).
 *
 * @module
 */

import { TimeSlots } from "./_time_slots.ts";

/** A min-heap of small integer ids with bigint keys. */
export class ClockHeap {
  readonly #heap: Int32Array;
  readonly #pos: Int32Array;
  readonly #keys: TimeSlots;
  #size = 0;

  /** Creates an empty heap for ids 0 to `capacity - 1`. */
  constructor(capacity: number) {
    this.#heap = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity).fill(-1);
    this.#keys = new TimeSlots(capacity);
  }

  /** The id with the smallest key, or -1 when empty. */
  top(): number {
    return this.#size > 0 ? this.#heap[0] : -1;
  }

  /** Negative, zero or positive as `id`'s key is before, at or after `time` (no allocation). */
  compareKey(id: number, time: bigint): number {
    return this.#keys.compareTo(id, time);
  }

  /** True when `id` is in the heap. */
  has(id: number): boolean {
    return this.#pos[id] >= 0;
  }

  /** Inserts `id` with `key`, or moves it to `key`. */
  set(id: number, key: bigint): void {
    this.#keys.set(id, key);
    let at = this.#pos[id];
    if (at < 0) {
      at = this.#size++;
      this.#heap[at] = id;
      this.#pos[id] = at;
    }
    this.#down(this.#up(at));
  }

  /** Removes the top id. */
  pop(): void {
    if (this.#size === 0) return;
    const top = this.#heap[0];
    this.#pos[top] = -1;
    const last = this.#heap[--this.#size];
    if (this.#size > 0) {
      this.#heap[0] = last;
      this.#pos[last] = 0;
      this.#down(0);
    }
  }

  #before(a: number, b: number): boolean {
    const order = this.#keys.compare(a, b);
    return order !== 0 ? order < 0 : a < b;
  }

  #up(at: number): number {
    const heap = this.#heap;
    const id = heap[at];
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.#before(id, heap[parent])) break;
      heap[at] = heap[parent];
      this.#pos[heap[at]] = at;
      at = parent;
    }
    heap[at] = id;
    this.#pos[id] = at;
    return at;
  }

  #down(at: number): void {
    const heap = this.#heap;
    const n = this.#size;
    const id = heap[at];
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.#before(heap[right], heap[left]) ? right : left;
      if (!this.#before(heap[child], id)) break;
      heap[at] = heap[child];
      this.#pos[heap[at]] = at;
      at = child;
    }
    heap[at] = id;
    this.#pos[id] = at;
  }
}
