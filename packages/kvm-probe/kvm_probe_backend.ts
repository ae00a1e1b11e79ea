/**
 * The KVM backend as a probe runner: each vCPU's steps are compiled into 64-bit guest code
 * ({@linkcode compileVcpu}), run on real `/dev/kvm` with one {@linkcode VcpuRunner} (Worker +
 * watchdog) per vCPU, and the results area is read back in the emulated backend's shapes.
 *
 * @module
 */

import {
  type CpuidEntry,
  describeVcpuExit,
  hostTimeScale,
  KVM_CAP,
  KVM_CLOCK_REALTIME,
  type KvmStatsFd,
  KvmSystem,
  type KvmVcpu,
  type KvmVm,
  probeKvm,
  setupLongMode,
  VcpuRunner,
  writeGuestChunks,
} from "@pvkit/kvm";
import type { PvPlugin } from "@pvkit/machine";
import { usesApicInterrupts, XAPIC_BASE_GPA } from "@pvkit/probe";
import { PDPT_GPA } from "@pvkit/x86";
import type {
  ExitCounters,
  Probe,
  ProbeBackend,
  ProbeRun,
  ProbeRunOptions,
  Step,
  StepResult,
  VcpuRun,
} from "@pvkit/probe";
import { composeProbeMachine } from "@pvkit/pvkit";
import {
  type CompiledVcpu,
  compileRuntime,
  compileVcpu,
  decodeResults,
  KVM_PROBE_PORTS,
  MAX_PROBE_VCPUS,
  probeGdt,
  type ProbeLayout,
  probeLayout,
} from "./compile.ts";
import { detectHypercalls, HYPERCALLS_UNAVAILABLE } from "./hypercalls.ts";
import { cpuidEntriesFor, vcpuCpuid, withComposedLeaves } from "./vcpu_cpuid.ts";

/** KVM_CAP_X2APIC_API flags (Documentation/virt/kvm/api.rst). */
const X2APIC_API_USE_32BIT_IDS = 1n;
const X2APIC_API_DISABLE_BROADCAST_QUIRK = 2n;
import { preemptThread, readRunDelayNs } from "./preempt.ts";
import { getMpState, setMpStateRunnable, signalInit } from "./_libc.ts";
import { KvmVmContext } from "./kvm_vcpu_context.ts";
import { KvmVmmExits, type PvMsrWriteObserver, USER_SPACE_MSR_REASONS } from "./vmm_exits.ts";

/**
 * Options of {@linkcode KvmProbeBackend}.
 *
 * @example
 * ```ts
 * import type { KvmProbeBackendOptions } from "@pvkit/kvm-probe";
 * const o: KvmProbeBackendOptions = { hypercallTimeoutMs: 500 };
 * console.log(o.hypercallTimeoutMs);
 * ```
 */
export interface KvmProbeBackendOptions {
  /** Plugins a probe may ask for by name in `machine.plugins` (default: pvkit's opt-in plugins). */
  readonly plugins?: ReadonlyMap<string, PvPlugin>;
  /** The watchdog of the once-per-process hypercall detection (default 1000 ms). */
  readonly hypercallTimeoutMs?: number;
  /**
   * Observe the guest's writes of the PV MSRs ({@linkcode OBSERVED_PV_MSRS}): an MSR filter
   * sends them to userspace, {@linkcode KvmProbeBackendOptions.onPvMsrWrite} (or, without one,
   * the run's notes) sees them, then KVM_SET_MSRS replays them so KVM still acts on them
   * (#GP if KVM refuses). Off by default: every observed write costs a userspace round trip.
   */
  readonly observePvMsrWrites?: boolean;
  /** The observer of {@linkcode KvmProbeBackendOptions.observePvMsrWrites}. */
  readonly onPvMsrWrite?: PvMsrWriteObserver;
}

/**
 * The default watchdog budget of each vCPU on a hardware KVM, in ms; stretched by
 * {@linkcode hostTimeScale} on slower hosts (inside `pvkit nested`).
 */
export const DEFAULT_VCPU_TIMEOUT_MS = 5000;

