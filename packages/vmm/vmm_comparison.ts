/**
 * pvkit's VMM against QEMU, per PV feature: whether the guest kernel took it under each (the
 * same {@linkcode buildPvReport} on each boot's console), compared where both can judge, and,
 * where they differ, what explains it: the CPUID offered, the CPUs the guest saw, the platform
 * (ACPI, PCI, HPET, IOAPIC lines only one guest printed), the cpuidle driver, the clocksource.
 *
 * QEMU reports no MSR writes, so the features only a WRMSR shows (PV EOI, async PF; steal time
 * when /proc/stat shows no steal) are "unknown" under QEMU: they are listed, not compared.
 *
 * @module
 */

import type { GuestPvFeature } from "@pvkit/guest";
import { stealTicks } from "./boot_console.ts";
import type { PvFeatureRow, PvReport, PvTaken } from "./pv_report.ts";

/**
 * How one feature compares: the same under both VMMs, different, or not compared (one of
 * them cannot tell).
 *
 * @example
 * ```ts
 * import type { VmmVerdict } from "@pvkit/vmm";
 * const v: VmmVerdict = "not-compared";
 * console.log(v);
 * ```
 */
export type VmmVerdict = "same" | "different" | "not-compared";

/**
 * One feature under both VMMs.
 *
 * @example
 * ```ts
 * import type { VmmFeatureComparison } from "@pvkit/vmm";
 * const row: VmmFeatureComparison = {
 *   feature: "pv-ipi", pvkit: true, qemu: true, offered: { pvkit: true, qemu: true },
 *   verdict: "same", explanation: "",
 *   evidence: { pvkit: ["kernel: kvm-guest: setup PV IPIs"], qemu: ["kernel: kvm-guest: setup PV IPIs"] },
 * };
 * console.log(row.verdict);
 * ```
 */
export interface VmmFeatureComparison {
  /** The feature, in `@pvkit/guest`'s words. */
  readonly feature: GuestPvFeature;
  /** Taken under pvkit's VMM. */
  readonly pvkit: PvTaken;
  /** Taken under QEMU. */
  readonly qemu: PvTaken;
  /** Offered in CPUID under each. */
  readonly offered: { readonly pvkit: boolean; readonly qemu: boolean };
  /** Same, different, or not compared. */
  readonly verdict: VmmVerdict;
  /** Why they differ, or why the row is not compared; empty when the same. */
  readonly explanation: string;
  /** Each report's evidence for the row. */
  readonly evidence: { readonly pvkit: readonly string[]; readonly qemu: readonly string[] };
}

/**
 * The whole comparison.
 *
 * @example
 * ```ts ignore
 * import { compareVmmBoots } from "@pvkit/vmm";
 * const c = compareVmmBoots(pvkitReport, qemuReport);
 * console.log(c.same, c.notCompared);
 * ```
 */
export interface VmmComparison {
  /** One row per feature, in `@pvkit/guest`'s order. */
  readonly rows: readonly VmmFeatureComparison[];
  /** Every compared feature is the same (and at least one was compared). */
  readonly same: boolean;
  /** The features both could judge. */
  readonly compared: readonly GuestPvFeature[];
  /** The features both could judge and that differ. */
  readonly different: readonly GuestPvFeature[];
  /** The features at least one could not judge. */
  readonly notCompared: readonly GuestPvFeature[];
  /** Platform lines (ACPI, PCI, HPET, IOAPIC, MP table) only one of the guests printed. */
  readonly platform: {
    readonly pvkitOnly: readonly string[];
    readonly qemuOnly: readonly string[];
  };
}

/** Kernel lines that show a device or table of the platform (not the PV interface). */
const PLATFORM_LINE = /\b(ACPI|PCI|HPET|hpet|IOAPIC|MPTABLE|MP-table|mp-table|acpi_pm)\b/;

/** Features Linux 6.1 turns off on a single possible CPU (arch/x86/kernel/kvm.c). */
const NEEDS_SMP: ReadonlySet<GuestPvFeature> = new Set<GuestPvFeature>([
  "pv-ipi",
  "pv-spinlock",
  "pv-tlb-flush",
  "pv-sched-yield",
]);

