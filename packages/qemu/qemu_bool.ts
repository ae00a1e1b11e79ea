/**
 * QEMU's boolean spellings (qapi_bool_parse, QEMU target/i386/cpu.c): case-sensitive.
 *
 * @module
 */

const TRUE = new Set(["on", "yes", "true", "y"]);
const FALSE = new Set(["off", "no", "false", "n"]);

/**
 * Parses a QEMU boolean: `on|yes|true|y` or `off|no|false|n`; anything else (including `ON`)
 * is `undefined`.
 *
 * @example
 * ```ts
 * import { parseQemuBool } from "@pvkit/qemu";
 * console.log(parseQemuBool("y"), parseQemuBool("OFF")); // true undefined
 * ```
 */
export function parseQemuBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}
