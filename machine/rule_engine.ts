/**
 * Rule evaluation for `--rules strict`: which manifest and machine rules a composition breaks,
 * and the texts that say so.
 *
 * @module
 */

import { type ConditionFacts, conditionFeatures, evaluateCondition } from "./condition.ts";
import type { PluginManifest, Rule, RuleLevel } from "./manifest.ts";

/** A rule that does not hold, with the feature that owns it (none for machine rules). */
export interface RuleViolation {
  /** The rule. */
  readonly rule: Rule;
  /** The owning feature, absent for machine rules. */
  readonly owner?: PluginManifest;
}

/**
 * The rules owned by a feature: its manifest's rules, plus an implicit error rule when the
 * feature has been removed from KVM (`removed` in the manifest).
 *
 * @example
 * ```ts
 * import { ownedRules, PluginRegistry } from "@pvkit/machine";
 * console.log(ownedRules(new PluginRegistry().lookup("x2apic")!.manifest).length); // 0
 * ```
 */
export function ownedRules(m: PluginManifest): readonly Rule[] {
  if (!m.removed) return m.rules;
  const removed: Rule = {
    id: `${m.name}/removed`,
    level: "error",
    message: `{feature} was removed from KVM (${m.removed.since}): ${m.removed.reason}`,
    fix: m.removed.replacement
      ? `use ${m.removed.replacement} instead`
      : `drop {feature} from -cpu (or set {feature}=off)`,
  };
  return [removed, ...m.rules];
}

/**
 * Finds the violated rules: for each enabled owner, its rules; then the machine rules.
 *
 * @example
 * ```ts
 * import { findViolations } from "@pvkit/machine";
 * const facts = {
 *   isEnabled: () => true, irqchip: "on" as const, x2apic: true, vcpus: 300, apicIdLimit: 300,
 *   accel: "kvm" as const, kvm: true,
 * };
 * const rule = { id: "x", level: "error" as const, when: { vcpus: { min: 32769 } }, message: "too many" };
 * console.log(findViolations([], facts, [rule]).length); // 0
 * ```
 */
export function findViolations(
  owners: readonly PluginManifest[],
  facts: ConditionFacts,
  machineRules: readonly Rule[],
): RuleViolation[] {
  const out: RuleViolation[] = [];
  const check = (rule: Rule, owner?: PluginManifest) => {
    if (rule.when !== undefined && !evaluateCondition(rule.when, facts)) return;
    if (rule.require !== undefined && evaluateCondition(rule.require, facts)) return;
    out.push(owner ? { rule, owner } : { rule });
  };
  for (const owner of owners) {
    if (!facts.isEnabled(owner.name)) continue;
    for (const rule of ownedRules(owner)) check(rule, owner);
  }
  for (const rule of machineRules) check(rule);
  return out;
}

function fill(text: string, violation: RuleViolation, facts: ConditionFacts): string {
  const matched = violation.rule.when === undefined
    ? []
    : conditionFeatures(violation.rule.when).filter((f) => facts.isEnabled(f));
  return text
    .replaceAll("{feature}", violation.owner?.name ?? "")
    .replaceAll("{matched}", matched.join(", "))
    .replaceAll("{vcpus}", String(facts.vcpus))
    .replaceAll("{apicIdLimit}", String(facts.apicIdLimit))
    .replaceAll("{maxApicId}", String(facts.apicIdLimit - 1));
}

/**
 * The text of a violation: the message, the rule's id, and the fix.
 *
 * @example
 * ```ts
 * import { describeViolation } from "@pvkit/machine";
 * const facts = {
 *   isEnabled: () => false, irqchip: "off" as const, x2apic: false, vcpus: 1, apicIdLimit: 1,
 *   accel: "kvm" as const, kvm: true,
 * };
 * const rule = { id: "r", level: "error" as const, message: "needs more", fix: "add more" };
 * console.log(describeViolation({ rule }, facts)); // "needs more [rule r]; fix: add more"
 * ```
 */
export function describeViolation(violation: RuleViolation, facts: ConditionFacts): string {
  const { rule } = violation;
  const fix = rule.fix ? `; fix: ${fill(rule.fix, violation, facts)}` : "";
  return `${fill(rule.message, violation, facts)} [rule ${rule.id}]${fix}`;
}

/**
 * A broken rule as data: what {@linkcode describeViolation} writes as text, field by field.
 * `ComposedMachine.ruleDiagnostics` lists them for code that acts on them.
 */
export interface RuleDiagnostic {
  /** The rule's id, e.g. `"kvm-pv-eoi/in-kernel-irqchip"`. */
  readonly rule: string;
  /** How serious it is (an error default feature is dropped, and `dropped` says so). */
  readonly level: RuleLevel;
  /** The feature that owns the rule; absent for machine rules. */
  readonly feature?: string;
  /** What is wrong, placeholders filled in. */
  readonly message: string;
  /** How to fix it in QEMU's option words, placeholders filled in, when the rule says. */
  readonly fix?: string;
  /** Where the rule comes from (kernel function, QEMU file, Documentation/virt/kvm). */
  readonly source?: string;
  /** True when pvkit dropped the (default or host-passthrough) feature instead of failing. */
  readonly dropped: boolean;
  /** The condition the rule requires, for tools that phrase their own fix (MachineBuilder). */
  readonly require?: Rule["require"];
}

/**
 * A violation as a {@linkcode RuleDiagnostic}.
 *
 * @example
 * ```ts
 * import { violationDiagnostic } from "@pvkit/machine";
 * const facts = {
 *   isEnabled: () => false, irqchip: "off" as const, x2apic: false, vcpus: 1, apicIdLimit: 1,
 *   accel: "kvm" as const, kvm: true,
 * };
 * const rule = { id: "r", level: "error" as const, message: "needs more", fix: "add more" };
 * console.log(violationDiagnostic({ rule }, facts, false).fix); // "add more"
 * ```
 */
export function violationDiagnostic(
  violation: RuleViolation,
  facts: ConditionFacts,
  dropped: boolean,
): RuleDiagnostic {
  const { rule, owner } = violation;
  return {
    rule: rule.id,
    level: rule.level,
    ...(owner ? { feature: owner.name } : {}),
    message: fill(rule.message, violation, facts),
    ...(rule.fix ? { fix: fill(rule.fix, violation, facts) } : {}),
    ...(rule.source ? { source: rule.source } : {}),
    dropped,
    ...(rule.require !== undefined ? { require: rule.require } : {}),
  };
}
