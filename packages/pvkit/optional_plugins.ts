/**
 * Plugins outside the built-in set: PV features KVM leaves to the VMM, which QEMU does not
 * name. A machine gets them only when asked (`compose({ plugins })`, a probe's
 * `machine.plugins`).
 *
 * @module
 */

import type { PvPlugin } from "@pvkit/machine";
import { kvmHcMapGpaRange } from "@pvkit/kvm-hc-map-gpa-range";
import { kvmMigrationControl } from "@pvkit/kvm-migration-control";

/**
 * The optional plugins by name.
 *
 * @example
 * ```ts
 * import { optionalPlugins } from "@pvkit/pvkit";
 * console.log([...optionalPlugins.keys()]);
 * ```
 */
export const optionalPlugins: ReadonlyMap<string, PvPlugin> = new Map<string, PvPlugin>([
  ["kvm-hc-map-gpa-range", kvmHcMapGpaRange],
  ["kvm-migration-control", kvmMigrationControl],
]);

/**
 * The optional plugins a `-cpu` string names (`kvm-migration-control=on`, `+kvm_hc_map_gpa_range`):
 * naming one is asking for it, so `pvkit describe` registers it.
 *
 * @example
 * ```ts
 * import { optionalPluginsNamedIn } from "@pvkit/pvkit";
 * console.log(optionalPluginsNamedIn("qemu64,kvm-migration-control=on").length); // 1
 * ```
 */
export function optionalPluginsNamedIn(cpu: string): PvPlugin[] {
  const named = new Set(
    cpu.split(",").slice(1).map((item) =>
      item.replace(/^[+-]/, "").split("=")[0].replaceAll("_", "-")
    ),
  );
  return [...optionalPlugins].filter(([name]) => named.has(name)).map(([, plugin]) => plugin);
}
