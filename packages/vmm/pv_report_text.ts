/**
 * The PV-feature report for people (a table with the evidence under each row) and as JSON, with
 * the boot's summary lines (how the guest ended, boot time to /init, exits by reason), which the
 * VMM fills in.
 *
 * @module
 */

import { stealTicks } from "./boot_console.ts";
import type { PvFeatureRow, PvReport, PvTaken } from "./pv_report.ts";

/**
 * What the VMM measured about the boot, shown under the table. Every field is optional.
 *
 * @example
 * ```ts
 * import type { BootSummary } from "@pvkit/vmm";
 * const s: BootSummary = { ended: "reboot (i8042 reset)", wallToInitSeconds: 4.2, exitsByReason: { io: 5120, mmio: 12 } };
 * console.log(s.ended);
 * ```
 */
export interface BootSummary {
  /** How the guest ended, e.g. `reboot (i8042 reset)`, `kernel panic`, `timeout after 60 s`. */
  readonly ended?: string;
  /** Wall-clock seconds from the first KVM_RUN to the `/init` line on the console. */
  readonly wallToInitSeconds?: number;
  /** Wall-clock seconds from the first KVM_RUN to the end. */
  readonly wallSeconds?: number;
  /** KVM exits to the VMM by reason (`io`, `mmio`, `hlt`, `shutdown`, ...), all vCPUs. */
  readonly exitsByReason?: Readonly<Record<string, number>>;
}

/**
 * The JSON form of a report, keys in this order: `features` (one object per row: `feature`,
 * `cpuid`, `offered`, `taken`, `predicted`, `agree`, `evidence`, `reason`), `agreeAll`,
 * `kernelLog` (`modelOnly`, `kernelOnly`, `model`, `kernel`, `source`), `guest`
 * (`initUptimeSeconds`, `cpuidleDriver`, `clocksource`, `onlineCpus`, `stealTicks`,
 * `hypercalls`, `panic`, `missing`), `summary` (`ended`, `bootToInitSeconds` (guest uptime),
 * `wallToInitSeconds`, `wallSeconds`, `exitsByReason`). `taken` and `agree` are `true`, `false`
 * or `"unknown"`; absent values are `null`.
 *
 * @example
 * ```ts ignore
 * import { pvReportJson } from "@pvkit/vmm";
 * console.log(JSON.stringify(pvReportJson(report, { ended: "reboot" }), null, 2));
 * ```
 */
export interface PvReportJson {
  /** One object per PV feature. */
  readonly features: readonly PvFeatureRow[];
  /** Every feature's `agree` is `true`. */
  readonly agreeAll: boolean;
  /** The model's kernel log against the kernel's. */
  readonly kernelLog: {
    readonly modelOnly: readonly string[];
    readonly kernelOnly: readonly string[];
    readonly model: readonly string[];
    readonly kernel: readonly string[];
    readonly source: "dmesg" | "console";
  };
  /** What the guest reported about itself. */
  readonly guest: {
    readonly initUptimeSeconds: number | null;
    readonly cpuidleDriver: string | null;
    readonly clocksource: string | null;
    readonly onlineCpus: readonly number[] | null;
    readonly stealTicks: readonly { cpu: number; steal: number }[];
    readonly hypercalls: readonly number[] | null;
    readonly panic: string | null;
    readonly missing: readonly string[];
  };
  /** What the VMM measured. */
  readonly summary: {
    readonly ended: string | null;
    readonly bootToInitSeconds: number | null;
    readonly wallToInitSeconds: number | null;
    readonly wallSeconds: number | null;
    readonly exitsByReason: Readonly<Record<string, number>> | null;
  };
}

/**
 * The report as JSON-ready data (see {@linkcode PvReportJson} for the keys and their order).
 *
 * @example
 * ```ts
 * import { buildPvReport, parseGuestConsole, pvReportJson } from "@pvkit/vmm";
 * const report = buildPvReport({
 *   offered: { leaf1Ecx: 0, vcpus: 1 },
 *   observed: { msrWrites: [[]] },
 *   console: parseGuestConsole("pvkit-boot: init 3.5\npvkit-report: begin\npvkit-report: end 3.6\n"),
 *   cmdline: "",
 * });
 * const json = pvReportJson(report, { ended: "reboot (i8042 reset)" });
 * console.log(Object.keys(json)); // [ "features", "agreeAll", "kernelLog", "guest", "summary" ]
 * console.log(json.summary.bootToInitSeconds, json.agreeAll); // 3.5 true
 * ```
 */
