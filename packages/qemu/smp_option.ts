/**
 * The `-smp` option: parsing and QEMU's rules for filling in missing topology values
 * (machine_parse_smp_config, QEMU 6.2 and later; texts checked against QEMU 7.2).
 *
 * @module
 */

import type { SmpTopology } from "@pvkit/machine";
import { QemuOptionError } from "./option_error.ts";
import { parseOptionList } from "./option_list.ts";

const SMP_KEYS = [
  "cpus",
  "maxcpus",
  "sockets",
  "dies",
  "clusters",
  "cores",
  "threads",
  "books",
  "drawers",
];

/** How a QEMU version treats an explicit 0 (`-smp 0`, `sockets=0`): an error (9.0+) or a warning. */
export type SmpZeroPolicy = "error" | "warn";

/** Options of {@linkcode parseSmpOption}. */
export interface SmpParseOptions {
  /** Machine types 6.1 and older fill sockets first. */
  readonly preferSockets?: boolean;
  /** An explicit 0: an error (QEMU 9.0 and later, the default) or a warning (6.2 to 8.2). */
  readonly zero?: SmpZeroPolicy;
  /** Receives QEMU's warning texts. */
  readonly warn?: (message: string) => void;
}

/**
 * Parses `-smp` and fills in the topology: with only a CPU count, current machine types put all
 * vCPUs in one socket as cores (`prefer_sockets` is false for pc/q35 6.2 and later).
 *
 * An explicit 0 (`cpus=0`, `sockets=0`…) is QEMU's "Invalid CPU topology" error since 9.0; 6.2
 * to 8.2 warned ("Deprecated CPU topology (considered invalid)") and treated it as omitted
 * (hw/core/machine-smp.c).
 *
 * @param options `preferSockets` (machine types 6.1 and older), the zero policy, a warning sink
 * @throws {QemuOptionError} with QEMU's text for a malformed or inconsistent topology
 * @example
 * ```ts
 * import { parseSmpOption } from "@pvkit/qemu";
 * console.log(parseSmpOption("4,maxcpus=8"));
 * // { cpus: 4, maxCpus: 8, sockets: 1, dies: 1, cores: 8, threads: 1 }
 * ```
 */
export function parseSmpOption(text: string, options: SmpParseOptions = {}): SmpTopology {
  const preferSockets = options.preferSockets ?? false;
  const values: Record<string, number> = {};
  for (const { key, value } of parseOptionList(text, "cpus")) {
    if (!SMP_KEYS.includes(key)) throw new QemuOptionError(`Parameter 'smp.${key}' is unexpected`);
    if (!/^\s*(0x[0-9a-fA-F]+|[0-9]+)$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new QemuOptionError(`Parameter 'smp.${key}' expects integer`);
    }
    values[key] = Number(value);
  }
  if (Object.values(values).includes(0)) {
    const reason = "CPU topology parameters must be greater than zero";
    if ((options.zero ?? "error") === "error") {
      throw new QemuOptionError(
        `Invalid CPU topology: ${reason}`,
        "omit the parameter (QEMU computes it) or give it a value of 1 or more",
      );
    }
    options.warn?.(`Deprecated CPU topology (considered invalid): ${reason}`);
  }
  for (const key of ["clusters", "books", "drawers"]) {
    if ((values[key] ?? 1) > 1) {
      throw new QemuOptionError(`${key} not supported by this machine's CPU topology`);
    }
  }
  let cpus = values.cpus ?? 0;
  let maxCpus = values.maxcpus ?? 0;
  let sockets = values.sockets ?? 0;
  const dies = values.dies || 1;
  let cores = values.cores ?? 0;
  let threads = values.threads ?? 0;
  if (cpus === 0 && maxCpus === 0) {
    sockets ||= 1;
    cores ||= 1;
    threads ||= 1;
  } else {
    maxCpus ||= cpus;
    if (preferSockets) {
      if (sockets === 0) {
        cores ||= 1;
        threads ||= 1;
        sockets = Math.floor(maxCpus / (dies * cores * threads));
      } else if (cores === 0) {
        threads ||= 1;
        cores = Math.floor(maxCpus / (sockets * dies * threads));
      }
    } else {
      sockets ||= 1;
      if (cores === 0) {
        threads ||= 1;
        cores = Math.floor(maxCpus / (sockets * dies * threads));
      }
    }
  }
  threads ||= Math.floor(maxCpus / (sockets * dies * cores));
  const total = sockets * dies * cores * threads;
  maxCpus ||= total;
  cpus ||= maxCpus;
  const shape = `sockets (${sockets}) * dies (${dies}) * cores (${cores}) * threads (${threads})`;
  if (total !== maxCpus || total === 0) {
    throw new QemuOptionError(
      `Invalid CPU topology: product of the hierarchy must match maxcpus: ${shape} != maxcpus (${maxCpus})`,
    );
  }
  if (maxCpus < cpus) {
    throw new QemuOptionError(
      `Invalid CPU topology: maxcpus must be equal to or greater than smp: ${shape} == maxcpus (${maxCpus}) < smp_cpus (${cpus})`,
    );
  }
  return { cpus, maxCpus, sockets, dies, cores, threads };
}
