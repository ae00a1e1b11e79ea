/**
 * Comparing two runs of one probe (the emulated backend against KVM):
 * {@linkcode diffProbeRuns} lists where they disagree, {@linkcode formatDifferences} prints it.
 *
 * @module
 */

import { checkStep, type Probe, type ProbeRun, type Step, type StepResult } from "@pvkit/probe";

/**
 * The kind of a {@linkcode ProbeDifference}:
 *
 * - `op`: the results name different ops (a backend bug);
 * - `fault`: one faulted and the other did not, or they faulted differently;
 * - `value`: both produced values and they differ, where raw equality is meaningful;
 * - `expectation`: a check passed on one and failed on the other;
 * - `missing`: one backend has no result for the step;
 * - `skipped`: one (or both) skipped the step; reported, but not a real difference.
 */
export type ProbeDifferenceKind = "op" | "fault" | "value" | "expectation" | "missing" | "skipped";

/**
 * One place where two runs disagree.
 *
 * @example
 * ```ts
 * import type { ProbeDifference } from "@pvkit/kvm-probe";
 * const d: ProbeDifference = {
 *   vcpu: 0, step: 3, op: "rdmsr", kind: "fault", emu: "fault GP", kvm: "value 0x0", significant: true,
 * };
 * console.log(d.kind);
 * ```
 */
export interface ProbeDifference {
  /** The vCPU index. */
  readonly vcpu: number;
  /** The step index. */
  readonly step: number;
  /** The step's op. */
  readonly op: Step["op"];
  /** The step's label. */
  readonly label?: string;
  /** What differs. */
  readonly kind: ProbeDifferenceKind;
  /** The emulated run's side. */
  readonly emu: string;
  /** The KVM run's side. */
  readonly kvm: string;
  /** False for `skipped` (reported only); true for real differences. */
  readonly significant: boolean;
}

const TIME_DEPENDENT_OPS: ReadonlySet<Step["op"]> = new Set(["rdtsc", "spin", "preempt"]);
const KVM_LEAVES_FIRST = 0x40000000;
const KVM_LEAVES_LAST = 0x400000ff;

function describe(r: StepResult | undefined): string {
  if (r === undefined) return "no result";
  if ("skipped" in r) return `skipped (${r.skipped})`;
  if ("fault" in r) return `fault ${r.fault}`;
  if (r.op === "cpuid") {
    const h = (v: bigint): string => `0x${v.toString(16)}`;
    return `eax ${h(r.eax)} ebx ${h(r.ebx)} ecx ${h(r.ecx)} edx ${h(r.edx)}`;
  }
  if ("ret" in r) return `ret 0x${r.ret.toString(16)}${r.site ? ` site ${r.site}` : ""}`;
  if ("value" in r) return `value 0x${r.value.toString(16)}`;
  if ("timeout" in r) return r.timeout ? "timeout" : "interrupt came";
  return "ok";
}

/**
 * True when raw values of this step are comparable: the op is not time-dependent, and the
 * step has no expectation or only exact ones (`value`, `ret`, CPUID registers), not
 * min/max/even/mask.
 */
function rawComparable(step: Step): boolean {
  if (TIME_DEPENDENT_OPS.has(step.op)) return false;
  // The emulated backend models the PV leaves and the topology fields of the others; the rest
  // of a non-KVM leaf is the host CPU's, compared only through expectations.
  if (step.op === "cpuid" && (step.leaf < KVM_LEAVES_FIRST || step.leaf > KVM_LEAVES_LAST)) {
    return false;
  }
  const e = step.expect;
  if (!e) return true;
  return e.min === undefined && e.max === undefined && e.even === undefined &&
    e.mask === undefined && e.inClockBracket === undefined;
}

/**
 * Lists the differences between an emulated run and a KVM run of the same probe: ops, faults,
 * values (only where raw equality means something: no min/max/even/mask/inClockBracket
 * expectation, and not
 * rdtsc/spin/preempt), expectation outcomes per clause, and missing results. A step skipped by
 * either backend is listed as `skipped` with `significant: false` and not compared further.
 *
 * @example
 * ```ts
 * import { diffProbeRuns } from "@pvkit/kvm-probe";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "p", machine: {}, vcpus: [{ steps: [{ op: "rdmsr", msr: "0x10" }] }] });
 * const emu = { backend: "emu", vcpus: [{ results: [{ op: "rdmsr" as const, value: 1n }], exits: {} }], notes: [] };
 * const kvm = { backend: "kvm", vcpus: [{ results: [{ op: "rdmsr" as const, fault: "GP" as const }], exits: {} }], notes: [] };
 * console.log(diffProbeRuns(probe, emu, kvm).map((d) => d.kind)); // [ "fault" ]
 * ```
 */
export function diffProbeRuns(probe: Probe, emuRun: ProbeRun, kvmRun: ProbeRun): ProbeDifference[] {
  const out: ProbeDifference[] = [];
  probe.vcpus.forEach((vcpu, v) => {
    vcpu.steps.forEach((step, i) => {
      const a = emuRun.vcpus[v]?.results[i];
      const b = kvmRun.vcpus[v]?.results[i];
      const base = {
        vcpu: v,
        step: i,
        op: step.op,
        ...(step.label !== undefined ? { label: step.label } : {}),
        emu: describe(a),
        kvm: describe(b),
      };
      const push = (kind: ProbeDifferenceKind, significant = true): void => {
        out.push({ ...base, kind, significant });
      };
      if (a === undefined && b === undefined) return;
      if (a === undefined || b === undefined) return push("missing");
      if ("skipped" in a || "skipped" in b) return push("skipped", false);
      if (a.op !== b.op) return push("op");
      const fa = "fault" in a ? a.fault : undefined;
      const fb = "fault" in b ? b.fault : undefined;
      if (fa !== fb) return push("fault");
      const ca = checkStep(step, a, emuRun.clockBracket);
      const cb = checkStep(step, b, kvmRun.clockBracket);
      const expectationDiffers = ca.length !== cb.length ||
        ca.some((c, k) => c.status !== cb[k].status);
      if (expectationDiffers) return push("expectation");
      if (rawComparable(step) && describe(a) !== describe(b)) push("value");
    });
  });
  return out;
}

/**
 * Prints differences for people, one line each; "no differences" when the list has no
 * significant entry (skipped steps are still listed).
 *
 * @example
 * ```ts
 * import { formatDifferences } from "@pvkit/kvm-probe";
 * console.log(formatDifferences([])); // "no differences"
 * ```
 */
export function formatDifferences(differences: readonly ProbeDifference[]): string {
  const lines: string[] = [];
  const real = differences.filter((d) => d.significant).length;
  lines.push(real === 0 ? "no differences" : `${real} difference${real === 1 ? "" : "s"}`);
  for (const d of differences) {
    const where = `vCPU ${d.vcpu} step ${d.step} ${d.op}${d.label ? ` [${d.label}]` : ""}`;
    const tag = d.significant ? d.kind : "skipped (not a difference)";
    lines.push(`  ${where}: ${tag}: emu ${d.emu}, kvm ${d.kvm}`);
  }
  return lines.join("\n");
}
