/**
 * The error raised for a probe file that cannot be used: missing, not JSON, or not a valid
 * probe.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/**
 * A probe file that is missing, is not JSON, or does not follow the probe format.
 *
 * The message starts with the file name and, for a bad value, the JSON path of that value:
 * `probe.json: $.vcpus[0].steps[3].msr: "0x4b564d1g" is not a number or hex string`. The code
 * is always `"bad-probe"`; the CLI exits with status 2 on it.
 *
 * @example
 * ```ts
 * import { ProbeError } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * const e = new ProbeError("probe.json", "$.name", "is required");
 * assertEquals(e.message, "probe.json: $.name: is required");
 * assertEquals(e.code, "bad-probe");
 * ```
 */
export class ProbeError extends PvkitError {
  /** Where the probe came from: a file path, or the name given to `parseProbe`. */
  readonly source: string;
  /** The JSON path of the offending value (`$.vcpus[0].steps[3].msr`), or undefined for file-level problems. */
  readonly path: string | undefined;

  /** Creates the error for `problem` at `path` (omit the path for a file-level problem). */
  constructor(
    source: string,
    path: string | undefined,
    problem: string,
    hint?: string | (() => string | undefined),
  ) {
    super(
      "bad-probe",
      path === undefined ? `${source}: ${problem}` : `${source}: ${path}: ${problem}`,
      hint,
    );
    this.name = "ProbeError";
    this.source = source;
    this.path = path;
  }
}
