/**
 * The plugin type: a validated manifest plus, optionally, the host-side behaviour the plugin
 * adds to a running machine.
 *
 * @module
 */

import type { VmContext } from "./vcpu_context.ts";
import type { PluginHooks } from "./hooks.ts";
import type { PluginManifest, PluginManifestInput } from "./manifest.ts";
import { parseManifest } from "./manifest_parse.ts";

/** What a plugin instance may use when a machine starts. Backends provide it. */
export interface PluginEnvironment {
  /** The VM. */
  readonly vm: VmContext;
  /** True when the composed machine advertises the feature. */
  isEnabled(feature: string): boolean;
}

/** A PV feature plugin. */
export interface PvPlugin {
  /** The plugin's manifest. */
  readonly manifest: PluginManifest;
  /** Creates the plugin's hooks for one machine; absent for CPUID-only features. */
  readonly createHooks?: (environment: PluginEnvironment) => PluginHooks;
}

/**
 * Defines a plugin from a manifest written in code (typed, and validated again here) and
 * optional behaviour. For a manifest read from a JSON file, use
 * {@linkcode definePluginFromJson}.
 *
 * @throws {ManifestError} when the manifest is malformed
 * @example
 * ```ts
 * import { definePlugin } from "@pvkit/machine";
 * const plugin = definePlugin({
 *   name: "vmm-migration-control", package: "@acme/migration", summary: "MIGRATION_CONTROL MSR",
 *   qemu: { name: null, aliases: [] },
 *   cpuid: { leaf: "0x40000001", register: "eax", bits: [17], abiName: "KVM_FEATURE_MIGRATION_CONTROL" },
 *   defaultOn: false, host: { provider: "vmm", autoEnable: false },
 *   msrs: [{ index: "0x4b564d08", name: "MSR_KVM_MIGRATION_CONTROL" }], hypercalls: [],
 *   since: { linux: "5.16" }, rules: [],
 * });
 * console.log(plugin.manifest.name);
 * ```
 */
export function definePlugin(
  manifest: PluginManifestInput,
  createHooks?: (environment: PluginEnvironment) => PluginHooks,
  origin?: string,
): PvPlugin {
  return definePluginFromJson(manifest, createHooks, origin);
}

/**
 * Defines a plugin from manifest data of unknown shape (a parsed `manifest.json`), validated
 * here, and optional behaviour. `origin` names the file in errors.
 *
 * @throws {ManifestError} when the manifest is malformed
 * @example
 * ```ts
 * import { definePluginFromJson, ManifestError } from "@pvkit/machine";
 * try {
 *   definePluginFromJson(JSON.parse('{"name": "x"}'), undefined, "x/manifest.json");
 * } catch (e) {
 *   console.log(e instanceof ManifestError); // true: the manifest lacks its fields
 * }
 * ```
 */
export function definePluginFromJson(
  manifest: unknown,
  createHooks?: (environment: PluginEnvironment) => PluginHooks,
  origin?: string,
): PvPlugin {
  const parsed = parseManifest(manifest, origin ?? describeOrigin(manifest));
  return createHooks ? { manifest: parsed, createHooks } : { manifest: parsed };
}

function describeOrigin(manifest: unknown): string {
  if (typeof manifest === "object" && manifest !== null && "name" in manifest) {
    const name = (manifest as { name: unknown }).name;
    if (typeof name === "string") return name;
  }
  return "$";
}
