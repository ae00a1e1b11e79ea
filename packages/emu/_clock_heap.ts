/**
 * An indexed min-heap of ids 0..n-1 keyed by a virtual time (bigint ns), ties going to the lower
 * id: the scheduler's "which host CPU runs next". The heap and the keys live in typed arrays, so
 * a sift touches contiguous memory however many CPUs there are (objects scattered over a large
 * heap made each step slower as the vCPU count grew).
 *
 * @module
 */

/** Below 2^53 a bigint converts to a number exactly, so numbers compare like the bigints. */
const EXACT = 2 ** 53;

/** A min-heap of small integer ids with bigint keys. */
export class ClockHeap {
  readonly #heap: Int32Array;
  readonly #pos: Int32Array;
  readonly #approx: Float64Array;
  readonly #exact: bigint[];
  #size = 0;

  /** Creates an empty heap for ids 0 to `capacity - 1`. */
  constructor(capacity: number) {
    this.#heap = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity).fill(-1);
    this.#approx = new Float64Array(capacity);
    this.#exact = new Array<bigint>(capacity).fill(0n);
  }

  /** The id with the smallest key, or -1 when empty. */
  top(): number {
    return this.#size > 0 ? this.#heap[0] : -1;
  }

  /** The key `id` is sorted by (meaningful while it is in the heap). */
  key(id: number): bigint {
    return this.#exact[id];
  }

  /** True when `id` is in the heap. */
  has(id: number): boolean {
    return this.#pos[id] >= 0;
  }

  /** Inserts `id` with `key`, or moves it to `key`. */
  set(id: number, key: bigint): void {
    this.#approx[id] = Number(key);
    this.#exact[id] = key;
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
    const ka = this.#approx[a], kb = this.#approx[b];
    if (ka !== kb) return ka < kb;
    if (ka >= EXACT && this.#exact[a] !== this.#exact[b]) return this.#exact[a] < this.#exact[b];
    return a < b;
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
