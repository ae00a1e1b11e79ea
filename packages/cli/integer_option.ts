/**
 * Positive integer option values (`--count 100_000`, `--timeout 2000`), with the CLI's error.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/**
 * The value of `flag` as a positive safe integer (underscores allowed as digit separators).
 *
 * @throws {PvkitError} (`bad-cli-option`) naming the flag and the bad value
 * @example
 * ```ts
 * import { positiveIntegerOption } from "@pvkit/cli";
 * console.log(positiveIntegerOption("--count", "100_000")); // 100000
 * ```
 */
export function positiveIntegerOption(flag: string, value: string | undefined): number {
  const n = value === undefined ? NaN : Number(value.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new PvkitError(
      "bad-cli-option",
      `${flag} takes a positive integer, not ${value === undefined ? "nothing" : `"${value}"`}`,
    );
  }
  return n;
}
