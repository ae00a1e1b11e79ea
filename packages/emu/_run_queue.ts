/**
 * A host CPU's run queue: FIFO order, O(1) membership, push and shift (an array with a moving
 * head, so a queue of 32768 vCPUs does not shift the whole array at every switch).
 *
 * @module
 */

/** A FIFO of distinct items. */
export class RunQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  readonly #members = new Set<T>();

  /** The number of items waiting. */
  get length(): number {
    return this.#members.size;
  }

  /** True when `item` waits in this queue. */
  has(item: T): boolean {
    return this.#members.has(item);
  }

  /** Appends `item` (the caller checks it is not already queued). */
  push(item: T): void {
    this.#members.add(item);
    this.#items.push(item);
  }

  /** Removes and returns the first item. */
  shift(): T | undefined {
    if (this.#members.size === 0) return undefined;
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (item !== undefined && this.#members.delete(item)) {
        this.#compact();
        return item;
      }
    }
    this.#compact();
    return undefined;
  }

  /** Moves a queued `item` to the front; false when it is not queued. */
  moveToFront(item: T): boolean {
    if (!this.#members.has(item)) return false;
    const at = this.#items.indexOf(item, this.#head);
    this.#items[at] = undefined;
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
    return true;
  }

  /** Empties the queue (keeping its array: emptying allocates nothing). */
  clear(): void {
    this.#members.clear();
    this.#items.length = 0;
    this.#head = 0;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items.length = 0; // reuse the array: a new one per emptying was garbage per switch
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
