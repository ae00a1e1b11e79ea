/**
 * QEMU's `-cpu help` "Recognized CPUID flags" layout (x86_cpu_list, QEMU target/i386/cpu.c).
 *
 * @module
 */

/** QEMU starts a new line when `len + strlen(name) + 1 >= 75`. */
const WRAP = 75;

/**
 * Renders flag names the way `-cpu help` lists them: sorted byte-wise (not de-duplicated),
 * each line starting with two spaces, names separated by one space, wrapped at QEMU's limit,
 * ending with an empty line.
 *
 * @example
 * ```ts
 * import { renderRecognizedFlags } from "@pvkit/qemu";
 * console.log(renderRecognizedFlags(["kvmclock", "kvmclock", "abm"]));
 * ```
 */
export function renderRecognizedFlags(names: readonly string[]): string {
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = "Recognized CPUID flags:\n ";
  let len = 0;
  for (const name of sorted) {
    if (len + name.length + 1 >= WRAP) {
      out += "\n ";
      len = 0;
    }
    out += ` ${name}`;
    len += name.length + 1;
  }
  return out + "\n\n";
}
