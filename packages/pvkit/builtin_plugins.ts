/**
 * The built-in plugins: one per KVM PV feature QEMU names. The set itself is data,
 * `builtin-plugins.json`; this module binds each entry to its package.
 *
 * @module
 */

import { ManifestError, PluginRegistry, type PvPlugin } from "@pvkit/machine";
import { optionalPlugins } from "./optional_plugins.ts";
import { kvmclock } from "@pvkit/kvmclock";
import { kvmNopiodelay } from "@pvkit/kvm-nopiodelay";
import { kvmMmu } from "@pvkit/kvm-mmu";
import { kvmAsyncpf } from "@pvkit/kvm-asyncpf";
import { kvmStealTime } from "@pvkit/kvm-steal-time";
import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";
import { kvmPvUnhalt } from "@pvkit/kvm-pv-unhalt";
import { kvmPvTlbFlush } from "@pvkit/kvm-pv-tlb-flush";
import { kvmAsyncpfVmexit } from "@pvkit/kvm-asyncpf-vmexit";
import { kvmPvIpi } from "@pvkit/kvm-pv-ipi";
import { kvmPollControl } from "@pvkit/kvm-poll-control";
import { kvmPvSchedYield } from "@pvkit/kvm-pv-sched-yield";
import { kvmAsyncpfInt } from "@pvkit/kvm-asyncpf-int";
import { kvmMsiExtDestId } from "@pvkit/kvm-msi-ext-dest-id";
import { kvmclockStableBit } from "@pvkit/kvmclock-stable-bit";
import { kvmHintDedicated } from "@pvkit/kvm-hint-dedicated";
import list from "./builtin-plugins.json" with { type: "json" };

const BY_NAME: Record<string, PvPlugin> = {
  "kvmclock": kvmclock,
  "kvm-nopiodelay": kvmNopiodelay,
  "kvm-mmu": kvmMmu,
  "kvm-asyncpf": kvmAsyncpf,
  "kvm-steal-time": kvmStealTime,
  "kvm-pv-eoi": kvmPvEoi,
  "kvm-pv-unhalt": kvmPvUnhalt,
  "kvm-pv-tlb-flush": kvmPvTlbFlush,
  "kvm-asyncpf-vmexit": kvmAsyncpfVmexit,
  "kvm-pv-ipi": kvmPvIpi,
  "kvm-poll-control": kvmPollControl,
  "kvm-pv-sched-yield": kvmPvSchedYield,
  "kvm-asyncpf-int": kvmAsyncpfInt,
  "kvm-msi-ext-dest-id": kvmMsiExtDestId,
  "kvmclock-stable-bit": kvmclockStableBit,
  "kvm-hint-dedicated": kvmHintDedicated,
};

function load(): readonly PvPlugin[] {
  const plugins = list.plugins.map((entry, i) => {
    const plugin = BY_NAME[entry.name];
    if (!plugin || plugin.manifest.package !== entry.package) {
      throw new ManifestError(
        `builtin-plugins.json.plugins[${i}]`,
        `"${entry.name}" (${entry.package}) is not a built-in plugin package`,
      );
    }
    return plugin;
  });
  for (const name of Object.keys(BY_NAME)) {
    if (!list.plugins.some((e) => e.name === name)) {
      throw new ManifestError(
        "builtin-plugins.json.plugins",
        `"${name}" is imported but not listed`,
      );
    }
  }
  return Object.freeze(plugins);
}

/**
 * The built-in plugins, in the order `builtin-plugins.json` lists them (CPUID bit order).
 *
 * @example
 * ```ts
 * import { builtinPlugins } from "@pvkit/pvkit";
 * console.log(builtinPlugins.map((p) => p.manifest.name).join(" "));
 * ```
 */
export const builtinPlugins: readonly PvPlugin[] = load();

/**
 * A registry holding the built-in plugins and then `extra` (third-party) plugins.
 *
 * @throws {ManifestError} when an extra plugin clashes with a built-in one, or a condition
 * names a feature that no plugin provides
 * @example
 * ```ts
 * import { builtinRegistry } from "@pvkit/pvkit";
 * console.log(builtinRegistry().lookup("kvm_pv_eoi")?.manifest.name); // "kvm-pv-eoi"
 * ```
 */
export function builtinRegistry(extra: Iterable<PvPlugin> = []): PluginRegistry {
  const registry = new PluginRegistry([...builtinPlugins, ...extra]);
  // The catalog: a rule may name an optional plugin the machine does not have (its feature is
  // off), but no feature that does not exist.
  registry.checkReferences(optionalPlugins.keys());
  return registry;
}
