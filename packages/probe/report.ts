/**
 * Reports: a plain JSON-able object for tools ({@linkcode probeReport}), a compact listing for
 * people ({@linkcode formatProbeReport}), and the exit status rule
 * ({@linkcode probeExitStatus}).
 *
 * @module
 */

import {
  checkExpectations,
  checkStep,
  type ExpectationCheck,
  type ExpectationFailure,
} from "./expect.ts";
import type { ExitCounters, Probe, ProbeRun, Step, StepOp, StepResult } from "./types.ts";
import { EXIT_REASONS } from "./types.ts";
import { formatValue, U64_MAX } from "./values.ts";

/** A step's operand as reports print it: values as `"0x"` strings, sizes and times as numbers. */
export type OperandReport = string | number | readonly string[];

/** One step as written (defaults filled in), with its checks. */
export interface StepReport {
  /** The op. */
  readonly op: StepOp;
  /** The step's label, when it has one. */
  readonly label?: string;
  /** The operands: `{"msr": "0x4b564d01"}`, `{"nr": "0x5", "args": [...], "mode": "64", "cpl": 0}`. */
  readonly operands: Readonly<Record<string, OperandReport>>;
  /** One entry per clause of the step's `expect`, in a fixed order. */
  readonly checks: readonly ExpectationCheck[];
}

/** A step result with bigints as `"0x"` strings: `{"op": "rdmsr", "value": "0x1"}`. */
export type ResultReport = { readonly op: StepOp } & Readonly<Record<string, string | boolean>>;

/** What one vCPU did. */
export interface VcpuReport {
  /** One per result the backend returned. */
  readonly results: readonly ResultReport[];
  /** Exits by reason, the known reasons first (see {@linkcode EXIT_REASONS}). */
  readonly exits: ExitCounters;
  /** One per step of the probe. */
  readonly steps: readonly StepReport[];
}

/** A probe run, checked, as plain JSON. */
export interface ProbeReport {
  /** The probe's name. */
  readonly probe: string;
  /** The backend that ran it. */
  readonly backend: string;
  /** True when no expectation failed. */
  readonly passed: boolean;
  /** One per vCPU of the probe. */
  readonly vcpus: readonly VcpuReport[];
  /** Every failure, in vCPU and step order. */
  readonly failures: readonly ExpectationFailure[];
  /** The backend's notes. */
  readonly notes: readonly string[];
}

/** Operands printed in hex even though they are numbers in the model. */
const HEX_OPERANDS = new Set(["leaf", "subleaf", "msr", "port", "vector", "reg"]);
const NOT_OPERANDS = new Set(["op", "label", "expect"]);

function operandsOf(step: Step): Record<string, OperandReport> {
  const out: Record<string, OperandReport> = {};
  for (const [key, v] of Object.entries(step)) {
    if (NOT_OPERANDS.has(key)) continue;
    if (typeof v === "bigint") out[key] = formatValue(v);
    else if (Array.isArray(v)) out[key] = v.map((a: bigint) => formatValue(a));
    else if (typeof v === "number") out[key] = HEX_OPERANDS.has(key) ? formatValue(BigInt(v)) : v;
    else out[key] = v as string;
  }
  return out;
}

function resultOf(result: StepResult): ResultReport {
  const out: Record<string, string | boolean> = {};
  for (const [key, v] of Object.entries(result)) {
    // A value outside 0..2^64-1 is a backend bug (checks flag it); print it rather than throw.
    if (typeof v === "bigint") out[key] = v >= 0n && v <= U64_MAX ? formatValue(v) : String(v);
    else out[key] = v as string | boolean;
  }
  return out as ResultReport;
}

function exitsOf(exits: ExitCounters): ExitCounters {
  const known = EXIT_REASONS.filter((r) => Object.hasOwn(exits, r));
  const others = Object.keys(exits).filter((r) => !EXIT_REASONS.includes(r)).sort();
  return Object.fromEntries([...known, ...others].map((r) => [r, exits[r]]));
}

