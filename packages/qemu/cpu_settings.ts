/**
 * From `-cpu` items to composition settings: which items name modelled features, which set
 * CPU properties, which are QEMU flags pvkit accepts without modelling them, and which QEMU
 * would reject (with its own text).
 *
 * @module
 */

import type { CpuProperties, FeatureSetting, PluginRegistry, RulesMode } from "@pvkit/machine";
import type { CpuOption } from "./cpu_option.ts";
import { didYouMean } from "./did_you_mean.ts";
import { QemuOptionError } from "./option_error.ts";
import type { QemuCpuModel, QemuDialect } from "./qemu_dialect.ts";
import { parseQemuBool } from "./qemu_bool.ts";

/** The CPU properties pvkit models, by QEMU name. */
const CPU_PROPERTIES = new Map<string, keyof CpuProperties>([
  ["kvm", "kvm"],
  ["check", "check"],
  ["enforce", "enforce"],
  ["migratable", "migratable"],
  ["x-force-features", "forceFeatures"],
  ["kvm-pv-enforce-cpuid", "pvEnforceCpuid"],
]);

/** Properties only `host`/`max` have (qemu64-x86_64-cpu lacks them). */
const HOST_ONLY_PROPERTIES = new Set(["migratable", "host-cache-info"]);

/** The first leaf of the Hyper-V-shifted KVM leaves (QEMU target/i386/kvm/kvm.c). */
const KVM_BASE_BEHIND_HYPERV = 0x40000100;

/** What the `-cpu` items amount to. */
export interface CpuSettings {
  /** Feature settings, in command-line order. */
  readonly settings: FeatureSetting[];
  /** CPU properties that were set. */
  readonly cpu: Partial<Record<keyof CpuProperties, boolean>>;
  /** QEMU flags and properties accepted but not modelled. */
  readonly notModelled: string[];
  /** 0x40000100 when Hyper-V enlightenments push the KVM leaves up. */
  readonly kvmBase?: number;
}

/**
 * Classifies the items of a parsed `-cpu` option. Property items (`name=value`) are checked in
 * order first, as QEMU applies them as globals when the CPU object is created; then `+`/`-`
 * items, which QEMU resolves at realize.
 *
 * @throws {QemuOptionError} QEMU's text for the first item it would reject
 * @example
 * ```ts
 * import { classifyCpuItems, parseCpuOption, qemuDialect } from "@pvkit/qemu";
 * import { PluginRegistry } from "@pvkit/machine";
 * const dialect = qemuDialect();
 * const option = parseCpuOption("qemu64,x2apic=off,+avx2");
 * const out = classifyCpuItems(option, dialect.models.get("qemu64")!, dialect, new PluginRegistry(), "strict");
 * console.log(out.settings, out.notModelled); // [{ feature: "x2apic", … }] ["avx2"]
 * ```
 */
export function classifyCpuItems(
  option: CpuOption,
  model: QemuCpuModel,
  dialect: QemuDialect,
  registry: PluginRegistry,
  rules: RulesMode,
): CpuSettings {
  const typeName = `${model.name}-x86_64-cpu`;
  const flags = dialect.flagSet;
  const modelled = (name: string) => {
    const found = registry.lookup(name);
    if (!found) return undefined;
    const m = found.manifest;
    // A feature QEMU lacks in this version is unknown to it; a third-party feature with no
    // QEMU name is pvkit's own extension, accepted in strict mode only.
    if (m.qemu.name === null) return rules === "strict" ? m : undefined;
    const known = flags.has(m.qemu.name) &&
      (name === m.qemu.name || name === m.name || dialect.aliases.has(name));
    return known ? m : undefined;
  };
  const exists = (name: string) =>
    (flags.has(name) || dialect.properties.has(name) || dialect.aliases.has(name)) &&
    !(HOST_ONLY_PROPERTIES.has(name) && model.kind !== "host" && model.kind !== "max");
  const candidates = () => [...flags, ...dialect.properties.keys(), ...registry.names()];
  // The hint for a name this QEMU rejects: never the rejected name itself.
  const notFoundHint = (name: string) => () => {
    const m = registry.lookup(name)?.manifest;
    if (m && m.qemu.name === null) {
      return `QEMU has no ${name} property: it is a pvkit plugin, accepted with --rules strict`;
    }
    if (m) {
      return `${dialect.label} does not have ${name} (QEMU ${
        m.since.qemu ?? "later"
      }); use --qemu-version current`;
    }
    return didYouMean(name, candidates().filter((c) => c !== name));
  };

  const settings: FeatureSetting[] = [];
  const cpu: Partial<Record<keyof CpuProperties, boolean>> = {};
  const notModelled: string[] = [];
  let kvmBase: number | undefined;
  for (const item of option.items) {
    if (item.kind !== "property") continue;
    const { name, value } = item;
    const global = `can't apply global ${typeName}.${name}=${value}`;
    const boolean = () => {
      const parsed = parseQemuBool(value);
      if (parsed === undefined) {
        throw new QemuOptionError(`${global}: Parameter '${name}' expects 'on' or 'off'`);
      }
      return parsed;
    };
    const feature = modelled(name);
    if (feature) {
      settings.push({ feature: feature.name, enabled: boolean(), form: "property" });
      continue;
    }
    const property = CPU_PROPERTIES.get(name);
    if (property && exists(name)) {
      cpu[property] = boolean();
      continue;
    }
    if (!exists(name)) {
      throw new QemuOptionError(
        `${global}: Property '${typeName}.${name}' not found`,
        notFoundHint(name),
      );
    }
    const type = dialect.properties.get(dialect.aliases.get(name) ?? name) ?? "bool";
    if (type === "readonly" || type === "link") {
      throw new QemuOptionError(`${global}: Property '${typeName}.${name}' is not writable`);
    }
    if (type === "bool" && boolean() && name.startsWith("hv-")) kvmBase = KVM_BASE_BEHIND_HYPERV;
    if (type === "int" || type === "uint") {
      if (!/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) {
        throw new QemuOptionError(
          `${global}: Parameter '${name}' expects ${type === "int" ? "int64" : "uint64"}`,
        );
      }
      if (name === "hv-spinlocks") kvmBase = KVM_BASE_BEHIND_HYPERV;
    }
    notModelled.push(name);
  }
  for (const item of option.items) {
    if (item.kind === "property") continue;
    const feature = modelled(item.name);
    const enabled = item.kind === "plus";
    if (feature) {
      settings.push({ feature: feature.name, enabled, form: item.kind });
      continue;
    }
    const property = CPU_PROPERTIES.get(item.name);
    if (property && exists(item.name)) {
      cpu[property] = enabled;
      continue;
    }
    if (!exists(item.name)) {
      throw new QemuOptionError(
        `Property '${typeName}.${item.name}' not found`,
        notFoundHint(item.name),
      );
    }
    const type = dialect.properties.get(dialect.aliases.get(item.name) ?? item.name) ?? "bool";
    if (type !== "bool") {
      const expected = type === "int" || type === "uint"
        ? "integer"
        : type === "string"
        ? "string"
        : type;
      throw new QemuOptionError(`Invalid parameter type for '${item.name}', expected: ${expected}`);
    }
    if (enabled && item.name.startsWith("hv-")) kvmBase = KVM_BASE_BEHIND_HYPERV;
    notModelled.push(item.name);
  }
  return { settings, cpu, notModelled, ...(kvmBase !== undefined ? { kvmBase } : {}) };
}
