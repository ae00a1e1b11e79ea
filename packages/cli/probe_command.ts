/**
 * `pvkit probe FILE... [--backend emu|kvm] [--timeout MS] [--json]`: runs probe programs and
 * reports per vCPU (`--timeout`: the vCPU watchdog on KVM; the emulated backend runs in virtual
 * time and needs none).
 * Exit status: 0 when every expectation holds, 1 when one fails, 2 for a bad probe file.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { EmuProbeBackend, type EmuProbeBackendOptions } from "@pvkit/emu";
import { probeKvm } from "@pvkit/kvm";
import { KvmProbeBackend } from "@pvkit/kvm-probe";
import {
  loadProbeFile,
  type ProbeBackend,
  probeExitStatus,
  type ProbeReport,
  probeReport,
  type ProbeRunOptions,
} from "@pvkit/probe";
import type { PvPlugin } from "@pvkit/machine";
import { optionalPlugins } from "@pvkit/pvkit";
import { callerPath } from "./caller_path.ts";
import { renderProbeText } from "./probe_text.ts";

/** The backends `--backend` accepts. */
export const PROBE_BACKENDS: readonly string[] = ["emu", "kvm"];

/**
 * Creates the backend named on the command line. A probe may name pvkit's opt-in plugins and
 * `extra` ones (loaded with `--plugin`) in `machine.plugins`; `emuOptions` tune the emulated
 * backend (the native hypercall instruction of the KVM it is compared with).
 *
 * @throws {PvkitError} for an unknown backend
 * @example
 * ```ts
 * import { probeBackend } from "@pvkit/cli";
 * console.log(probeBackend("emu").name); // "emu"
 * ```
 */
export function probeBackend(
  name: string,
  extra: readonly PvPlugin[] = [],
  emuOptions: Pick<EmuProbeBackendOptions, "hypercallInsn"> = {},
): ProbeBackend {
  const plugins = new Map(optionalPlugins);
  for (const plugin of extra) plugins.set(plugin.manifest.name, plugin);
  if (name === "emu") return new EmuProbeBackend({ ...emuOptions, plugins });
  if (name === "kvm") {
    const kvm = probeKvm();
    if (!kvm.usable) {
      throw new PvkitError(
        "kvm-unusable",
        `the kvm backend needs a usable /dev/kvm: ${kvm.reason}`,
        "use --backend emu",
      );
    }
    return new KvmProbeBackend({ plugins });
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
 * Loads and runs probe files on a backend. Relative paths are relative to the caller's folder
 * (see {@linkcode callerPath}).
 *
 * @throws {PvkitError} (a `ProbeError`) for a bad probe file
 * @example
 * ```ts
 * import { probeBackend, runProbeFiles } from "@pvkit/cli";
 * const files = [new URL("../probe/examples/enforcement.json", import.meta.url).pathname];
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
    const probe = await loadProbeFile(callerPath(file));
    reports.push(probeReport(probe, await backend.run(probe, options)));
  }
  const failed = reports.some((r) => probeExitStatus(r) !== 0);
  return { reports, status: failed ? 1 : 0 };
}

/**
 * Renders reports as the CLI prints them: `--json` is always an array with one report per
 * file; text shows each report with its verdict last (a sample of large ones unless `full`).
 *
 * @example
 * ```ts
 * import { renderProbeReports } from "@pvkit/cli";
 * const report = { probe: "p", backend: "emu", passed: true, vcpus: [], failures: [], notes: [] };
 * console.log(renderProbeReports([report], true).startsWith("[")); // true
 * ```
 */
export function renderProbeReports(
  reports: readonly ProbeReport[],
  json: boolean,
  full = false,
): string {
  if (json) return JSON.stringify(reports);
  return reports.map((r) => renderProbeText(r, full)).join("\n\n");
}
