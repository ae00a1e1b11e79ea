/**
 * Checking a run against the probe's expectations: each clause of each step's `expect` gives
 * one {@linkcode ExpectationCheck}; the ones that fail become
 * {@linkcode ExpectationFailure}s.
 *
 * Comparisons are on unsigned values in the step's width: 64 bits, 32 for CPUID registers and
 * for hypercalls made in 32-bit mode, 8×size for `read` and `in`. A `{skipped}` result never
 * fails a clause (unless the step says `"skippedOk": false`) but is reported.
 *
 * @module
 */

import type {
  ClockBracket,
  Expectation,
  Probe,
  ProbeRun,
  Step,
  StepOp,
  StepResult,
} from "./types.ts";
import { formatValue, toUnsigned } from "./values.ts";
import { resultWidth } from "./result_width.ts";

/** How one clause fared: passed, failed, not checked because the step was skipped, or no result. */
export type CheckStatus = "pass" | "fail" | "skipped" | "missing";

/** One clause of a step's expectation, checked. */
export interface ExpectationCheck {
  /** What the clause wants, e.g. `fault GP` or `ret = 0xfffffffffffffc18 (-1000)`. */
  readonly expected: string;
  /** What the step produced, e.g. `value 0x0` or `skipped: no /dev/kvm`. */
  readonly actual: string;
  /** The outcome. */
  readonly status: CheckStatus;
}

/** An expectation that did not hold, or a run that does not fit the probe. */
export interface ExpectationFailure {
  /** The vCPU index. */
  readonly vcpu: number;
  /** The step index within the vCPU. */
  readonly step: number;
  /** The step's label, when it has one. */
  readonly label?: string;
  /** The step's op. */
  readonly op: StepOp;
  /** What was expected. */
  readonly expected: string;
  /** What happened. */
  readonly actual: string;
}

/** A value in the step's width; a hypercall return also shows as signed when negative. */
function show(value: bigint, bits: number, signed: boolean): string {
  const v = toUnsigned(value, bits);
  const hex = formatValue(v);
  const negative = BigInt.asIntN(bits, v);
  return signed && negative < 0n ? `${hex} (${negative})` : hex;
}

function isValue(v: unknown): v is bigint {
  return typeof v === "bigint" && v >= 0n && v < 1n << 64n;
}

/** Why a result does not fit its step, or undefined when it does. */
function misfit(step: Step, result: StepResult): string | undefined {
  if (result.op !== step.op) return `a ${result.op} result`;
  const r = result as unknown as Record<string, unknown>;
  if ("skipped" in r) return typeof r.skipped === "string" ? undefined : "a malformed result";
  const fits = (() => {
    switch (step.op) {
      case "cpuid":
        return ["eax", "ebx", "ecx", "edx"].every((k) =>
          isValue(r[k]) && (r[k] as bigint) < 1n << 32n
        );
      case "rdmsr":
        return isValue(r.value) || r.fault === "GP";
      case "wrmsr":
        return r.fault === undefined || r.fault === "GP";
      case "hypercall":
        return isValue(r.ret) || r.fault === "UD";
      case "apic-read":
        return isValue(r.value) || r.fault === "GP";
      case "apic-write":
        return r.fault === undefined || r.fault === "GP";
      case "read":
      case "rdtsc":
      case "in":
        return isValue(r.value);
      case "wait-irq":
        return r.timeout === undefined || typeof r.timeout === "boolean";
      default:
        return true;
    }
  })();
  return fits ? undefined : "a malformed result";
}

/** What a result says, in the words checks use. */
function describeResult(result: StepResult, bits: number): string {
  if ("skipped" in result) return `skipped: ${result.skipped}`;
  if ("fault" in result) return `fault ${result.fault}`;
  if ("value" in result) return `value ${show(result.value, bits, false)}`;
  if ("ret" in result) {
    const site = result.site === undefined ? "" : `, site ${result.site}`;
    return `ret ${show(result.ret, bits, true)}${site}`;
  }
  if ("eax" in result) {
    return `eax ${formatValue(result.eax)} ebx ${formatValue(result.ebx)} ` +
      `ecx ${formatValue(result.ecx)} edx ${formatValue(result.edx)}`;
  }
  if (result.op === "wait-irq") return result.timeout === true ? "timeout" : "interrupt";
  return result.op === "wrmsr" || result.op === "apic-write" ? "no fault" : "done";
}

