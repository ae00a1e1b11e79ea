/**
 * Exit accounting: what would be a VM exit on KVM, counted per vCPU by reason.
 *
 * @module
 */

import type { ExitReason } from "@pvkit/machine";

/** Exit counts by reason. */
export type ExitCounts = Record<ExitReason, number>;

/**
 * A fresh, zeroed set of exit counters.
 *
 * @example
 * ```ts
 * import { newExitCounts } from "@pvkit/emu";
 * console.log(newExitCounts().hypercall); // 0
 * ```
 */
export function newExitCounts(): ExitCounts {
  return {
    cpuid: 0,
    "msr-read": 0,
    "msr-write": 0,
    hypercall: 0,
    io: 0,
    hlt: 0,
    eoi: 0,
    ipi: 0,
    mmio: 0,
  };
}

/**
 * Sums exit counters.
 *
 * @example
 * ```ts
 * import { newExitCounts, sumExitCounts } from "@pvkit/emu";
 * const a = newExitCounts();
 * a.io = 2;
 * console.log(sumExitCounts([a, a]).io); // 4
 * ```
 */
export function sumExitCounts(all: readonly ExitCounts[]): ExitCounts {
  const out = newExitCounts();
  for (const counts of all) {
    for (const key of Object.keys(out) as ExitReason[]) out[key] += counts[key];
  }
  return out;
}
