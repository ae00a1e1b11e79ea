/**
 * `pvkit --version`: the version of the `@pvkit/cli` package.
 *
 * @module
 */

import config from "./deno.json" with { type: "json" };

/**
 * The CLI's version, from its package's `deno.json`.
 *
 * @example
 * ```ts
 * import { PVKIT_VERSION } from "@pvkit/cli";
 * console.log(PVKIT_VERSION); // e.g. "0.1.0"
 * ```
 */
export const PVKIT_VERSION: string = config.version;

/**
 * The line `pvkit --version` prints: the version, Deno's, and the QEMU behaviour reproduced.
 *
 * @example
 * ```ts
 * import { versionText } from "@pvkit/cli";
 * console.log(versionText()); // pvkit 0.1.0 (deno 2.9.6; QEMU current = 10.2, 7.2)
 * ```
 */
export function versionText(): string {
  return `pvkit ${PVKIT_VERSION} (deno ${Deno.version.deno}; QEMU current = 10.2, 7.2)`;
}
