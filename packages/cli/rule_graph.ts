/**
 * The composition rules of a feature catalog as data: each rule with its owner, and the graph
 * of what requires (or wants, or conflicts with) what.
 *
 * @module
 */

import { type Condition, MACHINE_RULES, ownedRules, type Rule } from "@pvkit/machine";
import type { CatalogEntry } from "./feature_catalog.ts";

/** A rule and the feature that owns it (`machine` for the core's machine-wide rules). */
export interface OwnedRule {
  /** The owning feature, or `machine`. */
  readonly owner: string;
  /** The rule. */
  readonly rule: Rule;
}

/** One edge of the rule graph. */
export interface RuleEdge {
  /** The owner of the rule. */
  readonly from: string;
  /** A feature, or a machine property such as `irqchip on|split`. */
  readonly to: string;
  /** `requires` (an error rule's `require`), `wants` (a warning's or note's), `when`. */
  readonly kind: "requires" | "wants" | "when";
  /** The rule's id. */
  readonly rule: string;
}

/**
 * Every rule of the catalog, owners in catalog order, then the machine rules.
 *
 * @example
 * ```ts
 * import { allRules, featureCatalog } from "@pvkit/cli";
 * console.log(allRules(featureCatalog()).map((r) => r.rule.id).includes("kvm-pv-eoi/in-kernel-irqchip")); // true
 * ```
 */
export function allRules(catalog: readonly CatalogEntry[]): OwnedRule[] {
  return [
    ...catalog.flatMap(({ manifest }) =>
      ownedRules(manifest).map((rule) => ({ owner: manifest.name, rule }))
    ),
    ...MACHINE_RULES.map((rule) => ({ owner: "machine", rule })),
  ];
}

/**
 * A rule's message and fix with `{feature}` replaced by its owner.
 *
 * @example
 * ```ts
 * import { ruleText } from "@pvkit/cli";
 * console.log(ruleText({ owner: "a", rule: { id: "a/x", level: "note", message: "{feature} is odd" } }));
 * // "a is odd"
 * ```
 */
export function ruleText({ owner, rule }: OwnedRule): string {
  const fill = (s: string) => s.replaceAll("{feature}", owner);
  return fill(rule.message) + (rule.fix ? `; fix: ${fill(rule.fix)}` : "");
}

/** What a condition mentions, as graph nodes (negations are not dependencies). */
function targets(condition: Condition | undefined): string[] {
  if (condition === undefined || typeof condition === "boolean") return [];
  if ("feature" in condition) return [condition.feature];
  if ("irqchip" in condition) return [`irqchip ${condition.irqchip.join("|")}`];
  if ("x2apic" in condition) return condition.x2apic ? ["x2apic"] : [];
  if ("all" in condition) return condition.all.flatMap(targets);
  if ("any" in condition) return condition.any.flatMap(targets);
  return [];
}

/**
 * The graph's edges: the owner of each rule to what its `require` (and `when`) mention.
 *
 * @example
 * ```ts
 * import { allRules, featureCatalog, ruleEdges } from "@pvkit/cli";
 * const edges = ruleEdges(allRules(featureCatalog()));
 * console.log(edges.find((e) => e.from === "kvm-pv-tlb-flush")); // requires kvm-steal-time
 * ```
 */
export function ruleEdges(rules: readonly OwnedRule[]): RuleEdge[] {
  const edges: RuleEdge[] = [];
  for (const { owner, rule } of rules) {
    const kind = rule.level === "error" ? "requires" : "wants";
    for (const to of new Set(targets(rule.require))) {
      edges.push({ from: owner, to, kind, rule: rule.id });
    }
    for (const to of new Set(targets(rule.when))) {
      if (to !== owner) edges.push({ from: owner, to, kind: "when", rule: rule.id });
    }
  }
  return edges;
}