const CTRL_PREEMPT = 0x200n;
const STATS = [
  "exits",
  "io_exits",
  "mmio_exits",
  "halt_exits",
  "halt_wakeup",
  "hypercalls",
  "irq_exits",
  "irq_injections",
  "signal_exits",
  "request_irq_exits",
  "insn_emulation",
];
const COUNT_NOTE = "exit counts: io is what the VMM saw; msr-read, msr-write, hypercall, hlt, " +
  "eoi and ipi count the trapping instructions the guest executed (KVM handles them in the " +
  "kernel); kvm:* are deltas of the vCPU's binary stats fd";

interface VcpuOutcome {
  readonly kind: "done" | "timeout" | "stopped";
  readonly message?: string;
}

/**
 * Runs probes on the real `/dev/kvm` of this host. Never hangs: every KVM_RUN is under a
 * watchdog (`timeoutMs` per vCPU, default {@linkcode DEFAULT_VCPU_TIMEOUT_MS}); a vCPU that
 * does not finish gets a note and `{skipped: "timeout ..."}` for its remaining steps.
 * Hypercall steps are skipped with "hypercalls unavailable on this host" where they hang.
 *
 * @example
 * ```ts
 * import { KvmProbeBackend } from "@pvkit/kvm-probe";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "sig", machine: {}, vcpus: [{ steps: [{ op: "cpuid", leaf: "0x40000000" }] }] });
 * const run = await new KvmProbeBackend().run(probe, { timeoutMs: 2000 });
 * console.log(run.vcpus[0].results[0]);
 * ```
 */
export class KvmProbeBackend implements ProbeBackend {
  /** The backend's name in reports. */
  readonly name = "kvm";
  readonly #options: KvmProbeBackendOptions;

  /** Creates the backend. */
  constructor(options: KvmProbeBackendOptions = {}) {
    this.#options = options;
  }

