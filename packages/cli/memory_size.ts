/**
 * Memory sizes as QEMU's `-m` reads them (`qemu-options.hx`, "-m [size=]megs"): a number of
 * MiB, or a number with a suffix `M` or `G` (`MiB`, `GiB`, `MB`, `GB` are taken as the same),
 * optionally written `size=...`.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

const MAX_MIB = 1024 * 1024;

/**
 * Parses a memory size for option `flag`, in MiB, at least `minMiB`.
 *
 * @throws {PvkitError} (`bad-cli-option`) for anything else, or a size out of range
 * @example
 * ```ts
 * import { memorySizeMiB } from "@pvkit/cli";
 * console.log(memorySizeMiB("-m", "4G", 16), memorySizeMiB("-m", "size=512", 16)); // 4096 512
 * ```
 */
export function memorySizeMiB(flag: string, text: string, minMiB: number): number {
  const m = /^(?:size=)?(\d{1,7})([MG]i?B?)?$/i.exec(text.trim());
  const mib = m ? Number(m[1]) * (m[2]?.[0].toUpperCase() === "G" ? 1024 : 1) : NaN;
  if (!(mib >= minMiB && mib <= MAX_MIB)) {
    throw new PvkitError(
      "bad-cli-option",
      `${flag} takes a size from ${minMiB}M to 1024G (e.g. 2G, 512M, or 512 for MiB), not "${text}"`,
    );
  }
  return mib;
}
