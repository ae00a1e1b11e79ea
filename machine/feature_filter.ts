/**
 * Filtering: requested bits the host cannot provide are removed and reported, with QEMU's
 * texts (QEMU's x86_cpu_filter_features / mark_unavailable_features, qemu-kvm-pv.md §4).
 *
 * @module
 */

import type { Accelerator } from "./condition.ts";
import type { CpuidNotation } from "./composition.ts";
import type { CpuidRegister } from "./cpuid.ts";

/** One CPUID output register of one leaf. */
export interface CpuRegisterWord {
  /** The leaf. */
  readonly leaf: number;
  /** The register. */
  readonly register: CpuidRegister;
}

/**
 * QEMU's per-bit warning: `host doesn't support requested feature: CPUID.40000001H:EAX.kvm-pv-unhalt [bit 7]`
 * (`TCG doesn't support …` under TCG; no `.name` for an unnamed bit). Newer QEMU writes the
 * register as `CPUID[eax=40000001h].EAX` (`bracketed`).
 *
 * @example
 * ```ts
 * import { unsupportedFeatureWarning } from "@pvkit/machine";
 * console.log(unsupportedFeatureWarning("kvm", { leaf: 0x40000001, register: "eax" }, 7, "kvm-pv-unhalt"));
 * ```
 */
export function unsupportedFeatureWarning(
  accel: Accelerator,
  word: CpuRegisterWord,
  bit: number,
  name: string | undefined,
  notation: CpuidNotation = "legacy",
): string {
  const prefix = accel === "tcg"
    ? "TCG doesn't support requested feature"
    : "host doesn't support requested feature";
  const leaf = word.leaf.toString(16).toUpperCase().padStart(2, "0");
  const register = word.register.toUpperCase();
  const where = notation === "legacy"
    ? `CPUID.${leaf}H:${register}`
    : `CPUID[eax=${leaf}h].${register}`;
  const suffix = name ? `.${name}` : "";
  return `${prefix}: ${where}${suffix} [bit ${bit}]`;
}

/**
 * QEMU's fatal error when `enforce=on` and something was filtered.
 *
 * @example
 * ```ts
 * import { enforceFailure } from "@pvkit/machine";
 * console.log(enforceFailure("kvm")); // "Host doesn't support requested features"
 * ```
 */
export function enforceFailure(accel: Accelerator): string {
  return accel === "tcg"
    ? "TCG doesn't support requested features"
    : "Host doesn't support requested features";
}
