/**
 * `pvkit probe FILE... [--backend emu|kvm] [--timeout MS] [--json]`: runs probe programs and
 * reports per vCPU (`--timeout`: the vCPU watchdog on KVM; the emulated backend runs in virtual
 * time and needs none).
 * Exit status: 0 when every expectation holds, 1 when one fails, 2 for a bad probe file.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { EmuProbeBackend } from "@pvkit/emu";
import { probeKvm } from "@pvkit/kvm";
import { KvmProbeBackend } from "@pvkit/kvm-probe";
import {
  formatProbeReport,
  loadProbeFile,
  type ProbeBackend,
  probeExitStatus,
  type ProbeReport,
  probeReport,
  type ProbeRunOptions,
} from "@pvkit/probe";
import { optionalPlugins } from "@pvkit/pvkit";

/** The backends `--backend` accepts. */
export const PROBE_BACKENDS: readonly string[] = ["emu", "kvm"];

/**
 * Creates the backend named on the command line.
 *
 * @throws {PvkitError} for an unknown backend
 * @example
 * ```ts
 * import { probeBackend } from "@pvkit/cli";
 * console.log(probeBackend("emu").name); // "emu"
 * ```
 */
export function probeBackend(name: string): ProbeBackend {
  if (name === "emu") return new EmuProbeBackend({ plugins: optionalPlugins });
  if (name === "kvm") {
    const kvm = probeKvm();
    if (!kvm.usable) {
      throw new PvkitError(
        "kvm-unusable",
        `the kvm backend needs a usable /dev/kvm: ${kvm.reason}`,
        "use --backend emu",
      );
    }
    return new KvmProbeBackend({ plugins: optionalPlugins });
  }
  throw new PvkitError(
    "bad-cli-option",
    `unknown probe backend "${name}"`,
    `use one of: ${PROBE_BACKENDS.join(", ")}`,
  );
}

/** The result of running probe files. */
export interface ProbeCommandResult {
  /** One report per file. */
  readonly reports: ProbeReport[];
  /** 0, 1 (an expectation failed) or 2 (a bad probe file). */
  readonly status: 0 | 1 | 2;
}

/**
 * Loads and runs probe files on a backend.
 *
 * @throws {PvkitError} (a `ProbeError`) for a bad probe file
 * @example
 * ```ts
 * import { probeBackend, runProbeFiles } from "@pvkit/cli";
 * const files = ["packages/probe/examples/enforcement.json"];
 * const { status } = await runProbeFiles(files, probeBackend("emu"));
 * console.log(status);
 * ```
 */
export async function runProbeFiles(
  files: readonly string[],
  backend: ProbeBackend,
  options: ProbeRunOptions = {},
): Promise<ProbeCommandResult> {
  const reports: ProbeReport[] = [];
  for (const file of files) {
    const probe = await loadProbeFile(file);
    reports.push(probeReport(probe, await backend.run(probe, options)));
  }
  const failed = reports.some((r) => probeExitStatus(r) !== 0);
  return { reports, status: failed ? 1 : 0 };
}

/** Renders reports as the CLI prints them. */
export function renderProbeReports(reports: readonly ProbeReport[], json: boolean): string {
  if (json) return JSON.stringify(reports.length === 1 ? reports[0] : reports);
  return reports.map(formatProbeReport).join("\n\n");
}
