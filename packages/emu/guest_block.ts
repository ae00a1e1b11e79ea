/**
 * What a guest program asks the scheduler when it yields: the points where a vCPU spends time
 * or waits.
 *
 * @module
 */

/** A scheduling request from a guest program. */
export type GuestBlock =
  | { readonly kind: "yield" }
  | { readonly kind: "spin"; readonly ns: number | bigint }
  | { readonly kind: "pause" }
  | { readonly kind: "hlt" }
  | { readonly kind: "preempt"; readonly ns: number | bigint }
  | { readonly kind: "barrier"; readonly id: string }
  | { readonly kind: "wait-irq"; readonly vector: number; readonly timeoutNs: number | bigint };

/** A guest program: runs on one vCPU, yields when it spends time or waits. */
export type GuestProgram<C> = (cpu: C) => Generator<GuestBlock, void, void>;
