/**
 * Every feature the CLI can talk about: the core's (x2apic), the built-in plugins, pvkit's
 * opt-in plugins and those loaded with `--plugin`, each with where it comes from.
 *
 * @module
 */

import {
  hex32,
  type PluginManifest,
  PluginRegistry,
  PvkitError,
  type PvPlugin,
} from "@pvkit/machine";
import { builtinPlugins, optionalPlugins } from "@pvkit/pvkit";
import { didYouMean } from "@pvkit/qemu";

/** Where a feature comes from. */
export type FeatureOrigin = "core" | "built-in" | "opt-in" | "plugin";

/** One feature of the catalog. */
export interface CatalogEntry {
  /** The manifest. */
  readonly manifest: PluginManifest;
  /** Where it comes from. */
  readonly origin: FeatureOrigin;
}

/**
 * The catalog: core features, built-in plugins, opt-in plugins, then `extra`.
 *
 * @throws {PvkitError} (a `ManifestError`) when an extra plugin clashes with a known one
 * @example
 * ```ts
 * import { featureCatalog } from "@pvkit/cli";
 * console.log(featureCatalog().map((e) => `${e.manifest.name} (${e.origin})`).slice(0, 2));
 * ```
 */
export function featureCatalog(extra: readonly PvPlugin[] = []): CatalogEntry[] {
  const registry = new PluginRegistry([...builtinPlugins, ...optionalPlugins.values(), ...extra]);
  return registry.features.map((f) => ({
    manifest: f.manifest,
    origin: !f.plugin
      ? "core"
      : builtinPlugins.includes(f.plugin)
      ? "built-in"
      : [...optionalPlugins.values()].includes(f.plugin)
      ? "opt-in"
      : "plugin",
  }));
}

/**
 * Finds a feature by name or alias.
 *
 * @throws {PvkitError} (`unknown-feature`) with the closest names
 * @example
 * ```ts
 * import { featureCatalog, findFeature } from "@pvkit/cli";
 * console.log(findFeature(featureCatalog(), "kvm_pv_eoi").manifest.name); // "kvm-pv-eoi"
 * ```
 */
export function findFeature(catalog: readonly CatalogEntry[], name: string): CatalogEntry {
  const found = catalog.find((e) =>
    e.manifest.name === name || e.manifest.qemu.name === name ||
    e.manifest.qemu.aliases.includes(name)
  );
  if (found) return found;
  throw new PvkitError(
    "unknown-feature",
    `no feature named "${name}"`,
    didYouMean(name, catalog.map((e) => e.manifest.name)) ?? "run `pvkit features` for the list",
  );
}

/**
 * Where a feature's bits are, e.g. `0x40000001.eax[6]`.
 *
 * @example
 * ```ts
 * import { cpuidPlace, featureCatalog, findFeature } from "@pvkit/cli";
 * console.log(cpuidPlace(findFeature(featureCatalog(), "kvmclock").manifest)); // 0x40000001.eax[0,3]
 * ```
 */
export function cpuidPlace(m: PluginManifest): string {
  return `${hex32(m.cpuid.leaf)}.${m.cpuid.register}[${m.cpuid.bits.join(",")}]`;
}

/**
 * The summary without its leading `name: `.
 *
 * @example
 * ```ts
 * import { featureCatalog, findFeature, shortSummary } from "@pvkit/cli";
 * console.log(shortSummary(findFeature(featureCatalog(), "kvm-pv-ipi").manifest));
 * ```
 */
export function shortSummary(m: PluginManifest): string {
  return m.summary.startsWith(`${m.name}: `) ? m.summary.slice(m.name.length + 2) : m.summary;
}