/** One clause: its text and a predicate over the result (undefined: the result lacks the field). */
interface Clause {
  readonly expected: string;
  readonly test: (result: StepResult) => boolean;
  readonly actual?: (result: StepResult) => string;
}

function clausesOf(step: Step, expect: Expectation, bracket?: ClockBracket): Clause[] {
  const bits = resultWidth(step);
  const field = step.op === "hypercall" ? "ret" : "value";
  const signed = step.op === "hypercall";
  const fmt = (v: bigint): string => show(v, bits, signed);
  const numeric = (r: StepResult): bigint | undefined =>
    "value" in r ? toUnsigned(r.value, bits) : "ret" in r ? toUnsigned(r.ret, bits) : undefined;
  const onValue = (expected: string, ok: (v: bigint) => boolean): Clause => ({
    expected,
    test: (r) => {
      const v = numeric(r);
      return v !== undefined && ok(v);
    },
  });
  const out: Clause[] = [];
  if (expect.fault !== undefined) {
    const want = expect.fault;
    out.push({
      expected: want === null ? "no fault" : `fault ${want}`,
      test: (r) => ("fault" in r ? r.fault : null) === want,
    });
  }
  const equal = expect.value ?? expect.ret;
  if (equal !== undefined) out.push(onValue(`${field} = ${fmt(equal)}`, (v) => v === equal));
  for (const reg of ["eax", "ebx", "ecx", "edx"] as const) {
    const want = expect[reg];
    if (want === undefined) continue;
    const mask = expect.registerMask?.[reg] ?? 0xffff_ffffn;
    const masked = mask === 0xffff_ffffn ? reg : `${reg} & ${formatValue(mask)}`;
    out.push({
      expected: `${masked} = ${formatValue(want)}`,
      test: (r) =>
        reg in r && (toUnsigned((r as Record<typeof reg, bigint>)[reg], 32) & mask) === want,
      actual: (r) =>
        reg in r ? `${reg} ${formatValue((r as Record<typeof reg, bigint>)[reg])}` : "",
    });
  }
  if (expect.even !== undefined) {
    const even = expect.even;
    out.push(onValue(`${field} ${even ? "even" : "odd"}`, (v) => (v % 2n === 0n) === even));
  }
  const { min, max } = expect;
  if (min !== undefined && max !== undefined) {
    out.push(onValue(`${fmt(min)} <= ${field} <= ${fmt(max)}`, (v) => min <= v && v <= max));
  } else if (min !== undefined) {
    out.push(onValue(`${field} >= ${fmt(min)}`, (v) => v >= min));
  } else if (max !== undefined) {
    out.push(onValue(`${field} <= ${fmt(max)}`, (v) => v <= max));
  }
  if (expect.mask !== undefined && expect.equals !== undefined) {
    const { mask, equals } = expect;
    out.push(
      onValue(
        `${field} & ${formatValue(mask)} = ${formatValue(equals)}`,
        (v) => (v & mask) === equals,
      ),
    );
  }
  if (expect.inClockBracket !== undefined) {
    const want = expect.inClockBracket;
    const text = bracket
      ? `${fmt(bracket.before)} <= ${field} <= ${fmt(bracket.after)} (the run's kvmclock bracket)`
      : `${field} within the run's kvmclock bracket (this backend measured none)`;
    out.push(
      onValue(
        want ? text : `not ${text}`,
        (v) => bracket !== undefined && (bracket.before <= v && v <= bracket.after) === want,
      ),
    );
  }
  if (expect.site !== undefined) {
    const want = expect.site;
    out.push({
      expected: `site ${want} after the call`,
      test: (r) => "site" in r && r.site === want,
      actual: (r) => "site" in r && r.site !== undefined ? `site ${r.site}` : "no site reported",
    });
  }
  if (expect.timeout !== undefined) {
    const want = expect.timeout;
    out.push({
      expected: want ? "timeout" : "interrupt before the timeout",
      test: (r) => ("timeout" in r && r.timeout === true) === want,
    });
  }
  return out;
}

