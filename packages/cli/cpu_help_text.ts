/**
 * `pvkit cpu-help`: QEMU's `-cpu help` output for a QEMU version.
 *
 * @module
 */

import { qemuDialect, type QemuVersion, renderRecognizedFlags } from "@pvkit/qemu";

/**
 * The text `qemu-system-x86_64 -cpu help` prints: the models (`x86 %-20s  %s` in 7.2,
 * `  %-20s  %s` later), an empty line, then the recognized CPUID flags.
 *
 * @example
 * ```ts
 * import { cpuHelpText } from "@pvkit/cli";
 * console.log(cpuHelpText("7.2").split("\n")[0]); // "Available CPUs:"
 * ```
 */
export function cpuHelpText(version: QemuVersion = "current"): string {
  const dialect = qemuDialect(version);
  const prefix = version === "7.2" ? "x86 " : "  ";
  const lines = ["Available CPUs:"];
  for (const model of dialect.models.values()) {
    lines.push(`${prefix}${model.name.padEnd(20)}  ${model.description}`);
  }
  return lines.join("\n") + "\n\n" + renderRecognizedFlags(dialect.flags);
}
