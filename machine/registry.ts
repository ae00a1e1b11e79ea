/**
 * The plugin registry: the table of features a composition knows, with every name, alias and
 * CPUID bit owned by exactly one feature.
 *
 * @module
 */

import { type Condition, conditionFeatures } from "./condition.ts";
import { ManifestError } from "./errors.ts";
import { KVM_FEATURES_LEAF } from "./host_support.ts";
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

/** True when `m` has an error rule that requires the feature `other` whenever `m` is on. */
function dependsOn(m: PluginManifest, other: PluginManifest): boolean {
  return m.rules.some((r) =>
    r.level === "error" && r.when === undefined && r.require !== undefined &&
    conditionFeatures(r.require).includes(other.name)
  );
}

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
  readonly #byMsr = new Map<number, RegisteredFeature>();
  readonly #byHypercall = new Map<number, RegisteredFeature>();

  /** Creates a registry holding the core features and then `plugins`, in order. */
  constructor(plugins: Iterable<PvPlugin> = []) {
    for (const manifest of CORE_FEATURES) this.#add({ manifest });
    for (const plugin of plugins) this.register(plugin);
  }

  /** Registers a plugin; returns the registry for chaining. */
  register(plugin: PvPlugin): this {
    if (plugin === undefined || plugin === null || typeof plugin.manifest !== "object") {
      throw new ManifestError(
        "$",
        `expected a plugin (definePlugin's result), got ${
          plugin === null ? "null" : typeof plugin
        }`,
        "check the import: a plugin package exports its plugin by name, e.g. `kvmPvEoi`",
      );
    }
    const m = plugin.manifest;
    if (m.cpuid.leaf !== KVM_FEATURES_LEAF) {
      throw new ManifestError(
        `${m.name}.cpuid.leaf`,
        `0x${m.cpuid.leaf.toString(16)} is not KVM's feature leaf: pvkit puts a plugin's bits ` +
          "in leaf 0x40000001 only, so the guest would never see this one",
        'use "leaf": "0x40000001"',
      );
    }
    this.#add({ manifest: m, plugin });
    return this;
  }

  /**
   * For a registry that holds every plugin there is (pvkit's catalog): checks that every
   * feature named in a `defaultOn`, `host.when` or rule condition is registered or one of
   * `knownFeatures` (plugins that exist but were left out, so their features are off). A
   * misspelt name would otherwise make a rule fire always, or never. A registry of a few
   * plugins skips this: there, a rule naming a missing plugin is how the missing plugin is
   * reported.
   *
   * @throws {ManifestError} naming the plugin, the path and the unknown feature
   */
  checkReferences(knownFeatures: Iterable<string> = []): void {
    const known = new Set(knownFeatures);
    for (const { manifest: m } of this.#features) {
      const conditions: [string, Condition | undefined][] = [
        ["defaultOn", m.defaultOn],
        ["host.when", m.host.when],
        ...m.rules.flatMap((r, i): [string, Condition | undefined][] => [
          [`rules[${i}].when`, r.when],
          [`rules[${i}].require`, r.require],
        ]),
      ];
      for (const [path, condition] of conditions) {
        if (condition === undefined) continue;
        for (const name of conditionFeatures(condition)) {
          if (this.#byName.has(name) || known.has(name)) continue;
          throw new ManifestError(
            `${m.name}.${path}`,
            `names the feature "${name}", which no registered plugin provides`,
            "check the spelling, or register the plugin that provides it",
          );
        }
      }
    }
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
    const conflict = (what: string, owner: RegisteredFeature | undefined, path: string) => {
      if (!owner) return;
      throw new ManifestError(
        `${m.name}.${path}`,
        `${what} is claimed by both ${owner.manifest.name} (${owner.manifest.package}) and ` +
          `${m.name} (${m.package})`,
        "an MSR, hypercall or I/O port belongs to one plugin: register only one of the two",
      );
    };
    // A feature may govern bits of an MSR its parent owns (kvm-asyncpf-vmexit: bit 2 of
    // MSR_KVM_ASYNC_PF_EN) when one of the two requires the other.
    m.msrs.forEach((msr, i) => {
      const owner = this.#byMsr.get(msr.index);
      if (owner && !dependsOn(m, owner.manifest) && !dependsOn(owner.manifest, m)) {
        conflict(`MSR 0x${msr.index.toString(16)}`, owner, `msrs[${i}]`);
      }
    });
    m.hypercalls.forEach((hc, i) =>
      conflict(`hypercall ${hc.nr} (${hc.name})`, this.#byHypercall.get(hc.nr), `hypercalls[${i}]`)
    );
    (m.ioPorts ?? []).forEach((range, i) => {
      const owner = this.#features.find((f) =>
        (f.manifest.ioPorts ?? []).some((r) => r.first <= range.last && range.first <= r.last)
      );
      const ports = range.first === range.last
        ? `I/O port 0x${range.first.toString(16)}`
        : `I/O ports 0x${range.first.toString(16)}-0x${range.last.toString(16)}`;
      conflict(ports, owner, `ioPorts[${i}]`);
    });
    for (const name of names) this.#byName.set(name, feature);
    for (const bit of m.cpuid.bits) this.#byBit.set(`${word}.${bit}`, feature);
    for (const msr of m.msrs) if (!this.#byMsr.has(msr.index)) this.#byMsr.set(msr.index, feature);
    for (const hc of m.hypercalls) this.#byHypercall.set(hc.nr, feature);
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
