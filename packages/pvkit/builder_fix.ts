/**
 * Fixes in {@linkcode MachineBuilder} terms: a broken rule's `require` condition, phrased as the
 * builder calls that satisfy it (`.use(kvmStealTime)`, `.irqchip("split")`, `.x2apic()`).
 *
 * @module
 */

import type { Condition, RuleDiagnostic } from "@pvkit/machine";

/** The name a plugin package exports its plugin under: `kvm-steal-time` → `kvmStealTime`. */
function pluginExport(feature: string): string {
  return feature.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function calls(condition: Condition): string | undefined {
  if (typeof condition === "boolean") return undefined;
  if ("feature" in condition) {
    return condition.feature === "x2apic"
      ? ".x2apic()"
      : `.use(${pluginExport(condition.feature)})`;
  }
  if ("not" in condition) {
    const inner = condition.not;
    if (typeof inner === "object" && "feature" in inner) {
      return inner.feature === "x2apic"
        ? ".x2apic(false)"
        : `.disable(${pluginExport(inner.feature)})`;
    }
    return undefined;
  }
  if ("irqchip" in condition) {
    return condition.irqchip.map((m) => `.irqchip("${m}")`).join(" or ") || undefined;
  }
  if ("x2apic" in condition) return condition.x2apic ? ".x2apic()" : ".x2apic(false)";
  if ("vcpus" in condition) {
    const n = condition.vcpus.min ?? condition.vcpus.max;
    return n === undefined ? undefined : `.smp(${n})`;
  }
  if ("all" in condition || "any" in condition) {
    const parts = ("all" in condition ? condition.all : condition.any).map(calls);
    if (parts.some((p) => p === undefined)) return undefined;
    return parts.join("all" in condition ? " and " : " or ");
  }
  return undefined;
}

/**
 * A rule diagnostic whose `fix` is written as builder calls where the rule's condition allows,
 * and in QEMU's option words otherwise.
 *
 * @example
 * ```ts
 * import { builderFix } from "@pvkit/pvkit";
 * const fix = builderFix({
 *   rule: "kvm-pv-tlb-flush/requires-steal-time", level: "error", feature: "kvm-pv-tlb-flush",
 *   message: "kvm-pv-tlb-flush needs kvm-steal-time", dropped: false,
 *   require: { feature: "kvm-steal-time" },
 * });
 * console.log(fix); // ".use(kvmStealTime), or .disable(kvmPvTlbFlush)"
 * ```
 */
export function builderFix(diagnostic: RuleDiagnostic): string | undefined {
  const satisfy = diagnostic.require === undefined ? undefined : calls(diagnostic.require);
  if (satisfy === undefined) return diagnostic.fix;
  return diagnostic.feature === undefined || diagnostic.feature === "x2apic"
    ? satisfy
    : `${satisfy}, or .disable(${pluginExport(diagnostic.feature)})`;
}
