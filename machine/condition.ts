/**
 * Conditions: the small predicate language manifests use for defaults, host support and rules.
 *
 * @module
 */

/** How the interrupt controller is split between the kernel and the VMM. */
export type IrqchipMode = "on" | "split" | "off";

/** The accelerator a machine runs under. */
export type Accelerator = "kvm" | "tcg";

/**
 * A predicate over a machine being composed, written as JSON data in manifests.
 *
 * - `true` / `false`: constant.
 * - `{ "feature": "kvm-steal-time" }`: that feature is enabled.
 * - `{ "irqchip": ["on", "split"] }`: the irqchip mode is one of these.
 * - `{ "x2apic": true }`: the guest's CPUID advertises x2APIC (or not).
 * - `{ "vcpus": { "min": 2 } }`: possible vCPUs (maxcpus) is in range (bounds inclusive).
 * - `{ "apicIdLimit": { "min": 256 } }`: largest APIC ID + 1 is in range.
 * - `{ "accel": ["kvm"] }`, `{ "kvm": false }` (the `kvm=off` CPU property).
 * - `{ "not": c }`, `{ "all": [c, …] }`, `{ "any": [c, …] }`.
 */
export type Condition =
  | boolean
  | { feature: string }
  | { irqchip: readonly IrqchipMode[] }
  | { x2apic: boolean }
  | { vcpus: NumericRange }
  | { apicIdLimit: NumericRange }
  | { accel: readonly Accelerator[] }
  | { kvm: boolean }
  | { not: Condition }
  | { all: readonly Condition[] }
  | { any: readonly Condition[] };

/** An inclusive numeric range; a missing bound is open. */
export interface NumericRange {
  /** Smallest value in range. */
  min?: number;
  /** Largest value in range. */
  max?: number;
}

/** What a condition is evaluated against. */
export interface ConditionFacts {
  /** True when the named feature is enabled. */
  isEnabled(feature: string): boolean;
  /** The irqchip mode. */
  irqchip: IrqchipMode;
  /** Whether x2APIC is advertised. */
  x2apic: boolean;
  /** Possible vCPUs (maxcpus). */
  vcpus: number;
  /** Largest APIC ID + 1. */
  apicIdLimit: number;
  /** The accelerator. */
  accel: Accelerator;
  /** The `kvm` CPU property (false for `kvm=off`). */
  kvm: boolean;
}

function inRange(value: number, range: NumericRange): boolean {
  return (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max);
}

/**
 * Evaluates a condition.
 *
 * @example
 * ```ts
 * import { evaluateCondition } from "@pvkit/machine";
 * const facts = {
 *   isEnabled: (f: string) => f === "kvm-steal-time",
 *   irqchip: "split" as const, x2apic: true, vcpus: 4, apicIdLimit: 4, accel: "kvm" as const,
 *   kvm: true,
 * };
 * console.log(evaluateCondition({ all: [{ feature: "kvm-steal-time" }, { irqchip: ["split"] }] }, facts));
 * ```
 */
export function evaluateCondition(condition: Condition, facts: ConditionFacts): boolean {
  if (typeof condition === "boolean") return condition;
  if ("feature" in condition) return facts.isEnabled(condition.feature);
  if ("irqchip" in condition) return condition.irqchip.includes(facts.irqchip);
  if ("x2apic" in condition) return facts.x2apic === condition.x2apic;
  if ("vcpus" in condition) return inRange(facts.vcpus, condition.vcpus);
  if ("apicIdLimit" in condition) return inRange(facts.apicIdLimit, condition.apicIdLimit);
  if ("accel" in condition) return condition.accel.includes(facts.accel);
  if ("kvm" in condition) return facts.kvm === condition.kvm;
  if ("not" in condition) return !evaluateCondition(condition.not, facts);
  if ("all" in condition) return condition.all.every((c) => evaluateCondition(c, facts));
  return condition.any.some((c) => evaluateCondition(c, facts));
}

/**
 * Lists the feature names a condition mentions (for dependency checks and documentation).
 *
 * @example
 * ```ts
 * import { conditionFeatures } from "@pvkit/machine";
 * console.log(conditionFeatures({ any: [{ feature: "a" }, { not: { feature: "b" } }] })); // ["a", "b"]
 * ```
 */
export function conditionFeatures(condition: Condition): string[] {
  if (typeof condition === "boolean") return [];
  if ("feature" in condition) return [condition.feature];
  if ("not" in condition) return conditionFeatures(condition.not);
  if ("all" in condition) return condition.all.flatMap(conditionFeatures);
  if ("any" in condition) return condition.any.flatMap(conditionFeatures);
  return [];
}
