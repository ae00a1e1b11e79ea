/**
 * Where the `pvkit` command writes: stdout for results, stderr for errors.
 *
 * @module
 */

/** Where the command writes. */
export interface CliOutput {
  /** Standard output: the result (text or JSON). */
  out(text: string): void;
  /** Standard error: errors and hints. */
  err(text: string): void;
}

/**
 * Output to the process's stdout/stderr.
 *
 * @example
 * ```ts
 * import { processOutput } from "@pvkit/cli";
 * processOutput.out("a result");
 * ```
 */
export const processOutput: CliOutput = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};
