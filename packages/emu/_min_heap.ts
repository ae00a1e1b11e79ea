/**
 * A binary min-heap: the scheduler's "who runs next" and the run loop's earliest deadline in
 * O(log n) instead of a scan over every vCPU.
 *
 * @module
 */

/** A binary min-heap ordered by `before(a, b)` (true when `a` comes first). */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  /** Creates an empty heap ordered by `before`. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** The number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** The first item, if any. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    const items = this.#items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.siftTop();
    }
    return top;
  }

  /** Restores the order after the first item's key grew (keys of the others are unchanged). */
  siftTop(): void {
    const items = this.#items;
    const n = items.length;
    if (n === 0) return;
    const item = items[0];
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.#before(items[right], items[left]) ? right : left;
      if (!this.#before(items[child], item)) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = item;
  }
}
