/**
 * Plugins outside the built-in set: PV features KVM leaves to the VMM, which QEMU does not
 * name. A machine gets them only when asked (`compose({ plugins })`, a probe's
 * `machine.plugins`).
 *
 * @module
 */

import type { PvPlugin } from "@pvkit/machine";

/**
 * The optional plugins by name.
 *
 * @example
 * ```ts
 * import { optionalPlugins } from "@pvkit/pvkit";
 * console.log([...optionalPlugins.keys()]);
 * ```
 */
export const optionalPlugins: ReadonlyMap<string, PvPlugin> = new Map<string, PvPlugin>();