  /** Runs a probe on KVM; resolves with one result per step (or a skip reason). */
  async run(probe: Probe, options: ProbeRunOptions = {}): Promise<ProbeRun> {
    const kvm = probeKvm();
    if (!kvm.usable) return skipAll(probe, this.name, `/dev/kvm unusable: ${kvm.reason}`);
    if (probe.vcpus.length > MAX_PROBE_VCPUS) {
      return skipAll(
        probe,
        this.name,
        `the KVM backend runs at most ${MAX_PROBE_VCPUS} vCPUs, not ${probe.vcpus.length}`,
      );
    }
    using sys = KvmSystem.open();
    return await this.#runOn(
      sys,
      probe,
      options.timeoutMs ?? DEFAULT_VCPU_TIMEOUT_MS * hostTimeScale(),
    );
  }

  async #runOn(sys: KvmSystem, probe: Probe, budgetMs: number): Promise<ProbeRun> {
    const m = probe.machine;
    const notes: string[] = [];
    const composed = composeProbeMachine(probe, {
      backend: "KVM",
      host: "kvm",
      plugins: this.#options.plugins,
    });
    for (const e of composed.errors) notes.push(`composition: ${e}`);
    const irqchip = composed.machine.irqchip;

    const usesHypercalls = probe.vcpus.some((v) => v.steps.some((s) => s.op === "hypercall"));
    const hc = usesHypercalls
      ? await detectHypercalls(this.#options.hypercallTimeoutMs ?? 1000)
      : undefined;
    if (hc && !hc.available) notes.push(`${HYPERCALLS_UNAVAILABLE}: ${hc.detail}`);

    using vm = sys.kvmCreateVm();
    if (irqchip === "on") vm.kvmCreateIrqchip();
    else if (irqchip === "split") vm.kvmEnableCap(KVM_CAP.KVM_CAP_SPLIT_IRQCHIP, [24]);
    // 32-bit APIC IDs (and no broadcast quirk) when the composition has IDs above 254, as QEMU
    // does in x86_cpus_init (QEMU hw/i386/x86.c).
    const lastApicId = composed.vcpus?.apicId(composed.vcpus.count - 1) ?? 0;
    if (irqchip !== "off" && lastApicId >= 255) {
      vm.kvmEnableCap(KVM_CAP.KVM_CAP_X2APIC_API, [
        X2APIC_API_USE_32BIT_IDS | X2APIC_API_DISABLE_BROADCAST_QUIRK,
      ]);
    }
    if (m.exitHypercall.length > 0) {
      const mask = m.exitHypercall.reduce((acc, nr) => acc | (1n << BigInt(nr)), 0n);
      try {
        vm.kvmEnableCap(KVM_CAP.KVM_CAP_EXIT_HYPERCALL, [mask]);
      } catch (e) {
        notes.push(`KVM_CAP_EXIT_HYPERCALL(0x${mask.toString(16)}) failed: ${message(e)}`);
      }
    }
    const memory = vm.mapGuestRam(m.memory);
    const cpuid = machineCpuid(sys.kvmGetSupportedCpuid(), composed.leaves, probe);
    const vcpus: KvmVcpu[] = probe.vcpus.map((_, i) => {
      const vcpu = vm.kvmCreateVcpu(i);
      if (m.enforcePvCpuid) vcpu.kvmEnableCap(KVM_CAP.KVM_CAP_ENFORCE_PV_FEATURE_CPUID, [1n]);
      vcpu.kvmSetCpuid2(vcpuCpuid(cpuid, composed, i));
      // With an in-kernel LAPIC, APs wait for INIT/SIPI; the probe starts them directly.
      if (i > 0 && irqchip !== "off" && setMpStateRunnable(vcpu.fd) !== 0) {
        notes.push(`KVM_SET_MP_STATE(RUNNABLE) failed on vCPU ${i}: it may never start`);
      }
      return vcpu;
    });
    // Every vCPU in KVM's APIC map from the start, as under QEMU (kvm_apic_put at reset): KVM
    // rebuilds the map on KVM_SET_LAPIC (kvm_apic_set_state), while the rebuild at vCPU creation
    // happens before the new vCPU is online and leaves it out (found on the nested KVM: a
    // PV kick to the last-created vCPU reached nobody).
    if (irqchip !== "off") { for (const v of vcpus) v.kvmSetLapic(v.kvmGetLapic()); }
    const tscKhz = vcpus[0].kvmGetTscKhz();
    if (tscKhz !== m.tscKhz) {
      notes.push(
        `the vCPUs' TSC runs at ${tscKhz} kHz, not the probe's ${m.tscKhz} kHz (KVM_SET_TSC_KHZ is not used)`,
      );
    }

    const counts: ExitCounters[] = vcpus.map(() => ({}));
    const vmmExits = this.#vmmExits(
      vm,
      probe,
      composed.registry.plugins,
      composed.isEnabled.bind(composed),
      {
        memory,
        tscKhz,
        pvFeatures: cpuid.find((e) => e.function === 0x40000001)?.eax ?? 0,
        inKernelLapic: irqchip !== "off",
        counts,
        notes,
      },
    );

    const layout = probeLayout(m.memory);
    const barriers = new Map<string, { gpa: bigint; count: number }>();
    const vectors: number[] = [];
    const usesApic = usesApicInterrupts(probe);
    for (const v of probe.vcpus) {
      for (const s of v.steps) {
        if (s.op === "barrier") {
          const b = barriers.get(s.id) ??
            { gpa: layout.barriers + BigInt(barriers.size * 8), count: 0 };
          b.count++;
          barriers.set(s.id, b);
        }
        if (s.op === "wait-irq" || s.op === "sendIpi") vectors.push(s.vector);
      }
    }
    const lapic = irqchip !== "off";
    const runtime = compileRuntime(layout, vectors);
    writeGuestChunks(memory, [runtime.code.toChunk()]);
    const compiled: CompiledVcpu[] = vcpus.map((vcpu, i) => {
      const c = compileVcpu(probe, i, {
        layout,
        hypercall: hc === undefined || hc.available
          ? (hc?.insn ?? "vmcall")
          : { unavailable: HYPERCALLS_UNAVAILABLE },
        tscKhz,
        lapic,
        enableApic: usesApic,
        barriers,
      });
      setupLongMode(vcpu, memory, { code: c.code, idt: runtime.idt, stackPointer: c.stackTop });
      return c;
    });
    writeProbeTables(memory, layout);
    checkOverlap(probe, layout.base, notes);

    if (m.clock) {
      const offset = m.clock.realtimeOffsetNs;
      vm.kvmSetClock({
        clock: m.clock.clock,
        flags: offset === undefined ? 0 : KVM_CLOCK_REALTIME,
        realtime: offset === undefined ? 0n : BigInt(Date.now()) * 1_000_000n + offset,
        hostTsc: 0n,
      });
    }

    const stats = vcpus.map((v) => openStats(v));
    const before = stats.map(readStats);
    // The run's kvmclock bracket, as kvm_clock_test takes it: KVM_GET_CLOCK before and after.
    const clockBefore = vm.kvmGetClock().clock;
    const runners: VcpuRunner[] = [];
    let outcomes: VcpuOutcome[];
    try {
      for (const v of vcpus) runners.push(await VcpuRunner.start(v));
      const go = (i: number): Promise<VcpuOutcome> =>
        drive(vm, runners[i], compiled[i], probe.vcpus[i].steps, budgetMs, counts[i], notes, {
          exits: vmmExits,
          index: i,
          apicId: composed.vcpus?.apicId(i) ?? i,
        });
      outcomes = await Promise.all(runners.map((_, i) => go(i)));
    } finally {
      for (const r of runners) r.close();
    }
    const clockBracket = { before: clockBefore, after: vm.kvmGetClock().clock };
    const after = stats.map(readStats);
    for (const s of stats) s?.close();

    const runs: VcpuRun[] = probe.vcpus.map((v, i) => {
      const c = compiled[i];
      const { results, firstNotRun } = decodeResults(
        memory,
        v.steps,
        c.results,
        c.skipped,
        c.sites,
      );
      const outcome = outcomes[i];
      if (firstNotRun < v.steps.length) {
        const at = v.steps[firstNotRun];
        const where = `step ${firstNotRun} (${at.op}${at.label ? ` [${at.label}]` : ""})`;
        const hint = at.op === "hlt"
          ? ": nothing woke the halted vCPU (with an in-kernel irqchip HLT does not exit; " +
            "only an interrupt with IF=1, or a PV kick, which is a hypercall, can wake it)"
          : "";
        const why = outcome.kind === "timeout"
          ? `timeout: vCPU ${i} did not finish within ${budgetMs} ms (stopped in ${where})${hint}`
          : `vCPU ${i} stopped in ${where}: ${outcome.message ?? outcome.kind}`;
        notes.push(outcome.message ? `${why}; ${outcome.message}` : why);
        for (let k = firstNotRun; k < v.steps.length; k++) {
          const why2 = c.skipped.get(k);
          results.push({ op: v.steps[k].op, skipped: why2 ?? why });
        }
      } else if (outcome.kind !== "done") {
        notes.push(`vCPU ${i}: ${outcome.message ?? outcome.kind} after its last step`);
      }
      return { results, exits: exitCounts(results, counts[i], before[i], after[i]) };
    });
    notes.push(COUNT_NOTE);
    return { backend: this.name, clockBracket, vcpus: runs, notes };
  }

  /**
   * The VMM side (plugins' MSRs and hypercalls KVM hands to userspace, PV MSR observers):
   * enables KVM_CAP_X86_USER_SPACE_MSR and installs the MSR filter they need.
   */
  #vmmExits(
    vm: KvmVm,
    probe: Probe,
    plugins: readonly PvPlugin[],
    isEnabled: (feature: string) => boolean,
    machine: {
      memory: KvmVm["memory"];
      tscKhz: number;
      pvFeatures: number;
      inKernelLapic: boolean;
      counts: ExitCounters[];
      notes: string[];
    },
  ): KvmVmmExits {
    const m = probe.machine;
    const { counts, notes } = machine;
    const context = new KvmVmContext({
      vm,
      memory: machine.memory,
      vcpuCount: probe.vcpus.length,
      tscKhz: machine.tscKhz,
      inKernelLapic: machine.inKernelLapic,
      enforcePvCpuid: m.enforcePvCpuid,
      pvFeatures: machine.pvFeatures,
      exitHypercall: m.exitHypercall,
      // As the emulated backend: the VMM resumes with run->hypercall.ret = 0 and counts it.
      onUserHypercall: (vcpu) => {
        const c = counts[vcpu.index];
        c[USER_EXIT] = (c[USER_EXIT] ?? 0) + 1;
        return 0n;
      },
    });
    const observe = this.#options.observePvMsrWrites
      ? this.#options.onPvMsrWrite ??
        ((vcpu: number, msr: number, value: bigint) =>
          notes.push(`vCPU ${vcpu} wrote MSR 0x${msr.toString(16)} = 0x${value.toString(16)}`))
      : undefined;
    const exits = new KvmVmmExits({
      context,
      plugins,
      isEnabled,
      ...(observe ? { observePvMsrWrites: observe } : {}),
    });
    const filter = exits.msrFilter();
    if (filter) {
      try {
        vm.kvmEnableCap(KVM_CAP.KVM_CAP_X86_USER_SPACE_MSR, [USER_SPACE_MSR_REASONS]);
        vm.kvmX86SetMsrFilter(filter);
      } catch (e) {
        notes.push(
          `MSR filter for ${[...exits.trappedMsrs, ...exits.observedMsrs].map(hex).join(", ")} ` +
            `failed (KVM handles them itself): ${message(e)}`,
        );
      }
    }
    return exits;
  }
}

