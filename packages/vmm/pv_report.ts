/**
 * The PV-feature report of a Linux boot: for each PV feature, whether the machine offered it
 * (CPUID 0x40000001), whether the guest kernel took it (evidence: the PV MSR writes the VMM saw
 * on each vCPU, KVM's hypercall counts, and the kernel's own words), what `@pvkit/guest`'s Linux
 * model predicted for the same CPUID, vCPU count and command line, and whether they agree.
 *
 * What counts as "taken" follows Linux 6.1 (arch/x86/kernel/kvm.c, kvmclock.c,
 * drivers/cpuidle/cpuidle-haltpoll.c, arch/x86/kernel/apic/apic.c):
 *
 * | feature | taken when |
 * | --- | --- |
 * | kvmclock | WRMSR MSR_KVM_SYSTEM_TIME_NEW (or the old 0x12) with bit 0 (kvm_register_clock), or `kvm-clock: Using msrs ...` |
 * | kvmclock-stable-bit | kvmclock taken and bit 24 offered: kvmclock_init calls pvclock_set_flags(PVCLOCK_TSC_STABLE_BIT); no line of its own |
 * | nop-io-delay | `Hypervisor detected: KVM` and bit 1 offered: paravirt_ops_setup; no line of its own |
 * | steal-time | WRMSR MSR_KVM_STEAL_TIME with KVM_MSR_ENABLED (kvm_register_steal_time), or steal ticks in /proc/stat |
 * | pv-eoi | WRMSR MSR_KVM_PV_EOI_EN with KVM_MSR_ENABLED (kvm_guest_cpu_init) |
 * | async-pf | WRMSR MSR_KVM_ASYNC_PF_EN with KVM_ASYNC_PF_ENABLED (kvm_guest_cpu_init) |
 * | pv-tlb-flush | `kvm-guest: KVM setup pv remote TLB flush` (kvm_guest_init) |
 * | pv-sched-yield | `kvm-guest: setup PV sched yield` (kvm_guest_init) |
 * | pv-ipi | `kvm-guest: setup PV IPIs` (kvm_setup_pv_ipi) |
 * | pv-spinlock | `kvm-guest: PV spinlocks enabled`; `PV spinlocks disabled, ...` is not taken (kvm_spinlock_init) |
 * | haltpoll | cpuidle driver `haltpoll` and WRMSR MSR_KVM_POLL_CONTROL = 0 (arch_haltpoll_enable) |
 * | msi-ext-dest-id | KVM detected, bit 15 offered and x2APIC enabled (try_to_enable_x2apic); no line of its own |
 *
 * A feature is "unknown" when the evidence that could say no is missing (no MSR record, no
 * complete report block).
 *
 * @module
 */

import type { FeatureDecision, GuestPvFeature } from "@pvkit/guest";
import { type GuestConsoleReport, stealTicks } from "./boot_console.ts";
import { type GuestCmdlineSwitches, guestSwitchesFromCmdline } from "./kernel_cmdline.ts";
import { predictPvFeatures, type PvOffer } from "./pv_prediction.ts";

/**
 * Whether the guest took a feature: yes, no, or cannot tell from the evidence at hand.
 *
 * @example
 * ```ts
 * import type { PvTaken } from "@pvkit/vmm";
 * const t: PvTaken = "unknown";
 * console.log(t);
 * ```
 */
export type PvTaken = boolean | "unknown";

/**
 * One guest WRMSR the VMM saw.
 *
 * @example
 * ```ts
 * import type { MsrWrite } from "@pvkit/vmm";
 * const w: MsrWrite = { msr: 0x4b564d01, value: 0x3ffd3001n };
 * console.log(w.msr.toString(16));
 * ```
 */
export interface MsrWrite {
  /** The MSR index. */
  readonly msr: number;
  /** The value written. */
  readonly value: bigint;
}

/**
 * What the VMM saw the guest do.
 *
 * @example
 * ```ts
 * import type { PvObserved } from "@pvkit/vmm";
 * const seen: PvObserved = {
 *   msrWrites: [[{ msr: 0x4b564d01, value: 0x3ffd3001n }], [{ msr: 0x4b564d01, value: 0x3ffd3041n }]],
 *   hypercalls: [12, 40],
 * };
 * console.log(seen.msrWrites?.length);
 * ```
 */
