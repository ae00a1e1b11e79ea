/**
 * The run loop's wait-irq deadlines: the earliest in O(log n), ties going to the vCPU that has
 * waited with a deadline longest (the order the run loop has always used).
 *
 * @module
 */

import type { EmuVcpu } from "./emu_vcpu.ts";
import { MinHeap } from "./_min_heap.ts";

/** A vCPU's deadline: it wakes at `at` unless an interrupt wakes it first. */
export interface Deadline {
  /** The waiting vCPU. */
  readonly vcpu: EmuVcpu;
  /** When the wait times out (virtual ns). */
  readonly at: bigint;
  /** Tie-breaker: when the vCPU's deadline was first set (kept when it is replaced). */
  readonly order: number;
}

/** One deadline per vCPU; setting another replaces it. */
export class Deadlines {
  readonly #current = new Map<EmuVcpu, Deadline>();
  readonly #heap = new MinHeap<Deadline>((a, b) =>
    a.at < b.at || (a.at === b.at && a.order < b.order)
  );
  #nextOrder = 0;

  /** Sets (or replaces) `vcpu`'s deadline. */
  set(vcpu: EmuVcpu, at: bigint): void {
    const order = this.#current.get(vcpu)?.order ?? this.#nextOrder++;
    const deadline = { vcpu, at, order };
    this.#current.set(vcpu, deadline); // a replaced deadline stays in the heap, stale
    this.#heap.push(deadline);
  }

  /** The earliest deadline, if any. */
  earliest(): Deadline | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (!top || this.#current.get(top.vcpu) === top) return top;
      this.#heap.pop();
    }
  }

  /** Drops `vcpu`'s deadline. */
  remove(vcpu: EmuVcpu): void {
    this.#current.delete(vcpu);
  }
}