const USER_EXIT = "userspace-hypercall";

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function skipAll(probe: Probe, backend: string, why: string): ProbeRun {
  return {
    backend,
    vcpus: probe.vcpus.map((v) => ({
      results: v.steps.map((s): StepResult => ({ op: s.op, skipped: why })),
      exits: {},
    })),
    notes: [why],
  };
}

function checkOverlap(probe: Probe, base: bigint, notes: string[]): void {
  for (const [i, v] of probe.vcpus.entries()) {
    for (const [k, s] of v.steps.entries()) {
      const end = s.op === "zero"
        ? s.gpa + BigInt(s.length)
        : s.op === "read" || s.op === "write"
        ? s.gpa + BigInt(s.size)
        : undefined;
      if (end !== undefined && "gpa" in s && end > base && s.gpa < base + 0x100000n) {
        notes.push(
          `vCPU ${i} step ${k} (${s.op}) touches 0x${s.gpa.toString(16)}, inside the backend's ` +
            `own region at 0x${base.toString(16)} (code, stacks, results): results may be wrong`,
        );
      }
    }
  }
}

/**
 * The CPUID table a probe's vCPUs get: KVM_GET_SUPPORTED_CPUID, with the composed KVM leaves
 * (`0x40000000`, `0x40000001`) in place of the host's, then the probe's raw overrides.
 *
 * @example
 * ```ts
 * import { machineCpuid } from "@pvkit/kvm-probe";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "p", machine: { cpuid: { "0x40000001": { eax: "0x0" } } }, vcpus: [{ steps: [] }] });
 * const table = machineCpuid(
 *   [{ function: 0x40000001, index: 0, flags: 0, eax: 0x1007efb, ebx: 0, ecx: 0, edx: 0 }],
 *   { "0x40000001": { eax: "0x01007efb", ebx: "0x0", ecx: "0x0", edx: "0x0" } },
 *   probe,
 * );
 * console.log(table[0].eax); // 0
 * ```
 */
