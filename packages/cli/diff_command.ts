/**
 * `pvkit diff FILE...`: runs each probe on the emulated backend and on KVM and lists every
 * difference in results, faults and expectations. Exit status: 0 when the backends agree, 1
 * when they differ, 2 for a bad probe file or an unusable /dev/kvm.
 *
 * @module
 */

import {
  diffProbeRuns,
  formatDifferences,
  nativeHypercallInsn,
  type ProbeDifference,
} from "@pvkit/kvm-probe";
import { loadProbeFile, type ProbeRunOptions } from "@pvkit/probe";
import { bold } from "./colors.ts";
import { PvkitError, type PvPlugin } from "@pvkit/machine";
import { callerPath } from "./caller_path.ts";
import { probeBackend } from "./probe_command.ts";

/** The differences of one probe file. */
export interface ProbeFileDiff {
  /** The file. */
  readonly file: string;
  /** The probe's name. */
  readonly probe: string;
  /** Every difference (skipped steps are listed with `significant: false`). */
  readonly differences: readonly ProbeDifference[];
}

/** The KVM backend, with a hint that fits diff (which has no --backend) when it is unusable. */
function kvmBackendForDiff(extra: readonly PvPlugin[]) {
  try {
    return probeBackend("kvm", extra);
  } catch (e) {
    if (!(e instanceof PvkitError) || e.code !== "kvm-unusable") throw e;
    throw new PvkitError(
      e.code,
      `pvkit diff compares against KVM, and ${e.message.replace(/^the kvm backend /, "it ")}`,
      "`pvkit probe FILE` runs the probes on the emulated backend alone",
    );
  }
}

/**
 * Runs every file on both backends and compares them (relative paths are relative to the
 * caller's folder; `extra` plugins may be named by the probes).
 *
 * @throws {PvkitError} for a bad probe file or an unusable /dev/kvm
 * @example
 * ```ts
 * import { diffProbeFiles } from "@pvkit/cli";
 * const file = new URL("../../tests/conformance/a5-cpuid-signature.json", import.meta.url).pathname;
 * const [result] = await diffProbeFiles([file]);
 * console.log(result.differences.filter((d) => d.significant).length); // 0
 * ```
 */
export async function diffProbeFiles(
  files: readonly string[],
  options: ProbeRunOptions = {},
  extra: readonly PvPlugin[] = [],
): Promise<ProbeFileDiff[]> {
  const kvm = kvmBackendForDiff(extra);
  // The emulated KVM rewrites the other vendor's hypercall instruction to this host's.
  const emu = probeBackend("emu", extra, { hypercallInsn: nativeHypercallInsn() });
  const out: ProbeFileDiff[] = [];
  for (const file of files) {
    const probe = await loadProbeFile(callerPath(file));
    const differences = diffProbeRuns(probe, await emu.run(probe), await kvm.run(probe, options));
    out.push({ file, probe: probe.name, differences });
  }
  return out;
}

/**
 * Renders diff results, and says whether the backends agree (exit status 0) or not (1).
 *
 * @example
 * ```ts
 * import { renderDiff } from "@pvkit/cli";
 * console.log(renderDiff([{ file: "a.json", probe: "a", differences: [] }], false).status); // 0
 * ```
 */
export function renderDiff(
  results: readonly ProbeFileDiff[],
  json: boolean,
): { text: string; status: 0 | 1 } {
  const differ = results.some((r) => r.differences.some((d) => d.significant));
  const text = json
    ? JSON.stringify(results)
    : results.map((r) => `${bold(`${r.probe}`)} (${r.file}): ${formatDifferences(r.differences)}`)
      .join("\n");
  return { text, status: differ ? 1 : 0 };
}