/**
 * Compares what the guest kernel took under pvkit's VMM and under QEMU, per feature.
 *
 * @example
 * ```ts
 * import { buildPvReport, compareVmmBoots, parseGuestConsole } from "@pvkit/vmm";
 * const block = (lines: string[]) =>
 *   parseGuestConsole(["pvkit-report: begin", ...lines.map((l) => `pvkit-report: dmesg ${l}`), "pvkit-report: cpuidle none", "pvkit-report: end 1.0"].join("\n"));
 * const offered = { leaf40000001: { eax: 0x01007efb, edx: 0 }, leaf1Ecx: 1 << 31, vcpus: 2 };
 * const pvkit = buildPvReport({
 *   offered, observed: { msrWrites: [[], []] }, cmdline: "",
 *   console: block(["Hypervisor detected: KVM", "kvm-guest: setup PV IPIs"]),
 * });
 * const qemu = buildPvReport({
 *   offered, observed: {}, cmdline: "",
 *   console: block(["Hypervisor detected: KVM", "kvm-guest: setup PV IPIs"]),
 * });
 * const c = compareVmmBoots(pvkit, qemu);
 * console.log(c.same, c.notCompared); // true [ "kvmclock", "kvmclock-stable-bit", "steal-time", "pv-eoi", "async-pf" ]
 * ```
 */
export function compareVmmBoots(pvkit: PvReport, qemu: PvReport): VmmComparison {
  const platform = {
    pvkitOnly: onlyIn(kernelLines(pvkit), kernelLines(qemu)).filter((l) => PLATFORM_LINE.test(l)),
    qemuOnly: onlyIn(kernelLines(qemu), kernelLines(pvkit)).filter((l) => PLATFORM_LINE.test(l)),
  };
  const rows = pvkit.rows.map((p): VmmFeatureComparison => {
    const q = qemu.rows.find((r) => r.feature === p.feature);
    const qTaken: PvTaken = q?.taken ?? "unknown";
    const verdict: VmmVerdict = p.taken === "unknown" || qTaken === "unknown"
      ? "not-compared"
      : p.taken === qTaken
      ? "same"
      : "different";
    return {
      feature: p.feature,
      pvkit: p.taken,
      qemu: qTaken,
      offered: { pvkit: p.offered, qemu: q?.offered ?? false },
      verdict,
      explanation: verdict === "same"
        ? ""
        : verdict === "not-compared"
        ? notComparedWhy(p, q)
        : explainDifference(p, q!, pvkit, qemu, platform),
      evidence: { pvkit: p.evidence, qemu: q?.evidence ?? [] },
    };
  });
  const of = (v: VmmVerdict) => rows.filter((r) => r.verdict === v).map((r) => r.feature);
  const compared = rows.filter((r) => r.verdict !== "not-compared").map((r) => r.feature);
  const different = of("different");
  return {
    rows,
    same: compared.length > 0 && different.length === 0,
    compared,
    different,
    notCompared: of("not-compared"),
    platform,
  };
}

function kernelLines(r: PvReport): readonly string[] {
  return r.kernelLinesFrom === "dmesg" ? r.console.dmesg : r.console.consoleKernelLines;
}

/** Lines of `a` not in `b`, each once, numbers blanked for the match (addresses, sizes). */
function onlyIn(a: readonly string[], b: readonly string[]): string[] {
  const shape = (l: string) => l.replace(/0x[0-9a-f]+|\d+/gi, "#");
  const inB = new Set(b.map(shape));
  return [...new Set(a.filter((l) => !inB.has(shape(l))))];
}

function notComparedWhy(p: PvFeatureRow, q: PvFeatureRow | undefined): string {
  const parts: string[] = [];
  if (p.taken === "unknown") parts.push(`pvkit cannot tell (${p.evidence.join("; ")})`);
  if (q === undefined) parts.push("QEMU's report has no such row");
  else if (q.taken === "unknown") parts.push(`QEMU cannot tell (${q.evidence.join("; ")})`);
  return parts.join("; ");
}

