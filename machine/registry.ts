/**
 * The plugin registry: the table of features a composition knows, with every name, alias and
 * CPUID bit owned by exactly one feature.
 *
 * @module
 */

import { ManifestError } from "./errors.ts";
import type { PluginManifest } from "./manifest.ts";
import { parseManifest } from "./manifest_parse.ts";
import type { PvPlugin } from "./plugin.ts";
import x2apicManifest from "./features/x2apic.json" with { type: "json" };

/** A feature known to the registry: a plugin's, or one of the core's (x2apic). */
export interface RegisteredFeature {
  /** The manifest. */
  readonly manifest: PluginManifest;
  /** The plugin, absent for core features. */
  readonly plugin?: PvPlugin;
}

/** Core features every registry has. */
const CORE_FEATURES: readonly PluginManifest[] = [
  parseManifest(x2apicManifest, "machine/features/x2apic.json"),
];

function wordKey(m: PluginManifest): string {
  return `${m.cpuid.leaf.toString(16)}.${m.cpuid.register}`;
}

/**
 * Holds the registered features. Registration fails with {@linkcode ManifestError} when a name,
 * alias or CPUID bit is already taken, naming the other owner.
 *
 * @example
 * ```ts
 * import { PluginRegistry } from "@pvkit/machine";
 * const registry = new PluginRegistry();
 * console.log(registry.lookup("x2apic")?.manifest.cpuid.bits); // [21]
 * ```
 */
export class PluginRegistry {
  readonly #features: RegisteredFeature[] = [];
  readonly #byName = new Map<string, RegisteredFeature>();
  readonly #byBit = new Map<string, RegisteredFeature>();

  /** Creates a registry holding the core features and then `plugins`, in order. */
  constructor(plugins: Iterable<PvPlugin> = []) {
    for (const manifest of CORE_FEATURES) this.#add({ manifest });
    for (const plugin of plugins) this.register(plugin);
  }

  /** Registers a plugin; returns the registry for chaining. */
  register(plugin: PvPlugin): this {
    this.#add({ manifest: plugin.manifest, plugin });
    return this;
  }

  #add(feature: RegisteredFeature): void {
    const m = feature.manifest;
    const names = [
      m.name,
      ...(m.qemu.name && m.qemu.name !== m.name ? [m.qemu.name] : []),
      ...m.qemu.aliases,
    ];
    for (const name of names) {
      const owner = this.#byName.get(name);
      if (owner) {
        throw new ManifestError(
          `${m.name}`,
          `the name "${name}" is already registered by ${owner.manifest.package} (${owner.manifest.name})`,
          "give the plugin a unique name, or register only one of the two plugins",
        );
      }
    }
    const word = wordKey(m);
    for (const bit of m.cpuid.bits) {
      const owner = this.#byBit.get(`${word}.${bit}`);
      if (owner) {
        throw new ManifestError(
          `${m.name}.cpuid.bits`,
          `CPUID 0x${m.cpuid.leaf.toString(16)}.${m.cpuid.register.toUpperCase()} bit ${bit} ` +
            `is already owned by ${owner.manifest.name} (${owner.manifest.package})`,
          "each CPUID bit belongs to exactly one feature",
        );
      }
    }
    for (const name of names) this.#byName.set(name, feature);
    for (const bit of m.cpuid.bits) this.#byBit.set(`${word}.${bit}`, feature);
    this.#features.push(feature);
  }

  /** All features, core features first, then plugins in registration order. */
  get features(): readonly RegisteredFeature[] {
    return this.#features;
  }

  /** The registered plugins, in registration order. */
  get plugins(): readonly PvPlugin[] {
    return this.#features.flatMap((f) => f.plugin ? [f.plugin] : []);
  }

  /** Finds a feature by name or alias. */
  lookup(name: string): RegisteredFeature | undefined {
    return this.#byName.get(name);
  }

  /** All names and aliases the registry accepts. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** The feature that owns a CPUID bit. */
  ownerOfBit(leaf: number, register: string, bit: number): RegisteredFeature | undefined {
    return this.#byBit.get(`${leaf.toString(16)}.${register}.${bit}`);
  }
}
