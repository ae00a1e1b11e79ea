/**
 * The local APIC as probes see it: where a register lives (x2APIC MSR or xAPIC MMIO), and the
 * state both backends start a probe's vCPUs in.
 *
 * @module
 */

import type { Probe } from "./types.ts";

/**
 * The xAPIC page's guest-physical address after RESET (APIC_DEFAULT_PHYS_BASE).
 *
 * @example
 * ```ts
 * import { XAPIC_BASE_GPA } from "@pvkit/probe";
 * console.log(XAPIC_BASE_GPA.toString(16)); // "fee00000"
 * ```
 */
export const XAPIC_BASE_GPA = 0xfee00000n;

/**
 * IA32_APIC_BASE (MSR 0x1B).
 *
 * @example
 * ```ts
 * import { MSR_IA32_APIC_BASE } from "@pvkit/probe";
 * console.log(MSR_IA32_APIC_BASE); // 27
 * ```
 */
export const MSR_IA32_APIC_BASE = 0x1b;

/**
 * The x2APIC MSR of the xAPIC register at offset `reg` (Intel SDM 10.12.1.2: 0x800 + reg/16).
 *
 * @example
 * ```ts
 * import { x2apicMsr } from "@pvkit/probe";
 * console.log(x2apicMsr(0xf0).toString(16)); // "80f" (the SVR)
 * ```
 */
export function x2apicMsr(reg: number): number {
  return 0x800 + (reg >>> 4);
}

/**
 * True when a probe takes or sends interrupts through its steps (`sendIpi`, `eoi`,
 * `wait-irq`). Both backends then start every vCPU's local APIC as a booted Linux leaves it:
 * x2APIC mode, software-enabled (SVR 0x1ff). Otherwise the APIC stays as KVM creates it
 * (kvm_lapic_reset: xAPIC mode at 0xFEE00000, SVR 0xff, software-disabled), which `apic-read`,
 * `apic-write` and `wrmsr` of IA32_APIC_BASE can then inspect and change.
 *
 * @example
 * ```ts
 * import { parseProbe, usesApicInterrupts } from "@pvkit/probe";
 * const p = parseProbe({ name: "p", machine: {}, vcpus: [{ steps: [{ op: "eoi" }] }] });
 * console.log(usesApicInterrupts(p)); // true
 * ```
 */
export function usesApicInterrupts(probe: Probe): boolean {
  return probe.vcpus.some((v) =>
    v.steps.some((s) => s.op === "sendIpi" || s.op === "eoi" || s.op === "wait-irq")
  );
}
