/**
 * The width a step's result is parsed and compared in (the step table of README.md): CPUID
 * registers are 32-bit, a hypercall's return is as wide as its caller's mode, memory and port
 * reads are their access size, APIC registers 32-bit (the x2APIC ICR 64), everything else is
 * 64-bit.
 *
 * @module
 */

import type { Step } from "./types.ts";

/** The width, in bits, a step's result is parsed and compared in. */
export function resultWidth(step: Step): number {
  switch (step.op) {
    case "cpuid":
      return 32;
    case "hypercall":
      return step.mode === "32" ? 32 : 64;
    case "read":
    case "in":
      return step.size * 8;
    case "apic-read":
      return step.reg === 0x300 && step.via === "msr" ? 64 : 32;
    default:
      return 64;
  }
}