export interface PvObserved {
  /**
   * Per vCPU (index = vCPU), in order, the guest's WRMSRs of the PV MSRs (0x4b564d00-0x4b564d07,
   * 0x11, 0x12). Absent when the VMM did not record them.
   */
  readonly msrWrites?: readonly (readonly MsrWrite[])[];
  /** Per vCPU, KVM's `hypercalls` statistic at the end. Absent when not read. */
  readonly hypercalls?: readonly number[];
}

/**
 * A per-MSR summary of a vCPU's writes, as a VMM that counts rather than logs keeps it.
 *
 * @example
 * ```ts
 * import type { PvMsrWriteSummary } from "@pvkit/vmm";
 * const s: PvMsrWriteSummary = { msr: 0x4b564d03, writes: 2, last: 0n, lastNonZero: 0x5001n, refused: 0 };
 * console.log(s.writes);
 * ```
 */
export interface PvMsrWriteSummary {
  /** The MSR. */
  readonly msr: number;
  /** Writes KVM took. */
  readonly writes: number;
  /** The last value written. */
  readonly last: bigint;
  /** The last non-zero value written (0 if none). */
  readonly lastNonZero: bigint;
  /** Writes KVM refused (the guest got a #GP). */
  readonly refused: number;
}

/**
 * {@linkcode PvObserved.msrWrites} from per-vCPU summaries: for each MSR KVM took writes of, the
 * last non-zero value (an enabling write) and, when it differs, the last value (a disabling
 * write, or MSR_KVM_POLL_CONTROL's 0). Refused writes are left out: the guest did not get them.
 *
 * @example
 * ```ts
 * import { msrWritesFromSummaries } from "@pvkit/vmm";
 * const writes = msrWritesFromSummaries([[
 *   { msr: 0x4b564d03, writes: 2, last: 0n, lastNonZero: 0x5001n, refused: 0 },
 * ]]);
 * console.log(writes); // [ [ { msr: 0x4b564d03, value: 0x5001n }, { msr: 0x4b564d03, value: 0n } ] ]
 * ```
 */
export function msrWritesFromSummaries(
  perVcpu: readonly (readonly PvMsrWriteSummary[])[],
): MsrWrite[][] {
  return perVcpu.map((summaries) =>
    summaries.flatMap((s): MsrWrite[] => {
      if (s.writes === 0) return [];
      const out: MsrWrite[] = [];
      if (s.lastNonZero !== 0n) out.push({ msr: s.msr, value: s.lastNonZero });
      if (s.last !== s.lastNonZero || out.length === 0) out.push({ msr: s.msr, value: s.last });
      return out;
    })
  );
}

/**
 * Everything {@linkcode buildPvReport} weighs.
 *
 * @example
 * ```ts
 * import { parseGuestConsole, type PvReportInput } from "@pvkit/vmm";
 * const input: PvReportInput = {
 *   offered: { leaf40000001: { eax: 0x01007efb, edx: 0 }, leaf1Ecx: 1 << 31, vcpus: 1 },
 *   observed: {},
 *   console: parseGuestConsole(""),
 *   cmdline: "console=ttyS0",
 * };
 * console.log(input.offered.vcpus);
 * ```
 */
export interface PvReportInput {
  /** The CPUID the machine offered. */
  readonly offered: PvOffer;
  /** What the VMM saw. */
  readonly observed: PvObserved;
  /** What the guest's console said. */
  readonly console: GuestConsoleReport;
  /** The kernel command line the VMM passed (its switches shape the prediction). */
  readonly cmdline: string;
}

/**
 * One row of the report.
 *
 * @example
 * ```ts
 * import type { PvFeatureRow } from "@pvkit/vmm";
 * const row: PvFeatureRow = {
 *   feature: "pv-ipi", cpuid: "PV_SEND_IPI (11)", offered: true, taken: true,
 *   evidence: ["kernel: kvm-guest: setup PV IPIs"], predicted: true, agree: true,
 *   reason: "KVM_FEATURE_PV_SEND_IPI: send_IPI_mask and send_IPI_mask_allbutself use SEND_IPI",
 * };
 * console.log(row.agree);
 * ```
 */
export interface PvFeatureRow {
  /** The feature, in `@pvkit/guest`'s words. */
  readonly feature: GuestPvFeature;
  /** The CPUID bit(s) that offer it (KVM_FEATURE_* names, bit numbers of 0x40000001 EAX). */
  readonly cpuid: string;
  /** The machine offered it. */
  readonly offered: boolean;
  /** The guest took it. */
  readonly taken: PvTaken;
  /** Why `taken` says what it says. */
  readonly evidence: readonly string[];
  /** The model's prediction. */
  readonly predicted: boolean;
  /** `taken === predicted`, or `"unknown"` when `taken` is. */
  readonly agree: PvTaken;
  /** The model's reason for its prediction. */
  readonly reason: string;
}