/**
 * Checks a run against its probe and returns the report as plain JSON data (bigints become
 * `"0x"` strings), ready for `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { parseProbe, probeReport } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * const probe = parseProbe({
 *   name: "poll-control",
 *   machine: {},
 *   vcpus: [{ steps: [{ op: "rdmsr", msr: "0x4b564d05", expect: { value: 1 } }] }],
 * });
 * const report = probeReport(probe, {
 *   backend: "emulated",
 *   vcpus: [{ results: [{ op: "rdmsr", value: 1n }], exits: { "msr-read": 1 } }],
 *   notes: [],
 * });
 * assertEquals(report.passed, true);
 * assertEquals(report.vcpus[0].results, [{ op: "rdmsr", value: "0x1" }]);
 * assertEquals(report.vcpus[0].steps[0].operands, { msr: "0x4b564d05", cpl: 0 });
 * ```
 */
export function probeReport(probe: Probe, run: ProbeRun): ProbeReport {
  const failures = checkExpectations(probe, run);
  const vcpus = probe.vcpus.map((vcpu, v): VcpuReport => {
    const results = run.vcpus[v]?.results ?? [];
    return {
      results: results.map(resultOf),
      exits: exitsOf(run.vcpus[v]?.exits ?? {}),
      steps: vcpu.steps.map((step, i): StepReport => {
        const operands = operandsOf(step);
        const checks = checkStep(step, results[i], run.clockBracket);
        return step.label === undefined
          ? { op: step.op, operands, checks }
          : { op: step.op, label: step.label, operands, checks };
      }),
    };
  });
  return {
    probe: probe.name,
    backend: run.backend,
    passed: failures.length === 0,
    vcpus,
    failures,
    notes: [...run.notes],
  };
}

/**
 * The exit status for a checked run: 0 when every expectation held, 1 when any failed. (A bad
 * probe file is status 2, from the {@linkcode ProbeError} the CLI catches.)
 *
 * @example
 * ```ts
 * import { probeExitStatus } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(probeExitStatus({ passed: true }), 0);
 * assertEquals(probeExitStatus({ passed: false }), 1);
 * ```
 */