export function machineCpuid(
  supported: readonly CpuidEntry[],
  leaves: Readonly<Record<string, { eax: string; ebx: string; ecx: string; edx: string }>>,
  probe: Probe,
): CpuidEntry[] {
  const table = withComposedLeaves(supported, leaves);
  const entryFor = (leaf: number, subleaf: number | undefined): CpuidEntry[] =>
    cpuidEntriesFor(table, leaf, subleaf);
  for (const o of probe.machine.cpuid) {
    for (const e of entryFor(o.leaf, o.subleaf)) {
      if (o.eax !== undefined) e.eax = o.eax;
      if (o.ebx !== undefined) e.ebx = o.ebx;
      if (o.ecx !== undefined) e.ecx = o.ecx;
      if (o.edx !== undefined) e.edx = o.edx;
    }
  }
  return table;
}

function openStats(vcpu: KvmVcpu): KvmStatsFd | undefined {
  try {
    return vcpu.kvmGetStatsFd();
  } catch {
    return undefined;
  }
}

function readStats(stats: KvmStatsFd | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  if (!stats) return out;
  for (const name of STATS) {
    if (stats.descriptor(name)) out.set(name, stats.read(name));
  }
  return out;
}

function exitCounts(
  results: readonly StepResult[],
  vmm: ExitCounters,
  before: Map<string, bigint>,
  after: Map<string, bigint>,
): ExitCounters {
  const exits: ExitCounters = { "msr-read": 0, "msr-write": 0, hypercall: 0, io: 0 };
  const add = (k: string, n = 1): void => {
    exits[k] = (exits[k] ?? 0) + n;
  };
  for (const r of results) {
    if ("skipped" in r) continue;
    if (r.op === "rdmsr") add("msr-read");
    else if (r.op === "wrmsr") add("msr-write");
    else if (r.op === "hypercall") add("hypercall");
    else if (r.op === "hlt") add("hlt");
    else if (r.op === "eoi") add("eoi");
    else if (r.op === "sendIpi") add("ipi");
  }
  for (const [k, n] of Object.entries(vmm)) add(k, n);
  for (const [name, value] of after) {
    const delta = Number(value - (before.get(name) ?? 0n));
    if (delta !== 0) exits[`kvm:${name}`] = delta;
  }
  return exits;
}

