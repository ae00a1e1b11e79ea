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
