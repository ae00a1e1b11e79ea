/**
 * `EmuMachine`: a composed machine, running. Deterministic: every time is virtual, and vCPUs
 * advance in the order of their clocks.
 *
 * @module
 */

import {
  ArrayGuestMemory,
  type ComposedMachine,
  type CpuidRegisters,
  type HypercallHook,
  type InterruptRequest,
  type IoPortHook,
  type MsiHook,
  MSR_GP,
  type MsrHook,
  type MsrInitiator,
  type MsrReadResult,
  type MsrWriteResult,
  PvkitError,
  type ResetKind,
  type UserHypercallExit,
  type VcpuContext,
  type VcpuLifecycleHook,
  type VmContext,
} from "@pvkit/machine";
import { tscAfterNs } from "@pvkit/abi";
import { ApicMap } from "./apic_map.ts";
import { EmuVcpu } from "./emu_vcpu.ts";
import type { GuestBlock, GuestProgram } from "./guest_block.ts";
import { type EmuOptions, type ResolvedEmuOptions, resolveEmuOptions } from "./options.ts";
import { apicMsrHook } from "./apic_registers.ts";
import { compileMsrDispatch, type MsrReader, type MsrWriter } from "./msr_dispatch.ts";
import { Scheduler } from "./scheduler.ts";
import { Deadlines } from "./_deadlines.ts";
import { callPlugin, guardHooks } from "./_plugin_guard.ts";

/** The hooks of every plugin, merged into dispatch tables. */
export interface MachineHooks {
  /** MSR index → handler (dispatched through a compiled switch, see msr_dispatch.ts). */
  readonly msrs: Map<number, MsrHook>;
  /** Hypercall number → handler. */
  readonly hypercalls: Map<number, HypercallHook>;
  /** Port handlers. */
  readonly ioPorts: IoPortHook[];
  /** Life-cycle callbacks, in plugin order. */
  readonly lifecycle: VcpuLifecycleHook[];
  /** MSI routing, when a plugin provides it. */
  msi?: MsiHook;
}

/** What a run did. */
export interface RunSummary {
  /** The virtual time when the last vCPU finished or blocked for good. */
  readonly endNs: bigint;
  /** vCPUs left blocked (halted or waiting) when nothing else could run. */
  readonly blocked: readonly number[];
  /** Scheduling steps taken. */
  readonly steps: number;
  /** True when the run stopped at {@linkcode RunOptions.maxSteps} with vCPUs still going. */
  readonly stepLimitReached: boolean;
  /** vCPUs whose program did not finish: the blocked ones, and the runnable ones at a step limit. */
  readonly unfinished: readonly number[];
}

/** The scheduling steps a run takes at most unless {@linkcode RunOptions.maxSteps} says otherwise. */
export const DEFAULT_MAX_STEPS = 10_000_000;

/** Options of one run. */
export interface RunOptions {
  /** How many vCPUs meet at a barrier with this id (default: all vCPUs not finished). */
  readonly barrierSize?: (id: string) => number;
  /** Stop after this many scheduling steps (default {@linkcode DEFAULT_MAX_STEPS}). */
  readonly maxSteps?: number;
}

const CPUID_1_ECX_HYPERVISOR = 1 << 31;

/**
 * Records that `plugin` handles `what`; two plugins handling one MSR or hypercall is refused
 * (a manifest that does not declare what its hooks handle gets here past composition's check).
 */
function claim(owners: Map<number, string>, key: number, plugin: string, what: string): void {
  const owner = owners.get(key);
  if (owner !== undefined) {
    throw new PvkitError(
      "plugin-conflict",
      `${what} is handled by two plugins: ${owner} and ${plugin}`,
      "use only one of the two plugins",
    );
  }
  owners.set(key, plugin);
}

/**
 * A machine running on the emulated backend.
 *
 * @example
 * ```ts
 * import { EmuMachine } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", smp: 2, host: "linux-6.12" }));
 * vm.run([function* (cpu) { cpu.wrmsr(0x4b564d01, 0x1000n | 1n); yield { kind: "yield" }; }]);
 * console.log(vm.memory.readU32(0x1000n) % 2); // 0: the pvclock version is even
 * ```
 */
