/**
 * `pvkit describe -machine help`: the machine types `-machine` accepts, with what pvkit models
 * of each (vCPU limit, default irqchip, deprecation).
 *
 * @module
 */

import { PVKIT_MACHINE_TYPE, qemuDialect, type QemuVersion } from "@pvkit/qemu";

/**
 * The machine types of a QEMU version (plus pvkit's own, which only strict mode accepts), one
 * a line: the name, what an alias resolves to, the vCPU limit and the default irqchip.
 *
 * @example
 * ```ts
 * import { machineTypesText } from "@pvkit/cli";
 * console.log(machineTypesText("7.2").split("\n")[0]); // "Supported machines are:"
 * ```
 */
export function machineTypesText(version: QemuVersion = "current"): string {
  const dialect = qemuDialect(version);
  const rows: string[][] = [];
  for (const name of dialect.machineNames()) {
    const type = dialect.resolveMachine(name);
    if (!type) continue;
    rows.push([
      name,
      type.name === name ? "" : `alias of ${type.name}`,
      `max ${type.maxCpus} vCPUs`,
      `irqchip ${type.defaultIrqchip}`,
      type.deprecated ? "deprecated" : "",
    ]);
  }
  rows.push([
    PVKIT_MACHINE_TYPE.name,
    "pvkit's own (strict rules only)",
    "max 32768 vCPUs",
    `irqchip ${PVKIT_MACHINE_TYPE.defaultIrqchip}`,
    "",
  ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return ["Supported machines are:"].concat(
    rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()),
  ).join("\n");
}