/**
 * The model's kernel log against the kernel's, over the lines the model writes (hypervisor
 * detection, `kvm-clock: Using msrs`, `kvm-guest:`, the switch to kvm-clock, x2APIC).
 *
 * @example
 * ```ts
 * import type { KernelLogComparison } from "@pvkit/vmm";
 * const c: KernelLogComparison = { model: [], kernel: [], modelOnly: [], kernelOnly: [] };
 * console.log(c.modelOnly.length === 0 && c.kernelOnly.length === 0);
 * ```
 */
export interface KernelLogComparison {
  /** The model's lines, in order. */
  readonly model: readonly string[];
  /** The kernel's lines of the same kinds, in order. */
  readonly kernel: readonly string[];
  /** Model lines the kernel did not print. */
  readonly modelOnly: readonly string[];
  /** Kernel lines the model did not predict. */
  readonly kernelOnly: readonly string[];
}

/**
 * The report.
 *
 * @example
 * ```ts ignore
 * import { buildPvReport } from "@pvkit/vmm";
 * const report = buildPvReport(input);
 * console.log(report.rows.every((r) => r.agree === true));
 * ```
 */
export interface PvReport {
  /** One row per PV feature, in `@pvkit/guest`'s order. */
  readonly rows: readonly PvFeatureRow[];
  /** The model's kernel log against the kernel's. */
  readonly kernelLog: KernelLogComparison;
  /** The command-line switches the prediction used. */
  readonly switches: GuestCmdlineSwitches;
  /** Where the kernel's lines came from: the report block's dmesg, or the console itself. */
  readonly kernelLinesFrom: "dmesg" | "console";
  /** The parsed console. */
  readonly console: GuestConsoleReport;
  /** The hypercalls KVM counted per vCPU, when read. */
  readonly hypercalls?: readonly number[];
}

/**
 * The kernel lines the model writes, by kind. Of the clocksource switches only the one to
 * kvm-clock is the model's (a later switch to `tsc` with an invariant TSC is not modelled).
 */
const MODELLED_LINE =
  /^(Hypervisor detected: |kvm-clock: Using msrs |kvm-guest: |clocksource: Switched to clocksource kvm-clock$|x2apic[ :.]|x2apic$)/;

// MSRs (Documentation/virt/kvm/x86/msr.rst).
const MSR = {
  wallClockOld: 0x11,
  systemTimeOld: 0x12,
  wallClock: 0x4b564d00,
  systemTime: 0x4b564d01,
  asyncPfEn: 0x4b564d02,
  stealTime: 0x4b564d03,
  pvEoiEn: 0x4b564d04,
  pollControl: 0x4b564d05,
  asyncPfInt: 0x4b564d06,
} as const;

const MSR_NAMES: Record<number, string> = {
  [MSR.systemTimeOld]: "MSR_KVM_SYSTEM_TIME",
  [MSR.systemTime]: "MSR_KVM_SYSTEM_TIME_NEW",
  [MSR.asyncPfEn]: "MSR_KVM_ASYNC_PF_EN",
  [MSR.stealTime]: "MSR_KVM_STEAL_TIME",
  [MSR.pvEoiEn]: "MSR_KVM_PV_EOI_EN",
  [MSR.pollControl]: "MSR_KVM_POLL_CONTROL",
  [MSR.asyncPfInt]: "MSR_KVM_ASYNC_PF_INT",
};

/** Each feature's CPUID bits (any of them offers it) and label. */
const OFFER: Record<GuestPvFeature, { bits: number[]; label: string }> = {
  "kvmclock": { bits: [3, 0], label: "CLOCKSOURCE2 (3) or CLOCKSOURCE (0)" },
  "kvmclock-stable-bit": { bits: [24], label: "CLOCKSOURCE_STABLE_BIT (24)" },
  "nop-io-delay": { bits: [1], label: "NOP_IO_DELAY (1)" },
  "steal-time": { bits: [5], label: "STEAL_TIME (5)" },
  "pv-eoi": { bits: [6], label: "PV_EOI (6)" },
  "async-pf": { bits: [14], label: "ASYNC_PF_INT (14)" },
  "pv-tlb-flush": { bits: [9], label: "PV_TLB_FLUSH (9)" },
  "pv-sched-yield": { bits: [13], label: "PV_SCHED_YIELD (13)" },
  "pv-ipi": { bits: [11], label: "PV_SEND_IPI (11)" },
  "pv-spinlock": { bits: [7], label: "PV_UNHALT (7)" },
  "haltpoll": { bits: [12], label: "POLL_CONTROL (12)" },
  "msi-ext-dest-id": { bits: [15], label: "MSI_EXT_DEST_ID (15)" },
};