export class EmuMachine implements VmContext {
  /** The composition this machine runs. */
  readonly composed: ComposedMachine;
  /** The options, defaults filled in. */
  readonly options: ResolvedEmuOptions;
  /** Guest RAM. */
  readonly memory: ArrayGuestMemory;
  /** The vCPUs. */
  readonly vcpus: readonly EmuVcpu[];
  /** Merged plugin hooks. */
  readonly hooks: MachineHooks;
  /** The host scheduler. */
  readonly scheduler: Scheduler;
  /** Virtual host time of the vCPU executing now (ns since VM creation). */
  now = 0n;
  /** KVM's APIC map over the vCPUs. */
  readonly apicMap: ApicMap<EmuVcpu>;
  readonly #tscKhz: bigint;
  #kvmclockOffset: bigint;
  #dispatch: { read: MsrReader; write: MsrWriter } = {
    read: () => MSR_GP,
    write: () => MSR_GP,
  };
  /** The last block duration converted to a bigint, and the number it came from. */
  #lastNs = 0;
  #lastBigNs = 0n;
  /** The lifecycle hooks that can hold a vCPU off its CPU (asked before every entry). */
  #holds: VcpuLifecycleHook[] = [];

  private constructor(composed: ComposedMachine, options: EmuOptions) {
    if (!composed.ok || !composed.vcpus) {
      throw new PvkitError(
        "machine-has-errors",
        `the machine cannot be built: ${composed.errors.join("; ") || "no vCPU table"}`,
        "fix the composition errors first (pvkit describe shows them)",
      );
    }
    this.composed = composed;
    const table = composed.vcpus;
    this.options = resolveEmuOptions(options, table.count);
    this.#tscKhz = BigInt(this.options.tscKhz);
    this.#kvmclockOffset = this.options.kvmclockNs;
    this.memory = new ArrayGuestMemory(this.options.memory);
    this.scheduler = new Scheduler(this.options.hostCpus, this.options.timeSliceNs);
    this.hooks = { msrs: new Map(), hypercalls: new Map(), ioPorts: [], lifecycle: [] };
    const lapic = composed.machine.irqchip !== "off";
    const x2apic = composed.machine.x2apic;
    const vcpus: EmuVcpu[] = [];
    let highestApicId = 0;
    for (let i = 0; i < table.count; i++) {
      const vcpu = new EmuVcpu(
        this,
        i,
        table.apicId(i),
        x2apic,
        lapic,
        options.apicSoftwareEnabledAtReset ?? true,
      );
      vcpus.push(vcpu);
      highestApicId = Math.max(highestApicId, vcpu.apicId);
    }
    this.vcpus = vcpus;
    this.apicMap = new ApicMap(vcpus, options.x2apicApi ?? highestApicId > 254);
    // QEMU's kvm_arch_put_registers(KVM_PUT_RESET_STATE) → kvm_put_apic → KVM_SET_LAPIC.
    // Without it, each vCPU's creation rebuilt the map before that vCPU was online
    // (kvm_arch_vcpu_create → kvm_lapic_reset → kvm_recalculate_apic_map): all but the last.
    const mapped = options.setLapicOnCreate ?? true ? vcpus : vcpus.slice(0, -1);
    for (const v of mapped) v.joinApicMap();
    this.#installPlugins();
    if (lapic) {
      // IA32_APIC_BASE and the x2APIC MSRs, where no plugin claims them.
      const apicHook = apicMsrHook();
      for (const msr of apicHook.msrs) {
        if (!this.hooks.msrs.has(msr)) this.hooks.msrs.set(msr, apicHook);
      }
    }
    this.#holds = this.hooks.lifecycle.filter((h) => h.holdsEntry !== undefined);
    this.#dispatch = compileMsrDispatch(this.hooks.msrs);
    for (const vcpu of vcpus) {
      vcpu.setEnforcePvCpuid(this.options.enforcePvCpuid);
      vcpu.setCpuid(this.#cpuidFor(vcpu));
      for (const hook of this.hooks.lifecycle) hook.onReset?.(vcpu, "reset");
    }
  }

  /** Creates and starts a machine from a composition (every vCPU runnable at time 0). */
  static create(composed: ComposedMachine, options: EmuOptions = {}): EmuMachine {
    return new EmuMachine(composed, options);
  }

  #installPlugins(): void {
    const environment = {
      vm: this as VmContext,
      isEnabled: (f: string) => this.composed.isEnabled(f),
    };
    const hypercallOwners = new Map<number, string>();
    const msrOwners = new Map<number, string>();
    for (const plugin of this.composed.registry.plugins) {
      const create = plugin.createHooks;
      if (!create) continue;
      const name = plugin.manifest.name;
      const hooks = guardHooks(name, callPlugin(name, "createHooks", () => create(environment)));
      for (const hook of hooks.msrs ?? []) {
        for (const msr of hook.msrs) {
          claim(msrOwners, msr, name, `MSR 0x${msr.toString(16)}`);
          this.hooks.msrs.set(msr, hook);
        }
      }
      for (const hook of hooks.hypercalls ?? []) {
        claim(hypercallOwners, hook.nr, name, `hypercall ${hook.nr}`);
        this.hooks.hypercalls.set(hook.nr, hook);
      }
      this.hooks.ioPorts.push(...(hooks.ioPorts ?? []));
      this.hooks.lifecycle.push(...(hooks.lifecycle ?? []));
      if (hooks.msi) this.hooks.msi = hooks.msi;
    }
  }

  #cpuidFor(vcpu: EmuVcpu): { leaf: number; subleaf: number; regs: CpuidRegisters }[] {
    const table = this.composed.vcpus!;
    const entries = [
      { leaf: 0, subleaf: 0, regs: { eax: 0xb, ebx: 0, ecx: 0, edx: 0 } },
      ...[...table.entries(vcpu.index), ...table.shared].map((l) => ({
        leaf: l.leaf,
        subleaf: l.subleaf,
        regs: { eax: l.eax, ebx: l.ebx, ecx: l.ecx, edx: l.edx },
      })),
    ];
    entries[1].regs.ecx = (entries[1].regs.ecx | CPUID_1_ECX_HYPERVISOR) >>> 0;
    if (this.options.cpuid.length === 0) return entries;
    // One map lookup per override: linear in the number of overrides.
    const byKey = new Map(entries.map((e) => [`${e.leaf}.${e.subleaf}`, e]));
    for (const o of this.options.cpuid) {
      const subleaf = o.subleaf ?? 0;
      const key = `${o.leaf}.${subleaf}`;
      let entry = byKey.get(key);
      if (!entry) {
        entry = { leaf: o.leaf, subleaf, regs: { eax: 0, ebx: 0, ecx: 0, edx: 0 } };
        entries.push(entry);
        byKey.set(key, entry);
      }
      for (const r of ["eax", "ebx", "ecx", "edx"] as const) {
        const v = o[r];
        if (v !== undefined) entry.regs[r] = v >>> 0;
      }
    }
    return entries;
  }

  // ---- VmContext ----

  /** Number of vCPUs. */
  get vcpuCount(): number {
    return this.vcpus.length;
  }
  /** Guest TSC kHz. */
  get tscKhz(): number {
    return this.options.tscKhz;
  }
  /** The host has sched_info_on(). */
  get schedInfo(): boolean {
    return this.options.schedInfo;
  }
  /** An in-kernel LAPIC exists (kernel-irqchip on or split). */
  get inKernelLapic(): boolean {
    return this.composed.machine.irqchip !== "off";
  }
  /** KVM's map->max_apic_id (at least 255). */
  get maxApicId(): number {
    return this.apicMap.maxApicId;
  }
  /** A vCPU by index. */
  vcpu(index: number): EmuVcpu {
    return this.vcpus[index];
  }
  /** A vCPU by APIC ID through KVM's APIC map (only vCPUs that ran or had their LAPIC set). */
  vcpuByApicId(apicId: number): EmuVcpu | undefined {
    return this.apicMap.lookup(apicId);
  }
  /** kvm_irq_delivery_to_apic, physical destination (see {@linkcode ApicMap.deliver}). */
  deliverToApic(source: VcpuContext | undefined, request: InterruptRequest): number {
    return this.apicMap.deliver(source as EmuVcpu | undefined, request);
  }
  /** kvmclock now. */
  kvmclockNs(): bigint {
    return this.#kvmclockOffset + this.now;
  }
  /** CLOCK_REALTIME now. */
  realtimeNs(): bigint {
    return this.options.wallClockEpochNs + this.now;
  }
  /** The guest TSC at virtual time `ns` (it counts from 0 at VM creation and wraps at 2^64). */
  tscAt(ns: bigint): bigint {
    return tscAfterNs(ns, this.#tscKhz);
  }
  /** KVM_CAP_EXIT_HYPERCALL enabled for `nr`. */
  exitHypercallEnabled(nr: number): boolean {
    return this.options.exitHypercall.includes(nr);
  }
  /** KVM_EXIT_HYPERCALL to the VMM. */
  exitToUserspace(vcpu: VcpuContext, exit: UserHypercallExit): bigint {
    const ret = this.options.onUserHypercall(vcpu, exit);
    (vcpu as EmuVcpu).userspaceRoundTrip();
    return ret;
  }
  /** Other tasks wait on the vCPU's host CPU. */
  runqueueBusy(vcpu: VcpuContext): boolean {
    return this.scheduler.runqueueBusy(vcpu as EmuVcpu);
  }
  /** Directed yield. */
  yieldTo(from: VcpuContext, to: VcpuContext): boolean {
    return this.scheduler.yieldTo(from as EmuVcpu, to as EmuVcpu);
  }

  // ---- the VMM's view ----

  /**
   * The MSR read dispatch: the plugin's handler behind KVM's CPUID gate (a gated-off MSR #GPs
   * for the guest and reads 0 for the host), or #GP when no plugin handles the MSR.
   */
  readMsr(vcpu: EmuVcpu, msr: number, initiator: MsrInitiator): MsrReadResult {
    return this.#dispatch.read(vcpu, msr, initiator);
  }

  /** The MSR write dispatch (see {@linkcode readMsr}; a host write of 0 to a gated-off MSR succeeds). */
  writeMsr(vcpu: EmuVcpu, msr: number, value: bigint, initiator: MsrInitiator): MsrWriteResult {
    return this.#dispatch.write(vcpu, msr, value, initiator);
  }

  /** KVM_SET_MSRS for one MSR (host-initiated): 1 if written, 0 if refused. */
  setMsr(vcpuIndex: number, msr: number, value: bigint): 0 | 1 {
    return this.writeMsr(this.vcpus[vcpuIndex], msr, value, "host").kind === "ok" ? 1 : 0;
  }

  /** KVM_GET_MSRS for one MSR (host-initiated), or undefined if refused. */
  getMsr(vcpuIndex: number, msr: number): bigint | undefined {
    const result = this.readMsr(this.vcpus[vcpuIndex], msr, "host");
    return result.kind === "value" ? result.value : undefined;
  }

  /**
   * KVM_SET_CLOCK: kvmclock reads `clock` now. With `realtime` (KVM_CLOCK_REALTIME), the time
   * that passed since that realtime is added when it lies in the past (kvm_vm_ioctl_set_clock).
   * Every vCPU's pvclock is refreshed at its next entry.
   */
  setClock(clock: bigint, realtime?: bigint): void {
    let value = clock;
    if (realtime !== undefined) {
      const nowReal = this.realtimeNs();
      if (nowReal > realtime) value += nowReal - realtime;
    }
    this.#kvmclockOffset = value - this.now;
    for (const vcpu of this.vcpus) {
      for (const hook of this.hooks.lifecycle) hook.onHostEvent?.(vcpu, { kind: "set-clock" });
      vcpu.needsEntry = true;
    }
  }

  /** KVM_GET_CLOCK: kvmclock, CLOCK_REALTIME and the host TSC now, with their flags. */
  getClock(): { clock: bigint; realtime: bigint; hostTsc: bigint; flags: number } {
    // KVM_CLOCK_TSC_STABLE (2) | KVM_CLOCK_REALTIME (4) | KVM_CLOCK_HOST_TSC (8).
    return {
      clock: this.kvmclockNs(),
      realtime: this.realtimeNs(),
      hostTsc: this.tscAt(this.now),
      flags: 2 | 4 | 8,
    };
  }

  /** KVM_KVMCLOCK_CTRL on a vCPU: false (EINVAL) unless kvmclock is enabled on it. */
  kvmclockCtrl(vcpuIndex: number): boolean {
    const vcpu = this.vcpus[vcpuIndex];
    let handled = false;
    for (const hook of this.hooks.lifecycle) {
      if (hook.onHostEvent?.(vcpu, { kind: "kvmclock-ctrl" })) handled = true;
    }
    vcpu.needsEntry = true;
    return handled;
  }

  /** KVM_SET_LAPIC on vCPU `vcpuIndex`: puts it in the APIC map (kvm_apic_set_state). */
  setLapic(vcpuIndex: number): void {
    this.vcpus[vcpuIndex].joinApicMap();
  }

  /** Resets a vCPU (RESET or INIT), as kvm_vcpu_reset does. */
  resetVcpu(vcpuIndex: number, kind: ResetKind): void {
    const vcpu = this.vcpus[vcpuIndex];
    vcpu.apic?.reset(kind);
    vcpu.icr = 0n;
    vcpu.needsEntry = true;
    this.apicMap.invalidate();
    vcpu.interruptsEnabled = false;
    for (const hook of this.hooks.lifecycle) hook.onReset?.(vcpu, kind);
  }

  /**
   * Runs `fn` as guest code on vCPU `index` (the other vCPUs stay idle) and returns what it
   * returned: a one-instruction-at-a-time way to drive a machine from tests and tools.
   */
  runOn<T>(index: number, fn: (cpu: EmuVcpu) => T): T {
    let out: { value: T } | undefined;
    this.run(
      this.vcpus.map((_, i) =>
        i === index
          ? function* (cpu: EmuVcpu): Generator<GuestBlock, void, void> {
            out = { value: fn(cpu) };
            yield { kind: "yield" };
          }
          : undefined
      ),
    );
    return out!.value;
  }

  /**
   * Runs one guest program per vCPU (missing ones do nothing) until every vCPU finishes or
   * blocks for good. vCPUs advance in clock order; programs yield where they spend time.
   */
  run(
    programs: readonly (GuestProgram<EmuVcpu> | undefined)[],
    options: RunOptions = {},
  ): RunSummary {
    const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    // By vCPU index: an array lookup per step, not a hash lookup in a 32768-entry map.
    const iterators: (Generator<GuestBlock, void, void> | undefined)[] = [];
    const deadlines = new Deadlines();
    const barriers = new Map<string, EmuVcpu[]>();
    let live = 0;
    for (const vcpu of this.vcpus) {
      const program = programs[vcpu.index];
      if (!program) {
        vcpu.state = "done";
        continue;
      }
      vcpu.state = "runnable";
      iterators[vcpu.index] = program(vcpu);
      live++;
      this.scheduler.enqueue(vcpu, vcpu.clock);
    }
    const barrierSize = options.barrierSize ?? (() => live);
    let steps = 0;
    try {
      for (; steps < maxSteps; steps++) {
        const vcpu = this.scheduler.next();
        const deadline = deadlines.earliest();
        if (deadline && (!vcpu || deadline.at < vcpu.clock)) {
          deadlines.remove(deadline.vcpu);
          // A vCPU woken early (by its interrupt) has no deadline left to honour.
          if (deadline.vcpu.state === "wait-irq") this.scheduler.wake(deadline.vcpu, deadline.at);
          continue;
        }
        if (!vcpu) break;
        this.now = vcpu.clock;
        vcpu.enter(); // the vCPU is in guest mode before its code runs on
        const { value: block, done } = iterators[vcpu.index]!.next();
        if (done || !block) {
          vcpu.state = "done";
          live--;
          this.scheduler.release(vcpu);
          // One fewer vCPU may complete a barrier (checked only when one is waiting: iterating
          // even an empty Map allocates an iterator, once per vCPU per run).
          if (barriers.size > 0) {
            for (const [id, waiting] of barriers) {
              this.#releaseBarrier(id, waiting, barrierSize(id), barriers);
            }
          }
          continue;
        }
        this.#block(vcpu, block, deadlines, barriers, barrierSize);
        if (vcpu.state === "runnable" && this.#entryHeld(vcpu)) {
          vcpu.state = "held"; // blocked like HLT until a kick or an interrupt (vcpu_block)
          this.scheduler.release(vcpu);
        }
        if (vcpu.state === "runnable") this.scheduler.maybeSwitch(vcpu);
      }
    } finally {
      // After the step limit or an exception, no vCPU stays on a host CPU: the next run starts
      // from a clean scheduler.
      this.scheduler.descheduleAll();
    }
    const unfinished = this.vcpus.filter((v) => iterators[v.index] && v.state !== "done");
    const stepLimitReached = steps >= maxSteps && unfinished.length > 0;
    let endNs = 0n;
    for (const v of this.vcpus) if (v.clock > endNs) endNs = v.clock;
    return {
      endNs,
      blocked: unfinished.filter((v) => v.state !== "runnable" || !stepLimitReached).map((v) =>
        v.index
      ),
      steps,
      stepLimitReached,
      unfinished: unfinished.map((v) => v.index),
    };
  }

  /**
   * `ns` as a bigint. Programs mostly repeat one duration, so the last conversion is reused:
   * a step then allocates one bigint (the new clock) instead of two.
   */
  #bigNs(ns: number | bigint): bigint {
    if (typeof ns === "bigint") return ns;
    if (ns !== this.#lastNs) {
      this.#lastBigNs = BigInt(ns); // throws on a non-integer, as before
      this.#lastNs = ns;
    }
    return this.#lastBigNs;
  }

  /** Whether a plugin holds `vcpu` off its CPU before its next entry. */
  #entryHeld(vcpu: EmuVcpu): boolean {
    for (const hook of this.#holds) if (hook.holdsEntry!(vcpu)) return true;
    return false;
  }

  #block(
    vcpu: EmuVcpu,
    block: GuestBlock,
    deadlines: Deadlines,
    barriers: Map<string, EmuVcpu[]>,
    barrierSize: (id: string) => number,
  ): void {
    // The vCPU re-entered the guest right after its last exit, before whatever it does now.
    vcpu.enter();
    switch (block.kind) {
      case "yield":
        return;
      case "spin":
        vcpu.advance(this.#bigNs(block.ns));
        return;
      case "pause":
        vcpu.advance(10n);
        return;
      case "preempt":
        this.scheduler.preempt(vcpu, this.#bigNs(block.ns));
        return;
      case "hlt": {
        vcpu.exit("hlt");
        let stay = false;
        for (const hook of this.hooks.lifecycle) if (hook.onHalt?.(vcpu)) stay = true;
        const apic = vcpu.apic;
        const wakeable = apic !== undefined &&
          (apic.nmiPending || (vcpu.interruptsEnabled && apic.irrPending()));
        if (stay || wakeable) return;
        vcpu.state = "halted";
        this.scheduler.release(vcpu);
        return;
      }
      case "wait-irq":
        vcpu.state = "wait-irq";
        deadlines.set(vcpu, vcpu.clock + BigInt(block.timeoutNs));
        this.scheduler.release(vcpu);
        return;
      case "barrier": {
        const waiting = barriers.get(block.id) ?? [];
        waiting.push(vcpu);
        barriers.set(block.id, waiting);
        vcpu.state = "barrier";
        this.scheduler.release(vcpu);
        this.#releaseBarrier(block.id, waiting, barrierSize(block.id), barriers);
      }
    }
  }

  #releaseBarrier(
    id: string,
    waiting: EmuVcpu[],
    size: number,
    barriers: Map<string, EmuVcpu[]>,
  ): void {
    if (waiting.length === 0 || waiting.length < size) return;
    barriers.delete(id);
    let at = 0n;
    for (const v of waiting) if (v.clock > at) at = v.clock;
    for (const v of waiting) this.scheduler.wake(v, at);
  }
}
