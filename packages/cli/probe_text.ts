/**
 * The text of `pvkit probe` for people: every step of a small probe, a sample of a large one
 * (a 4096-vCPU probe would print 24 577 lines), and the verdict last, where it is seen.
 *
 * @module
 */

import { formatProbeReport, type ProbeReport } from "@pvkit/probe";

/**
 * How much of a large report is shown without `--full`.
 *
 * @example
 * ```ts
 * import { PROBE_TEXT_LIMITS } from "@pvkit/cli";
 * console.log(PROBE_TEXT_LIMITS.steps); // 40
 * ```
 */
export const PROBE_TEXT_LIMITS = {
  /** vCPUs shown: all of a probe with at most this many, else vCPU 0 and the first failing ones. */
  vcpus: 4,
  /** Steps shown per vCPU. */
  steps: 40,
  /** Failures listed. */
  failures: 20,
} as const;

/** Keeps the first `max` lines of `lines`, saying how many more there were. */
function cap(lines: string[], max: number, what: string, indent: string): string[] {
  if (lines.length <= max) return lines;
  return [
    ...lines.slice(0, max),
    `${indent}… ${lines.length - max} more ${what} (--full shows them)`,
  ];
}

/**
 * Renders a report: the steps, failures and notes, then the verdict line. Unless `full`, a
 * large report shows {@linkcode PROBE_TEXT_LIMITS} worth of it and says what it left out.
 *
 * @example
 * ```ts
 * import { renderProbeText } from "@pvkit/cli";
 * const report = { probe: "p", backend: "emu", passed: true, vcpus: [], failures: [], notes: [] };
 * console.log(renderProbeText(report, false)); // "probe p on emu: passed (0 checks passed)"
 * ```
 */
export function renderProbeText(report: ProbeReport, full: boolean): string {
  const [verdict, ...body] = formatProbeReport(report).split("\n");
  if (full) return [...body, verdict].join("\n");
  const sections: string[][] = [];
  const tail: string[] = [];
  for (const line of body) {
    if (/^vCPU \d+$/.test(line)) sections.push([line]);
    else if (!line.startsWith(" ") || tail.length > 0) tail.push(line);
    else sections[sections.length - 1].push(line);
  }
  const failing = new Set(report.failures.map((f) => f.vcpu));
  // A small probe shows every vCPU; a large one vCPU 0 and the first failing ones.
  const shown = sections.map((_, v) => v)
    .filter((v) => sections.length <= PROBE_TEXT_LIMITS.vcpus || v === 0 || failing.has(v))
    .slice(0, PROBE_TEXT_LIMITS.vcpus);
  const out: string[] = [];
  for (const v of shown) {
    const [title, ...lines] = sections[v];
    const exits = lines.pop()!;
    out.push(title, ...cap(lines, PROBE_TEXT_LIMITS.steps, "steps", "  "), exits);
  }
  if (shown.length < sections.length) {
    out.push(`… ${sections.length - shown.length} more vCPUs not shown (--full shows them)`);
  }
  const failuresAt = tail.indexOf("failures");
  if (failuresAt >= 0) {
    const end = tail.indexOf("notes");
    const failures = tail.slice(failuresAt + 1, end < 0 ? undefined : end);
    out.push("failures", ...cap(failures, PROBE_TEXT_LIMITS.failures, "failures", "  "));
    if (end >= 0) out.push(...tail.slice(end));
  } else out.push(...tail);
  return [...out, verdict].join("\n");
}