/** What the evidence gathered for one feature says. */
interface Finding {
  taken: PvTaken;
  evidence: string[];
}

/**
 * Builds the report: the prediction from `@pvkit/guest` (its {@linkcode KvmGuest} booted on
 * scripted vCPUs with the offered CPUID, `possibleCpus` = the vCPUs, and the command line's
 * switches), the evidence per feature, and the kernel log comparison.
 *
 * @example
 * ```ts
 * import { buildPvReport, parseGuestConsole } from "@pvkit/vmm";
 * import { assertEquals } from "@std/assert";
 * const console = parseGuestConsole([
 *   "pvkit-report: begin",
 *   "pvkit-report: dmesg Hypervisor detected: KVM",
 *   "pvkit-report: dmesg kvm-guest: PV spinlocks disabled, single CPU",
 *   "pvkit-report: cpuidle none",
 *   "pvkit-report: end 1.0",
 * ].join("\n"));
 * const report = buildPvReport({
 *   offered: { leaf40000001: { eax: 0x01007efb, edx: 0 }, leaf1Ecx: 1 << 31, vcpus: 1 },
 *   observed: {},
 *   console,
 *   cmdline: "console=ttyS0",
 * });
 * const spin = report.rows.find((r) => r.feature === "pv-spinlock")!;
 * assertEquals([spin.taken, spin.predicted, spin.agree], [false, false, true]);
 * ```
 */
export function buildPvReport(input: PvReportInput): PvReport {
  const switches = guestSwitchesFromCmdline(input.cmdline);
  const prediction = predictPvFeatures(input.offered, switches);
  const c = input.console;
  const kernelLinesFrom = c.reportComplete || c.consoleKernelLines.length === 0
    ? "dmesg"
    : "console";
  const lines = kernelLinesFrom === "dmesg" ? c.dmesg : c.consoleKernelLines;
  const evidence = new Evidence(input, lines);
  const rows = prediction.decisions.map((d) => row(d, evidence));
  const kernel = lines.filter((l) => MODELLED_LINE.test(l));
  return {
    rows,
    kernelLog: {
      model: prediction.kernelLog,
      kernel,
      modelOnly: missingFrom(prediction.kernelLog, kernel),
      kernelOnly: missingFrom(kernel, prediction.kernelLog),
    },
    switches,
    kernelLinesFrom,
    console: c,
    hypercalls: input.observed.hypercalls,
  };
}

function row(d: FeatureDecision, ev: Evidence): PvFeatureRow {
  const o = OFFER[d.feature];
  const f = ev.find(d.feature);
  return {
    feature: d.feature,
    cpuid: o.label,
    offered: ev.offered(o.bits),
    taken: f.taken,
    evidence: f.evidence,
    predicted: d.used,
    agree: f.taken === "unknown" ? "unknown" : f.taken === d.used,
    reason: d.reason,
  };
}

/** The evidence at hand, and what it says per feature. */
class Evidence {
  readonly #input: PvReportInput;
  readonly #lines: readonly string[];
  /** A complete block: a kernel line that is absent was not printed. */
  readonly #logKnown: boolean;

  constructor(input: PvReportInput, lines: readonly string[]) {
    this.#input = input;
    this.#lines = lines;
    this.#logKnown = input.console.reportComplete;
  }

  offered(bits: readonly number[]): boolean {
    const leaf = this.#input.offered.leaf40000001;
    return leaf !== undefined && bits.some((b) => ((leaf.eax >>> b) & 1) === 1);
  }