/**
 * The probe GDT with its GDTR image, and the page directory that maps the xAPIC page at
 * 0xFEE00000 (PDPT[3], one 2 MiB uncached page), for `apic-read`/`apic-write` via MMIO.
 */
function writeProbeTables(memory: KvmVm["memory"], layout: ProbeLayout): void {
  const gdt = probeGdt();
  gdt.forEach((e, i) => memory.writeU64(layout.gdt + BigInt(i * 8), e));
  memory.writeU16(layout.gdt + 0x100n, gdt.length * 8 - 1);
  memory.writeU64(layout.gdt + 0x102n, layout.gdt);
  memory.writeU64(PDPT_GPA + 3n * 8n, layout.apicPageDirectory | 0x3n);
  const index = (XAPIC_BASE_GPA >> 21n) & 0x1ffn;
  // P | RW | PWT | PCD | PS
  memory.writeU64(layout.apicPageDirectory + index * 8n, XAPIC_BASE_GPA | 0x9bn);
}

/**
 * INIT (or RESET) of a vCPU that asked for it on {@linkcode KVM_PROBE_PORTS}`.reset`: an INIT
 * MSI to its APIC, KVM_GET_MP_STATE so KVM accepts it now (kvm_apic_accept_events →
 * kvm_vcpu_reset(vcpu, true)), then the program's long-mode state back (not the APIC base
 * INIT keeps, nor the TPR it clears) and RIP past the OUT, interrupts off. RESET also sets
 * IA32_APIC_BASE to its power-on value, as kvm_lapic_reset(vcpu, false) does (KVM has no
 * ioctl that runs kvm_vcpu_reset with init_event = false on a live vCPU; a VMM writes that
 * state). Returns why it failed, or undefined.
 */