function explainDifference(
  p: PvFeatureRow,
  q: PvFeatureRow,
  pvkit: PvReport,
  qemu: PvReport,
  platform: VmmComparison["platform"],
): string {
  const why: string[] = [];
  const pc = pvkit.console;
  const qc = qemu.console;
  if (p.offered !== q.offered) {
    why.push(
      `CPUID offers it under ${p.offered ? "pvkit" : "QEMU"} only (${p.cpuid}): pvkit passes ` +
        "KVM_GET_SUPPORTED_CPUID's KVM leaves as composed; QEMU's -cpu keeps only the KVM " +
        "feature bits QEMU knows (target/i386/cpu.c, FEAT_KVM)",
    );
  }
  const cpus = (c: typeof pc) => c.possibleCpus?.length ?? c.nproc;
  if (NEEDS_SMP.has(p.feature) && cpus(pc) !== cpus(qc)) {
    why.push(
      `the guest saw ${cpus(pc) ?? "?"} possible CPUs under pvkit and ${
        cpus(qc) ?? "?"
      } under QEMU (pvkit's MP table against QEMU's tables); Linux turns ${p.feature} off on one`,
    );
  }
  if (p.feature === "haltpoll" && pc.cpuidleDriver !== qc.cpuidleDriver) {
    why.push(
      `cpuidle driver ${pc.cpuidleDriver ?? "unknown"} under pvkit, ${
        qc.cpuidleDriver ?? "unknown"
      } under QEMU (with ACPI, acpi_idle registers before haltpoll)`,
    );
  }
  if (p.feature === "kvmclock" && pc.clocksource !== qc.clocksource) {
    why.push(
      `clocksource ${pc.clocksource ?? "unknown"} under pvkit, ${
        qc.clocksource ?? "unknown"
      } under QEMU`,
    );
  }
  if (p.feature === "steal-time") {
    const total = (r: PvReport) => stealTicks(r.console).reduce((s, t) => s + t.steal, 0);
    why.push(`/proc/stat steal ticks: ${total(pvkit)} under pvkit, ${total(qemu)} under QEMU`);
  }
  if (platform.pvkitOnly.length || platform.qemuOnly.length) {
    const list = (ls: readonly string[]) =>
      ls.slice(0, 3).join(" | ") + (ls.length > 3 ? ` (+${ls.length - 3})` : "");
    why.push(
      "the platforms differ" +
        (platform.qemuOnly.length ? `; only under QEMU: ${list(platform.qemuOnly)}` : "") +
        (platform.pvkitOnly.length ? `; only under pvkit: ${list(platform.pvkitOnly)}` : ""),
    );
  }
  if (why.length === 0) {
    why.push(
      `nothing the guests reported explains it: pvkit's evidence: ${p.evidence.join("; ")}; ` +
        `QEMU's: ${q.evidence.join("; ")}`,
    );
  }
  return why.join("; ");
}

/**
 * The comparison as text: one line per feature (taken under pvkit, under QEMU, same or not),
 * the explanation under each row that differs or is not compared, then the verdict.
 *
 * @example
 * ```ts
 * import { buildPvReport, compareVmmBoots, parseGuestConsole, renderVmmComparison } from "@pvkit/vmm";
 * const report = buildPvReport({
 *   offered: { leaf1Ecx: 0, vcpus: 1 },
 *   observed: {},
 *   console: parseGuestConsole("pvkit-report: begin\npvkit-report: cpuidle none\npvkit-report: end 1.0\n"),
 *   cmdline: "",
 * });
 * const text = renderVmmComparison(compareVmmBoots(report, report));
 * console.log(text.split("\n")[0]); // "PV feature           pvkit    QEMU     verdict"
 * ```
 */
export function renderVmmComparison(c: VmmComparison): string {
  const word = (t: PvTaken) => t === true ? "taken" : t === false ? "not" : "unknown";
  const verdictWord = (v: VmmVerdict) =>
    v === "same" ? "same" : v === "different" ? "DIFFERENT" : "not compared";
  const headers = ["PV feature", "pvkit", "QEMU", "verdict"];
  const cells = c.rows.map((r) => [r.feature, word(r.pvkit), word(r.qemu), verdictWord(r.verdict)]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const pad = (row: readonly string[]) =>
    row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd();
  const indent = " ".repeat(widths[0] + 2);
  const out = [pad(headers)];
  c.rows.forEach((r, i) => {
    out.push(pad(cells[i]));
    if (r.explanation) out.push(`${indent}${r.explanation}`);
  });
  out.push("", vmmComparisonVerdict(c));
  return out.join("\n");
}

/**
 * The comparison's one-line verdict.
 *
 * @example
 * ```ts ignore
 * import { vmmComparisonVerdict } from "@pvkit/vmm";
 * console.log(vmmComparisonVerdict(comparison));
 * // the kernel took the same PV features under pvkit and QEMU: 10 compared (not compared: pv-eoi, async-pf)
 * ```
 */
export function vmmComparisonVerdict(c: VmmComparison): string {
  const rest = c.notCompared.length ? ` (not compared: ${c.notCompared.join(", ")})` : "";
  if (c.compared.length === 0) return `no feature could be compared${rest}`;
  if (c.same) {
    return `the kernel took the same PV features under pvkit and QEMU: ${c.compared.length} ` +
      `compared${rest}`;
  }
  return `the kernel took different PV features under pvkit and QEMU: ${
    c.different.join(", ")
  } (${c.compared.length} compared)${rest}`;
}