export function pvReportJson(report: PvReport, summary: BootSummary = {}): PvReportJson {
  const c = report.console;
  const k = report.kernelLog;
  return {
    features: report.rows.map((r) => ({
      feature: r.feature,
      cpuid: r.cpuid,
      offered: r.offered,
      taken: r.taken,
      predicted: r.predicted,
      agree: r.agree,
      evidence: r.evidence,
      reason: r.reason,
    })),
    agreeAll: report.rows.every((r) => r.agree === true),
    kernelLog: {
      modelOnly: k.modelOnly,
      kernelOnly: k.kernelOnly,
      model: k.model,
      kernel: k.kernel,
      source: report.kernelLinesFrom,
    },
    guest: {
      initUptimeSeconds: c.initUptimeSeconds ?? null,
      cpuidleDriver: c.cpuidleDriver ?? null,
      clocksource: c.clocksource ?? null,
      onlineCpus: c.onlineCpus ?? null,
      stealTicks: stealTicks(c),
      hypercalls: report.hypercalls ?? null,
      panic: c.panic ?? null,
      missing: c.missing,
    },
    summary: {
      ended: summary.ended ?? null,
      bootToInitSeconds: c.initUptimeSeconds ?? null,
      wallToInitSeconds: summary.wallToInitSeconds ?? null,
      wallSeconds: summary.wallSeconds ?? null,
      exitsByReason: summary.exitsByReason ?? null,
    },
  };
}

const HEADERS = ["PV feature", "offered", "taken", "predicted", "agree", "evidence"] as const;

/**
 * The report as text: a table (feature, offered, taken, predicted, agree, evidence) with each
 * further piece of evidence on its own line under the row, and the model's reason under a row
 * that disagrees or cannot be judged; then the kernel-log comparison, what the guest left out,
 * and the summary lines.
 *
 * @example
 * ```ts
 * import { buildPvReport, parseGuestConsole, renderPvReport } from "@pvkit/vmm";
 * const report = buildPvReport({
 *   offered: { leaf40000001: { eax: 0x01007efb, edx: 0 }, leaf1Ecx: 1 << 31, vcpus: 2 },
 *   observed: {},
 *   console: parseGuestConsole("pvkit-report: begin\npvkit-report: end 1.0\n"),
 *   cmdline: "",
 * });
 * const text = renderPvReport(report, { ended: "reboot (i8042 reset)" });
 * console.log(text.split("\n")[0]); // "PV feature           offered  taken  predicted  agree  evidence"
 * ```
 */
export function renderPvReport(report: PvReport, summary: BootSummary = {}): string {
  const cells = report.rows.map((r) => [
    r.feature,
    yesNo(r.offered),
    yesNo(r.taken),
    yesNo(r.predicted),
    r.agree === true ? "yes" : r.agree === false ? "NO" : "?",
  ]);
  const widths = HEADERS.slice(0, 5).map((h, i) =>
    Math.max(h.length, ...cells.map((row) => row[i].length))
  );
  const pad = (row: readonly string[]) => row.map((c, i) => c.padEnd(widths[i])).join("  ");
  const indent = " ".repeat(widths.reduce((s, w) => s + w + 2, 0));
  const out = [`${pad(HEADERS.slice(0, 5))}  ${HEADERS[5]}`];
  report.rows.forEach((r, i) => {
    const [first = "", ...rest] = r.evidence;
    out.push(`${pad(cells[i])}  ${first}`.trimEnd());
    for (const e of rest) out.push(`${indent}${e}`);
    if (r.agree !== true) out.push(`${indent}model: ${r.reason}`);
  });
  const agreeing = report.rows.filter((r) => r.agree === true).length;
  out.push("", `agree: ${agreeing} of ${report.rows.length} features`);

  const k = report.kernelLog;
  if (k.modelOnly.length === 0 && k.kernelOnly.length === 0) {
    out.push(
      `kernel log: the model's ${k.model.length} lines match the kernel's (${report.kernelLinesFrom})`,
    );
  } else {
    out.push(`kernel log (${report.kernelLinesFrom}) differs from the model's:`);
    for (const l of k.modelOnly) out.push(`  model only:  ${l}`);
    for (const l of k.kernelOnly) out.push(`  kernel only: ${l}`);
  }
  const c = report.console;
  if (c.panic !== undefined) out.push(`kernel panic: ${c.panic}`);
  if (c.missing.length) out.push(`missing from the console: ${c.missing.join(", ")}`);

  const lines: string[] = [];
  if (summary.ended !== undefined) lines.push(`guest ended: ${summary.ended}`);
  const init = c.initUptimeSeconds === undefined
    ? "not reached"
    : `${c.initUptimeSeconds.toFixed(2)} s guest uptime`;
  const wall = summary.wallToInitSeconds === undefined
    ? ""
    : `, ${summary.wallToInitSeconds.toFixed(2)} s wall`;
  lines.push(`boot time to /init: ${init}${wall}`);
  if (summary.wallSeconds !== undefined) {
    lines.push(`run time: ${summary.wallSeconds.toFixed(2)} s wall`);
  }
  if (summary.exitsByReason !== undefined) {
    const entries = Object.entries(summary.exitsByReason).sort((a, b) => b[1] - a[1]);
    const total = entries.reduce((s, [, n]) => s + n, 0);
    lines.push(
      `exits by reason: ${total} (${entries.map(([r, n]) => `${r} ${n}`).join(", ") || "none"})`,
    );
  }
  out.push("", ...lines);
  return out.join("\n");
}

function yesNo(v: PvTaken): string {
  return v === true ? "yes" : v === false ? "no" : "unknown";
}