function initVcpu(
  vm: KvmVm,
  vcpu: KvmVcpu,
  target: { index: number; apicId: number },
  reset: boolean,
): string | undefined {
  const regs = vcpu.kvmGetRegs();
  const sregs = vcpu.kvmGetSregs();
  if (signalInit(vm.fd, target.apicId) <= 0) return `KVM_SIGNAL_MSI(INIT) reached no APIC`;
  if (getMpState(vcpu.fd) < 0) return "KVM_GET_MP_STATE failed after INIT";
  const after = vcpu.kvmGetSregs();
  const apicBase = reset ? 0xfee00800n | (target.index === 0 ? 0x100n : 0n) : after.apicBase;
  vcpu.kvmSetSregs({ ...sregs, apicBase, cr8: after.cr8, interruptBitmap: after.interruptBitmap });
  vcpu.kvmSetRegs({ ...regs, rip: regs.rip + 1n, rflags: regs.rflags & ~0x200n });
  if (setMpStateRunnable(vcpu.fd) !== 0) return "KVM_SET_MP_STATE(RUNNABLE) failed after INIT";
  return undefined;
}

async function drive(
  vm: KvmVm,
  runner: VcpuRunner,
  compiled: CompiledVcpu,
  steps: readonly Step[],
  budgetMs: number,
  counts: ExitCounters,
  notes: string[],
  vmm: { exits: KvmVmmExits; index: number; apicId: number },
): Promise<VcpuOutcome> {
  const deadline = performance.now() + budgetMs;
  const count = (k: string): void => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  const preempts: Promise<void>[] = [];
  const runDelays: number[] = [];
  const hostWrite = (msr: number, value: bigint): boolean => {
    try {
      return runner.vcpu.kvmSetMsrs([{ index: msr, data: value }]) === 1;
    } catch {
      return false;
    }
  };
  try {
    for (;;) {
      const remaining = Math.max(1, Math.round(deadline - performance.now()));
      const exit = await runner.run(remaining);
      if (exit.kind !== "timeout" && vmm.exits.handle(exit, vmm.index, hostWrite)) continue;
      switch (exit.kind) {
        case "timeout":
          return { kind: "timeout", message: exit.message };
        case "io":
          if (exit.port === KVM_PROBE_PORTS.done) return { kind: "done" };
          if (exit.port === KVM_PROBE_PORTS.fault) {
            return { kind: "stopped", message: `unexpected exception vector ${exit.value}` };
          }
          if (exit.port === KVM_PROBE_PORTS.reset && exit.direction === "out") {
            const why = initVcpu(vm, runner.vcpu, vmm, (exit.value & 1) === 1);
            if (why !== undefined) return { kind: "stopped", message: why };
            continue;
          }
          if (exit.port === KVM_PROBE_PORTS.preempt && exit.direction === "out") {
            count("preempt");
            // The preempt step's index is in EAX of the `out`.
            const step = steps[exit.value];
            const ns = step?.op === "preempt" ? step.ns : 0;
            const p = preemptThread(runner.tid, ns)
              .then((r) => {
                if (!r.ok) notes.push(`preempt of ${runner.vcpu.label}: ${r.detail}`);
              }, (e) => {
                notes.push(`preempt of ${runner.vcpu.label} failed: ${message(e)}`);
              })
              .finally(() => vm.memory.writeU64(compiled.control + CTRL_PREEMPT, 1n));
            preempts.push(p);
            continue;
          }
          count("io");
          if (exit.direction === "in") exit.data.fill(0xff);
          try {
            // What steal time is bounded by (steal_time.c compares steal with this).
            runDelays.push(readRunDelayNs(runner.tid));
          } catch {
            // no schedstat: nothing to report
          }
          continue;
        case "hlt":
          continue; // counted from the step results
        case "hypercall":
          count(USER_EXIT); // resumes with the ret KVM preset (0)
          continue;
        case "x86-rdmsr":
        case "x86-wrmsr":
          exit.injectGp();
          continue;
        case "mmio":
          count("mmio");
          if (!exit.isWrite) exit.data.fill(0);
          continue;
        case "intr":
          continue;
        default:
          return { kind: "stopped", message: describeVcpuExit(exit) };
      }
    }
  } finally {
    await Promise.all(preempts);
    if (runDelays.length > 0) {
      notes.push(
        `${runner.vcpu.label}: its thread's run_delay at the probe's port exits: ` +
          runDelays.map((ns) => `${ns} ns`).join(", "),
      );
    }
  }
}
