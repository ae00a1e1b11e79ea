/**
 * Typed wrappers over `@std/fmt/colors` (which ships untyped in the npm build pvkit uses).
 *
 * @module
 */

import * as std from "@std/fmt/colors";

/** Wraps text in one ANSI style. */
export type Paint = (text: string) => string;

const wrap = (name: string): Paint => {
  const fn = (std as Record<string, unknown>)[name];
  return typeof fn === "function" ? (text) => String(fn(text)) : (text) => text;
};

/** Bold text. */
export const bold: Paint = wrap("bold");
/** Red text (errors, features off). */
export const red: Paint = wrap("red");
/** Green text (features on). */
export const green: Paint = wrap("green");
/** Yellow text (warnings). */
export const yellow: Paint = wrap("yellow");
/** Cyan text (notes). */
export const cyan: Paint = wrap("cyan");
/** Dim text. */
export const dim: Paint = wrap("gray");

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