/**
 * Checks one step's result against the step's expectation, clause by clause. A result that
 * does not fit the step (another op, missing fields) is one failed check even when the step
 * expects nothing; `undefined` (no result) marks every clause `"missing"`.
 *
 * @example
 * ```ts
 * import { checkStep, parseProbe } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * const probe = parseProbe({
 *   name: "x",
 *   machine: {},
 *   vcpus: [{ steps: [{ op: "hypercall", nr: 5, expect: { ret: "-1000" } }] }],
 * });
 * const step = probe.vcpus[0].steps[0];
 * assertEquals(checkStep(step, { op: "hypercall", ret: 2n ** 64n - 1000n }), [
 *   {
 *     expected: "ret = 0xfffffffffffffc18 (-1000)",
 *     actual: "ret 0xfffffffffffffc18 (-1000)",
 *     status: "pass",
 *   },
 * ]);
 * assertEquals(checkStep(step, { op: "hypercall", skipped: "hangs" })[0].status, "skipped");
 * ```
 */
export function checkStep(
  step: Step,
  result: StepResult | undefined,
  bracket?: ClockBracket,
): ExpectationCheck[] {
  const expect = step.expect ?? {};
  if (result === undefined) {
    return clausesOf(step, expect, bracket).map((c) => ({
      expected: c.expected,
      actual: "no result",
      status: "missing",
    }));
  }
  const wrong = misfit(step, result);
  if (wrong !== undefined) {
    return [{ expected: `a ${step.op} result`, actual: wrong, status: "fail" }];
  }
  const bits = resultWidth(step);
  const actual = describeResult(result, bits);
  const checks: ExpectationCheck[] = [];
  if ("skipped" in result) {
    if (expect.skippedOk === false) {
      checks.push({ expected: "not skipped", actual, status: "fail" });
    }
    for (const c of clausesOf(step, expect, bracket)) {
      checks.push({ expected: c.expected, actual, status: "skipped" });
    }
    return checks;
  }
  for (const c of clausesOf(step, expect, bracket)) {
    const ok = c.test(result);
    const text = c.actual?.(result) || actual;
    checks.push({ expected: c.expected, actual: text, status: ok ? "pass" : "fail" });
  }
  return checks;
}

/**
 * Checks a run against a probe: every failed clause, every result that does not fit its step,
 * and, once per vCPU, a vCPU that stopped before its last step. An empty list means the probe
 * passed.
 *
 * @example
 * ```ts
 * import { checkExpectations, parseProbe } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * const probe = parseProbe({
 *   name: "enforcement",
 *   machine: { enforcePvCpuid: true },
 *   vcpus: [{ steps: [{ op: "rdmsr", msr: "0x4b564d03", label: "steal", expect: { fault: "GP" } }] }],
 * });
 * const failures = checkExpectations(probe, {
 *   backend: "test",
 *   vcpus: [{ results: [{ op: "rdmsr", value: 0n }], exits: {} }],
 *   notes: [],
 * });
 * assertEquals(failures, [
 *   { vcpu: 0, step: 0, label: "steal", op: "rdmsr", expected: "fault GP", actual: "value 0x0" },
 * ]);
 * ```
 */
export function checkExpectations(probe: Probe, run: ProbeRun): ExpectationFailure[] {
  const failures: ExpectationFailure[] = [];
  probe.vcpus.forEach((vcpu, v) => {
    const results = run.vcpus[v]?.results ?? [];
    const fail = (
      i: number,
      op: StepOp,
      label: string | undefined,
      expected: string,
      actual: string,
    ) =>
      failures.push(
        label === undefined
          ? { vcpu: v, step: i, op, expected, actual }
          : { vcpu: v, step: i, label, op, expected, actual },
      );
    vcpu.steps.forEach((step, i) => {
      const result = results[i];
      if (result === undefined) {
        if (i === results.length) {
          const last = vcpu.steps.length - 1;
          const which = i === last ? `step ${i}` : `steps ${i}-${last}`;
          fail(
            i,
            step.op,
            step.label,
            "a result for every step",
            `no result for ${which}: the vCPU stopped early`,
          );
        }
        return;
      }
      for (const check of checkStep(step, result, run.clockBracket)) {
        if (check.status === "fail") fail(i, step.op, step.label, check.expected, check.actual);
      }
    });
    for (let i = vcpu.steps.length; i < results.length; i++) {
      fail(
        i,
        results[i].op,
        undefined,
        `no result: the vCPU has ${vcpu.steps.length} steps`,
        `a ${results[i].op} result`,
      );
    }
  });
  return failures;
}
