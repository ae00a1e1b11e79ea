/**
 * The result of a composition: the description `pvkit describe --json` prints, plus what a
 * backend needs to run the machine (enabled plugins, per-vCPU CPUID).
 *
 * @module
 */

import type { FeatureJson, LeafJson, MachineDescription, RulesMode } from "./composition.ts";
import type { PvPlugin } from "./plugin.ts";
import type { PluginRegistry } from "./registry.ts";
import type { RuleDiagnostic } from "./rule_engine.ts";
import type { VcpuCpuidTable } from "./vcpu_cpuid.ts";

/** A composed machine. `JSON.stringify()` of it is exactly its {@linkcode MachineDescription}. */
export class ComposedMachine implements MachineDescription {
  /** The host profile used. */
  readonly profile: string;
  /** The rules mode. */
  readonly rules: RulesMode;
  /** The CPU model. */
  readonly model: string;
  /** The machine. */
  readonly machine: MachineDescription["machine"];
  /** The KVM leaves the guest sees. */
  readonly leaves: Readonly<Record<string, LeafJson>>;
  /** Every known feature's final state. */
  readonly features: readonly FeatureJson[];
  /** Features removed because the host cannot provide them. */
  readonly filtered: readonly string[];
  /** Warnings. */
  readonly warnings: readonly string[];
  /** Notes. */
  readonly notes: readonly string[];
  /** Errors. */
  readonly errors: readonly string[];
  /** The registry the machine was composed from. */
  readonly registry: PluginRegistry;
  /** Per-vCPU CPUID, absent when the composition failed before topology was known. */
  readonly vcpus: VcpuCpuidTable | undefined;
  /** The per-vCPU filter warnings (QEMU prints them once for every vCPU it realizes). */
  readonly filterWarnings: readonly string[];
  /** The rules the composition breaks, as data (strict mode; also written in the texts above). */
  readonly ruleDiagnostics: readonly RuleDiagnostic[];
  readonly #enabled: ReadonlySet<string>;

  /** Wraps a description with the registry and per-vCPU CPUID it was built from. */
  constructor(
    description: MachineDescription,
    registry: PluginRegistry,
    vcpus?: VcpuCpuidTable,
    filterWarnings: readonly string[] = [],
    ruleDiagnostics: readonly RuleDiagnostic[] = [],
  ) {
    this.profile = description.profile;
    this.rules = description.rules;
    this.model = description.model;
    this.machine = description.machine;
    this.leaves = description.leaves;
    this.features = description.features;
    this.filtered = description.filtered;
    this.warnings = description.warnings;
    this.notes = description.notes;
    this.errors = description.errors;
    this.registry = registry;
    this.vcpus = vcpus;
    this.filterWarnings = filterWarnings;
    this.ruleDiagnostics = ruleDiagnostics;
    this.#enabled = new Set(description.features.filter((f) => f.enabled).map((f) => f.name));
  }

  /** True when the machine can be built as asked (no errors). */
  get ok(): boolean {
    return this.errors.length === 0;
  }

  /** True when the guest sees the feature. */
  isEnabled(feature: string): boolean {
    return this.#enabled.has(feature);
  }

  /** The plugins whose features the guest sees, in registration order. */
  enabledPlugins(): PvPlugin[] {
    return this.registry.plugins.filter((p) => this.#enabled.has(p.manifest.name));
  }

  /** A copy with other warnings, notes and errors (the rest is shared). */
  withDiagnostics(
    diagnostics: {
      warnings: readonly string[];
      notes: readonly string[];
      errors: readonly string[];
    },
  ): ComposedMachine {
    return new ComposedMachine(
      { ...this.toJSON(), ...diagnostics },
      this.registry,
      this.vcpus,
      this.filterWarnings,
      this.ruleDiagnostics,
    );
  }

  /** The description, exactly as `pvkit describe --json` prints it. */
  toJSON(): MachineDescription {
    return {
      profile: this.profile,
      rules: this.rules,
      model: this.model,
      machine: this.machine,
      leaves: this.leaves,
      features: this.features,
      filtered: this.filtered,
      warnings: this.warnings,
      notes: this.notes,
      errors: this.errors,
    };
  }
}
