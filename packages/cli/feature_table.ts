/**
 * The demo's per-feature table: each built-in probe's pass/fail and key reading.
 *
 * @module
 */

import { checkExpectations, type ProbeBackend, type ProbeRunOptions } from "@pvkit/probe";
import { bold, green, red, stripColors, yellow } from "./colors.ts";
import { featureProbes } from "./feature_probes.ts";

/** One row of the table. */
export interface FeatureRow {
  /** The feature. */
  readonly feature: string;
  /** The backend that ran it. */
  readonly backend: string;
  /** All expectations held. */
  readonly passed: boolean;
  /** Steps the backend could not run (then the reading says why). */
  readonly skipped: boolean;
  /** The key reading, or what failed. */
  readonly reading: string;
}

/**
 * Runs every built-in feature probe on a backend.
 *
 * @example
 * ```ts
 * import { runFeatureProbes } from "@pvkit/cli";
 * import { EmuProbeBackend } from "@pvkit/emu";
 * const rows = await runFeatureProbes(new EmuProbeBackend());
 * console.log(rows.every((r) => r.passed));
 * ```
 */
export async function runFeatureProbes(
  backend: ProbeBackend,
  options: ProbeRunOptions = {},
): Promise<FeatureRow[]> {
  const rows: FeatureRow[] = [];
  for (const { feature, probe, reading } of featureProbes) {
    const run = await backend.run(probe, options);
    const failures = checkExpectations(probe, run);
    const skips = run.vcpus.flatMap((v) => v.results).flatMap((r) =>
      "skipped" in r ? [r.skipped] : []
    );
    rows.push({
      feature,
      backend: run.backend,
      // A skipped step (e.g. a hypercall on a host where they hang) also starves the steps
      // that depend on it: the row is a skip, not a failure.
      passed: failures.length === 0 || skips.length > 0,
      skipped: skips.length > 0,
      reading: skips.length > 0
        ? `skipped: ${[...new Set(skips)].join("; ")}`
        : failures.length > 0
        ? failures.map((f) => `step ${f.step} ${f.op}: expected ${f.expected}, got ${f.actual}`)
          .join("; ")
        : reading(run),
    });
  }
  return rows;
}

/**
 * Renders the rows as a table.
 *
 * @example
 * ```ts
 * import { renderFeatureTable } from "@pvkit/cli";
 * console.log(renderFeatureTable([
 *   { feature: "kvmclock", backend: "emu", passed: true, skipped: false, reading: "1 ns" },
 * ]));
 * ```
 */
export function renderFeatureTable(rows: readonly FeatureRow[]): string {
  const cells = rows.map((r) => [
    r.feature,
    !r.passed ? red("FAIL") : r.skipped ? yellow("skip") : green("pass"),
    r.reading,
  ]);
  const width = (i: number) =>
    Math.max(
      ...["feature", "result", ""].map((h, j) => (j === i ? h.length : 0)),
      ...cells.map((c) => stripColors(c[i]).length),
    );
  const pad = (text: string, w: number) =>
    text + " ".repeat(Math.max(0, w - stripColors(text).length));
  const w0 = width(0);
  const w1 = width(1);
  const lines = [bold(`${pad("feature", w0)}  ${pad("result", w1)}  key reading`)];
  for (const c of cells) lines.push(`${pad(c[0], w0)}  ${pad(c[1], w1)}  ${c[2]}`);
  return lines.join("\n");
}