export function probeExitStatus(report: Pick<ProbeReport, "passed">): 0 | 1 {
  return report.passed ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Text

const MARKS: Readonly<Record<ExpectationCheck["status"], string>> = {
  pass: "✓",
  fail: "✗",
  skipped: "○",
  missing: "·",
};

function stepText(step: StepReport): string {
  const parts: string[] = [step.op];
  for (const [key, v] of Object.entries(step.operands)) {
    const byDefault = (key === "cpl" && v === 0) || (key === "mode" && v === "64") ||
      (key === "insn" && v === "native") || (key === "via" && v === "msr");
    if (byDefault) continue;
    parts.push(`${key}=${Array.isArray(v) ? v.join(",") : v}`);
  }
  if (step.label !== undefined) parts.push(`[${step.label}]`);
  return parts.join(" ");
}

function resultText(result: ResultReport | undefined, step: StepReport): string {
  if (result === undefined) return "(no result)";
  if (typeof result.skipped === "string") return `skipped: ${result.skipped}`;
  if (result.fault !== undefined) return `fault ${result.fault}`;
  if (result.value !== undefined) return `value ${result.value}`;
  if (result.ret !== undefined && !String(result.ret).startsWith("0x")) return `ret ${result.ret}`;
  if (typeof result.ret === "string" && result.ret.startsWith("0x")) {
    // Hypercall errors are negative: show -1000 next to 0xfffffffffffffc18.
    const signed = BigInt.asIntN(step.operands.mode === "32" ? 32 : 64, BigInt(result.ret));
    const site = typeof result.site === "string" ? `, site ${result.site}` : "";
    return (signed < 0n ? `ret ${result.ret} (${signed})` : `ret ${result.ret}`) + site;
  }
  if (result.eax !== undefined) {
    return `eax=${result.eax} ebx=${result.ebx} ecx=${result.ecx} edx=${result.edx}`;
  }
  if (result.op === "wait-irq") return result.timeout === true ? "timeout" : "interrupt";
  return "ok";
}

function checkText(check: ExpectationCheck): string {
  const mark = MARKS[check.status];
  switch (check.status) {
    case "pass":
      return `${mark} ${check.expected}`;
    case "fail":
      return `${mark} ${check.expected} (got ${check.actual})`;
    case "skipped":
      return `${mark} ${check.expected} (skipped)`;
    case "missing":
      return `${mark} ${check.expected} (no result)`;
  }
}

function exitsText(exits: ExitCounters): string {
  const counted = Object.entries(exits).filter(([, n]) => n !== 0);
  return counted.length === 0 ? "none" : counted.map(([r, n]) => `${r} ${n}`).join(", ");
}

/**
 * Formats a report for people: a header with the verdict, then per vCPU one line per step
 * (index, op and operands, the result, ✓/✗ per expectation; ○ = not checked because the step
 * was skipped), the exits by reason, then the failures and the backend's notes.
 *
 * @example
 * ```ts
 * import { formatProbeReport, parseProbe, probeReport } from "@pvkit/probe";
 *
 * const probe = parseProbe({
 *   name: "kick",
 *   machine: {},
 *   vcpus: [{ steps: [{ op: "hypercall", nr: 5, expect: { ret: "-1000" } }] }],
 * });
 * const report = probeReport(probe, {
 *   backend: "emulated",
 *   vcpus: [{ results: [{ op: "hypercall", ret: 0n }], exits: { hypercall: 1 } }],
 *   notes: [],
 * });
 * console.log(formatProbeReport(report));
 * // probe kick on emulated: FAILED, 1 failure (0 checks passed)
 * // vCPU 0
 * //   0  hypercall nr=0x5 args=0x0,0x0,0x0,0x0  ret 0x0  ✗ ret = 0xfffffffffffffc18 (-1000) (got ret 0x0)
 * //   exits: hypercall 1
 * // failures
 * //   vCPU 0 step 0 hypercall: expected ret = 0xfffffffffffffc18 (-1000), got ret 0x0
 * ```
 */
export function formatProbeReport(report: ProbeReport): string {
  const checks = report.vcpus.flatMap((v) => v.steps.flatMap((s) => s.checks));
  const count = (status: ExpectationCheck["status"]): number =>
    checks.filter((c) => c.status === status).length;
  const tally = [`${count("pass")} checks passed`];
  if (count("skipped") > 0) tally.push(`${count("skipped")} skipped`);
  const n = report.failures.length;
  const verdict = report.passed
    ? `passed (${tally.join(", ")})`
    : `FAILED, ${n} failure${n === 1 ? "" : "s"} (${tally.join(", ")})`;
  const lines = [`probe ${report.probe} on ${report.backend}: ${verdict}`];
  report.vcpus.forEach((vcpu, v) => {
    lines.push(`vCPU ${v}`);
    const indexWidth = String(Math.max(vcpu.steps.length - 1, 0)).length;
    const texts = vcpu.steps.map(stepText);
    const results = vcpu.steps.map((step, i) => resultText(vcpu.results[i], step));
    const stepWidth = Math.min(Math.max(0, ...texts.map((t) => t.length)), 56);
    const resultWidth = Math.min(Math.max(0, ...results.map((t) => t.length)), 40);
    vcpu.steps.forEach((step, i) => {
      const cols = [
        String(i).padStart(indexWidth),
        texts[i].padEnd(stepWidth),
        step.checks.length === 0 ? results[i] : results[i].padEnd(resultWidth),
        ...step.checks.map(checkText),
      ];
      lines.push(`  ${cols.join("  ")}`.trimEnd());
    });
    lines.push(`  exits: ${exitsText(vcpu.exits)}`);
  });
  if (n > 0) {
    lines.push("failures");
    for (const f of report.failures) {
      const label = f.label === undefined ? "" : ` [${f.label}]`;
      lines.push(
        `  vCPU ${f.vcpu} step ${f.step} ${f.op}${label}: expected ${f.expected}, got ${f.actual}`,
      );
    }
  }
  if (report.notes.length > 0) {
    lines.push("notes");
    for (const note of report.notes) lines.push(`  - ${note}`);
  }
  return lines.join("\n");
}