  find(feature: GuestPvFeature): Finding {
    switch (feature) {
      case "kvmclock":
        return this.#msrOrLine(
          [MSR.systemTime, MSR.systemTimeOld],
          (l) => l.startsWith("kvm-clock: Using msrs"),
          this.#clocksourceNote(),
        );
      case "kvmclock-stable-bit":
        return this.#inferred(
          this.find("kvmclock").taken,
          [24],
          "kvmclock is on",
          "kvmclock_init sets PVCLOCK_TSC_STABLE_BIT as valid (pvclock_set_flags); no log line",
        );
      case "nop-io-delay":
        return this.#inferred(
          this.#kvmDetected(),
          [1],
          "KVM is the hypervisor platform",
          "paravirt_ops_setup makes io_delay a no-op; no log line",
        );
      case "steal-time": {
        const f = this.#msrOrLine([MSR.stealTime], () => false);
        const steal = stealTicks(this.#input.console);
        const total = steal.reduce((s, t) => s + t.steal, 0);
        if (steal.length > 0) {
          f.evidence.push(
            `/proc/stat steal ${total} ticks (${
              steal.map((t) => `cpu${t.cpu} ${t.steal}`).join(", ")
            })`,
          );
          if (total > 0 && f.taken !== true) f.taken = true;
        }
        return f;
      }
      case "pv-eoi":
        return this.#msrOrLine([MSR.pvEoiEn], () => false);
      case "async-pf": {
        const f = this.#msrOrLine([MSR.asyncPfEn], () => false);
        const int = this.#writesTo([MSR.asyncPfInt], () => true);
        if (int.length) f.evidence.push(this.#describeWrites(MSR.asyncPfInt, int));
        return f;
      }
      case "pv-tlb-flush":
        return this.#line("kvm-guest: KVM setup pv remote TLB flush");
      case "pv-sched-yield":
        return this.#withHypercalls(this.#line("kvm-guest: setup PV sched yield"));
      case "pv-ipi":
        return this.#withHypercalls(this.#line("kvm-guest: setup PV IPIs"));
      case "pv-spinlock": {
        const on = this.#lines.find((l) => l === "kvm-guest: PV spinlocks enabled");
        const off = this.#lines.find((l) => l.startsWith("kvm-guest: PV spinlocks disabled"));
        if (on) return this.#withHypercalls({ taken: true, evidence: [`kernel: ${on}`] });
        if (off) return { taken: false, evidence: [`kernel: ${off}`] };
        return this.#logKnown
          ? { taken: false, evidence: ["no kvm_spinlock_init line in the kernel log"] }
          : { taken: "unknown", evidence: ["no kernel log"] };
      }
      case "haltpoll":
        return this.#haltpoll();
      case "msi-ext-dest-id":
        return this.#msiExtDestId();
    }
  }

  #kvmDetected(): PvTaken {
    if (this.#lines.includes("Hypervisor detected: KVM")) return true;
    return this.#logKnown ? false : "unknown";
  }

  #clocksourceNote(): string[] {
    const cs = this.#input.console.clocksource;
    return cs === undefined ? [] : [`current clocksource: ${cs}`];
  }

  /** Taken from a feature this one rides on, plus its CPUID bit (no evidence of its own). */
  #inferred(base: PvTaken, bits: number[], baseText: string, how: string): Finding {
    if (base === "unknown") {
      return { taken: "unknown", evidence: [`cannot tell whether ${baseText}`] };
    }
    if (!base) return { taken: false, evidence: [`not: ${baseText}`] };
    const bit = this.offered(bits);
    return {
      taken: bit,
      evidence: bit
        ? [`${baseText} and CPUID offers bit ${bits.join("/")}: ${how}`]
        : [`${baseText} but CPUID does not offer bit ${bits.join("/")}`],
    };
  }

  #line(text: string): Finding {
    if (this.#lines.includes(text)) return { taken: true, evidence: [`kernel: ${text}`] };
    return this.#logKnown
      ? { taken: false, evidence: [`the kernel log has no "${text}"`] }
      : { taken: "unknown", evidence: ["no kernel log"] };
  }

  /** Taken when an MSR in `msrs` was written with bit 0 (enable) or a log line matches. */
  #msrOrLine(msrs: number[], line: (l: string) => boolean, notes: string[] = []): Finding {
    const evidence: string[] = [];
    let taken: PvTaken = "unknown";
    const known = this.#input.observed.msrWrites !== undefined;
    for (const msr of msrs) {
      const on = this.#writesTo([msr], (v) => (v & 1n) === 1n);
      if (on.length) {
        evidence.push(this.#describeWrites(msr, on));
        taken = true;
      }
    }
    const l = this.#lines.find(line);
    if (l !== undefined) {
      evidence.push(`kernel: ${l}`);
      taken = true;
    }
    if (taken !== true) {
      if (known) {
        taken = false;
        evidence.push(`no enabling WRMSR of ${msrs.map(msrName).join(" or ")} on any vCPU`);
      } else evidence.push("MSR writes not recorded");
    }
    return { taken, evidence: [...evidence, ...notes] };
  }

  #haltpoll(): Finding {
    const driver = this.#input.console.cpuidleDriver;
    const zero = this.#writesTo([MSR.pollControl], (v) => v === 0n);
    const complaint = this.#lines.find((l) =>
      l === "kvm-guest: host does not support poll control"
    );
    const evidence: string[] = [];
    if (driver !== undefined) evidence.push(`cpuidle driver: ${driver}`);
    if (zero.length) evidence.push(this.#describeWrites(MSR.pollControl, zero));
    if (complaint) evidence.push(`kernel: ${complaint}`);
    if (driver === undefined) {
      return { taken: "unknown", evidence: ["cpuidle driver not reported"] };
    }
    if (driver !== "haltpoll" || complaint) return { taken: false, evidence };
    if (zero.length) return { taken: true, evidence };
    if (this.#input.observed.msrWrites !== undefined) {
      evidence.push(`no WRMSR ${msrName(MSR.pollControl)} = 0 (host polling stays on)`);
      return { taken: false, evidence };
    }
    return this.#logKnown ? { taken: true, evidence } : { taken: "unknown", evidence };
  }

  #msiExtDestId(): Finding {
    const kvm = this.#kvmDetected();
    const x2apic = this.#lines.find((l) =>
      l === "x2apic enabled" || l.startsWith("x2apic: enabled by BIOS") ||
      /APIC routing to .*x2apic/.test(l)
    );
    if (kvm === "unknown") return { taken: "unknown", evidence: ["no kernel log"] };
    if (!kvm) return { taken: false, evidence: ["not: KVM is the hypervisor platform"] };
    if (!x2apic) return { taken: false, evidence: ["the kernel did not enable x2APIC"] };
    return this.#inferred(
      true,
      [15],
      `x2APIC is on (kernel: ${x2apic})`,
      "try_to_enable_x2apic sets virt_ext_dest_id; no log line",
    );
  }

  #withHypercalls(f: Finding): Finding {
    const h = this.#input.observed.hypercalls;
    if (h === undefined || !f.taken) return f;
    const total = h.reduce((s, n) => s + n, 0);
    return {
      ...f,
      evidence: [
        ...f.evidence,
        `hypercalls: ${total} (${h.map((n, i) => `vCPU ${i} ${n}`).join(", ")})`,
      ],
    };
  }

  /** Per vCPU, the first write to one of `msrs` whose value passes `ok`. */
  #writesTo(msrs: number[], ok: (v: bigint) => boolean): { vcpu: number; value: bigint }[] {
    const out: { vcpu: number; value: bigint }[] = [];
    (this.#input.observed.msrWrites ?? []).forEach((writes, vcpu) => {
      const w = writes.find((w) => msrs.includes(w.msr) && ok(w.value));
      if (w) out.push({ vcpu, value: w.value });
    });
    return out;
  }

  #describeWrites(msr: number, writes: { vcpu: number; value: bigint }[]): string {
    const values = new Set(writes.map((w) => w.value));
    const vcpus = writes.map((w) => w.vcpu);
    const list = vcpus.length === 1
      ? `vCPU ${vcpus[0]}`
      : `vCPUs ${vcpus.slice(0, -1).join(", ")} and ${vcpus.at(-1)}`;
    const value = values.size === 1
      ? ` = 0x${writes[0].value.toString(16)}`
      : ` (${writes.map((w) => `0x${w.value.toString(16)}`).join(", ")})`;
    return `WRMSR ${msrName(msr)}${value} on ${list}`;
  }
}

function msrName(msr: number): string {
  const name = MSR_NAMES[msr];
  return name ? `${name} (0x${msr.toString(16)})` : `0x${msr.toString(16)}`;
}

/** The lines of `a` that `b` lacks, as a multiset difference, in `a`'s order. */
function missingFrom(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const l of b) left.set(l, (left.get(l) ?? 0) + 1);
  return a.filter((l) => {
    const n = left.get(l) ?? 0;
    if (n > 0) left.set(l, n - 1);
    return n === 0;
  });
}
