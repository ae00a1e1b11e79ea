/**
 * `pvkit diff FILE...`: runs each probe on the emulated backend and on KVM and lists every
 * difference in results, faults and expectations. Exit status: 0 when the backends agree, 1
 * when they differ, 2 for a bad probe file or an unusable /dev/kvm.
 *
 * @module
 */

import { diffProbeRuns, formatDifferences, type ProbeDifference } from "@pvkit/kvm-probe";
import { loadProbeFile, type ProbeRunOptions } from "@pvkit/probe";
import { bold } from "./colors.ts";
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

/**
 * Runs every file on both backends and compares them.
 *
 * @throws {PvkitError} for a bad probe file or an unusable /dev/kvm
 * @example
 * ```ts
 * import { diffProbeFiles } from "@pvkit/cli";
 * const [result] = await diffProbeFiles(["tests/conformance/a5-cpuid-signature.json"]);
 * console.log(result.differences.filter((d) => d.significant).length); // 0
 * ```
 */
export async function diffProbeFiles(
  files: readonly string[],
  options: ProbeRunOptions = {},
): Promise<ProbeFileDiff[]> {
  const emu = probeBackend("emu");
  const kvm = probeBackend("kvm");
  const out: ProbeFileDiff[] = [];
  for (const file of files) {
    const probe = await loadProbeFile(file);
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
