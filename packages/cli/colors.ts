/**
 * ANSI colours for the `pvkit` command, written only where a person reads them: stdout is a
 * terminal and `NO_COLOR` is unset (https://no-color.org). Pipes and files get plain text.
 *
 * @module
 */

/** Wraps text in one ANSI style (or returns it unchanged when colour is off). */
export type Paint = (text: string) => string;

let enabled: boolean | undefined;

/**
 * True when `stream` should get colour: it is a terminal and `NO_COLOR` is not set.
 *
 * @example
 * ```ts
 * import { wantsColor } from "@pvkit/cli";
 * console.log(wantsColor({ isTerminal: () => false })); // false
 * ```
 */
export function wantsColor(stream: { isTerminal(): boolean }): boolean {
  return !Deno.noColor && stream.isTerminal();
}

/**
 * Turns colour on or off for everything painted afterwards (by default it follows
 * {@linkcode wantsColor} for stdout).
 *
 * @example
 * ```ts
 * import { bold, setColorEnabled } from "@pvkit/cli";
 * setColorEnabled(false);
 * console.log(bold("plain")); // "plain"
 * ```
 */
export function setColorEnabled(on: boolean): void {
  enabled = on;
}

function colorOn(): boolean {
  enabled ??= wantsColor(Deno.stdout);
  return enabled;
}

const style = (open: number, close: number): Paint => (text) =>
  colorOn() ? `\x1b[${open}m${text}\x1b[${close}m` : text;

/** Bold text. */
export const bold: Paint = style(1, 22);
/** Red text (errors, features off). */
export const red: Paint = style(31, 39);
/** Green text (features on). */
export const green: Paint = style(32, 39);
/** Yellow text (warnings). */
export const yellow: Paint = style(33, 39);
/** Cyan text (notes). */
export const cyan: Paint = style(36, 39);
/** Dim text. */
export const dim: Paint = style(90, 39);

/**
 * Removes ANSI colour codes (for width computations).
 *
 * @example
 * ```ts
 * import { stripColors } from "@pvkit/cli";
 * console.log(stripColors("\x1b[31mred\x1b[39m")); // "red"
 * ```
 */
export function stripColors(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * Red text for stderr: coloured only when stderr itself is a terminal (and `NO_COLOR` unset).
 *
 * @example
 * ```ts
 * import { stderrRed } from "@pvkit/cli";
 * console.error(stderrRed("error:"), "something went wrong");
 * ```
 */
export function stderrRed(text: string): string {
  return wantsColor(Deno.stderr) ? `\x1b[31m${text}\x1b[39m` : text;
}
