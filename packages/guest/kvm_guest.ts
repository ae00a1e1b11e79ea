/**
 * {@linkcode KvmGuest}: a Linux-like KVM guest that runs the PV init sequence on each vCPU,
 * picks each PV feature with its predicate, routes the paravirtualized operations (EOI, IPIs,
 * TLB flush, I/O delay, spinlock kick/wait, clock and steal reads) to the chosen drivers, and
 * tears a vCPU down in Linux's order.
 *
 * Boot order on the boot CPU, as in Linux: detection (init_hypervisor_platform, skipped with
 * `nopv`); kvmclock_init (registers the boot CPU's clock); check_x2apic; kvm_guest_init
 * (decides steal time, PV EOI, async PF, PV TLB flush, PV sched yield);
 * kvm_smp_prepare_boot_cpu (kvm_guest_cpu_init: async PF, PV EOI, steal time; then
 * kvm_spinlock_init); timekeeping_init (kvm_get_wallclock writes the wall-clock MSR);
 * try_to_enable_x2apic, then kvm_apic_init (PV IPI); the clocksource switch; cpuidle-haltpoll.
 * A secondary CPU registers its clock, runs kvm_guest_cpu_init, then haltpoll's online
 * callback. {@linkcode KvmGuest.kernelLog} holds the lines Linux prints on the way.
 *
 * Source: spec §6 ([G] kvm.c, [K] kvmclock.c, cpuidle-haltpoll.c; apic.c, hypervisor.c).
 *
 * @module
 */

import { KVM_FEATURE_MIGRATION_CONTROL, MSR_KVM_MIGRATION_CONTROL } from "@pvkit/abi";
import { type Gpa, PvkitError } from "@pvkit/machine";
import {
  AsyncPf,
  type AsyncPfFaultOutcome,
  type PageFaultContext,
  type PageReadyOutcome,
} from "./async_pf.ts";
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestBlock, GuestCpu } from "./guest_cpu.ts";
import { Haltpoll } from "./haltpoll.ts";
import {
  CPUID_1_ECX_X2APIC_BIT,
  detectKvm,
  type KvmGuestInfo,
  kvmParaHasFeature,
} from "./kvm_detect.ts";
import { Kvmclock, type WallClockTime } from "./kvmclock.ts";
import { KERNEL_LOG } from "./kernel_log.ts";
import { tryToEnableX2apic, type X2apicSetup } from "./msi.ts";
import { PvEoi } from "./pv_eoi.ts";
import {
  CALL_FUNCTION_VECTOR,
  type IpiSender,
  nativeIpiSender,
  type PvIpiResult,
  sendIpiMask,
  sendIpiMaskAllButSelf,
} from "./pv_ipi.ts";
import { PvSpinlock } from "./pv_spinlock.ts";
import { flushTlbMulti, nativeFlushTlbMulti, type TlbFlushResult } from "./pv_tlb_flush.ts";
import { type CallFunctionResult, sendCallFunctionIpi } from "./sched_yield.ts";
import { StealTime } from "./steal_time.ts";
import { wrmsrUnchecked } from "./_msr.ts";
import { kvmGuestDecisions } from "./_kvm_guest_decisions.ts";

/**
 * Bytes each vCPU's PV area takes in {@linkcode KvmGuest}'s layout: a 64-byte pvclock slot,
 * the 64-byte steal-time record, the 64-byte async-PF area and the PV EOI word.
 *
 * @example
 * ```ts
 * import { KVM_GUEST_PERCPU_STRIDE } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_GUEST_PERCPU_STRIDE, 256);
 * ```
 */
export const KVM_GUEST_PERCPU_STRIDE = 256;

/**
 * Where one vCPU's PV structures live.
 *
 * @example
 * ```ts
 * import { KvmGuest } from "@pvkit/guest";
 * const guest = new KvmGuest({ possibleCpus: 2, areaBase: 0x1000n });
 * console.log(guest.layout(1)); // { pvclock: 0x1140n, stealTime: 0x1180n, ... }
 * ```
 */
export interface PerCpuAreas {
  /** pvclock_vcpu_time_info (at the start of a 64-byte slot). */
  readonly pvclock: Gpa;
  /** kvm_steal_time (64-byte aligned). */
  readonly stealTime: Gpa;
  /** kvm_vcpu_pv_apf_data's 64-byte host area (64-byte aligned). */
  readonly asyncPf: Gpa;
  /** The PV EOI word (8-byte aligned). */
  readonly pvEoi: Gpa;
}

/**
 * The guest's configuration: the boot parameters that matter to the PV drivers, the CPU
 * count, and where the PV structures go in guest RAM.
 *
 * @example
 * ```ts
 * import type { KvmGuestConfig } from "@pvkit/guest";
 * const config: KvmGuestConfig = { possibleCpus: 4, nopvspin: true, mwait: false };
 * console.log(config.possibleCpus);
 * ```
 */
export interface KvmGuestConfig {
  /** `num_possible_cpus()`. */
  readonly possibleCpus: number;
  /** The boot CPU has MWAIT. Default: CPUID.1:ECX bit 3 of the boot CPU. */
  readonly mwait?: boolean;
  /** The boot CPU has X86_FEATURE_X2APIC. Default: CPUID.1:ECX bit 21 of the boot CPU. */
  readonly x2apic?: boolean;
  /** Firmware left the APIC in x2APIC mode (IA32_APIC_BASE bit 10 at boot). Default false. */
  readonly x2apicEnabledByFirmware?: boolean;
  /** An IOMMU remaps interrupts in x2APIC mode (IRQ_REMAP_X2APIC_MODE). Default false. */
  readonly interruptRemapping?: boolean;
  /** `nox2apic`. */
  readonly nox2apic?: boolean;
  /**
   * `nopv`: KVM is not set up as the hypervisor platform (no kvmclock, kvm_guest_init,
   * kvm_apic_init or x2APIC hooks), though kvm_para_available() stays true (haltpoll).
   */
  readonly nopv?: boolean;
  /** `nopvspin`. */
  readonly nopvspin?: boolean;
  /** `no-kvmclock`. */
  readonly noKvmclock?: boolean;
  /** `no-steal-acc`. */
  readonly noStealAcc?: boolean;
  /** `no-kvmapf`. */
  readonly noKvmapf?: boolean;
  /** `cpuidle_haltpoll.force=1`. */
  readonly haltpollForce?: boolean;
  /** An `idle=` parameter was given (keeps cpuidle-haltpoll unloaded). */
  readonly idleOverride?: boolean;
  /**
   * Start of the PV area in guest RAM, 64-byte aligned: the wall clock (12 bytes, in a 64-byte
   * slot), then {@linkcode KVM_GUEST_PERCPU_STRIDE} bytes per possible CPU. Default 0x1000.
   */
  readonly areaBase?: Gpa;
  /** Version-loop tries before a clock or steal read gives up. Default 1000. */
  readonly maxReadAttempts?: number;
}

/**
 * How a {@linkcode KvmGuest} sent an IPI: through SEND_IPI hypercalls, or natively (one
 * ICR write per destination).
 *
 * @example
 * ```ts
 * import type { IpiSend } from "@pvkit/guest";
 * const s: IpiSend = { via: "native", ipis: 3 };
 * console.log(s.via);
 * ```
 */
export type IpiSend =
  | { readonly via: "hypercall"; readonly result: PvIpiResult }
  | { readonly via: "native"; readonly ipis: number };

/**
 * How a vCPU goes offline: CPU hotplug (`shutdown: false`, the default) or reboot, kexec and
 * crash (`shutdown: true`, which neither wakes async-PF sleepers nor tears haltpoll down).
 *
 * @example
 * ```ts
 * import type { OfflineOptions } from "@pvkit/guest";
 * const o: OfflineOptions = { shutdown: true };
 * console.log(o.shutdown);
 * ```
 */
export interface OfflineOptions {
  /** Reboot/kexec/crash rather than hotplug. Default false. */
  readonly shutdown?: boolean;
}

/**
 * A Linux-like KVM guest. Call {@linkcode KvmGuest.boot} on the boot vCPU, then
 * {@linkcode KvmGuest.onlineCpu} on each secondary; the operations then use the PV path
 * each predicate chose, and {@linkcode KvmGuest.decisions} says what was chosen and why.
 *
 * @example
 * ```ts
 * import { KvmGuest, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpuid = new Map([
 *   [1, { eax: 0, ebx: 0, ecx: 1 << 31, edx: 0 }],
 *   [0x40000000, { eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d }],
 *   [0x40000001, { eax: 0x01007efb, ebx: 0, ecx: 0, edx: 0 }], // what KVM reports
 * ]);
 * const cpu0 = new ScriptedGuestCpu({ index: 0, cpuid });
 * const cpu1 = new ScriptedGuestCpu({ index: 1, cpuid, memory: cpu0.memory });
 * const guest = new KvmGuest({ possibleCpus: 2 });
 * guest.boot(cpu0);
 * guest.onlineCpu(cpu1);
 * const used = guest.decisions.filter((d) => d.used).map((d) => d.feature);
 * assertEquals(used, [
 *   "kvmclock", "kvmclock-stable-bit", "nop-io-delay", "steal-time", "pv-eoi", "async-pf",
 *   "pv-tlb-flush", "pv-sched-yield", "pv-ipi", "pv-spinlock",
 * ]);
 * assertEquals(guest.sendIpiMask(cpu0, [1], 0xfd).via, "hypercall");
 * ```
 */
export class KvmGuest {
  /** The configuration. */
  readonly config: KvmGuestConfig;
  /** Warnings from every driver (faulting MSR accesses, failed PV IPIs, …), in order. */
  readonly warnings: string[] = [];
  /**
   * The lines Linux ({@linkcode KERNEL_LOG_VERSION}) prints while this guest boots, in order,
   * without timestamps.
   */
  readonly kernelLog: string[] = [];
  #info: KvmGuestInfo | undefined;
  /** `info` when KVM is the hypervisor platform (its hooks installed), else undefined. */
  #platform: KvmGuestInfo | undefined;
  #x2apic: X2apicSetup | undefined;
  #bootWallClock: WallClockTime | undefined;
  #haltpollComplained = false;
  #booted = false;
  #decisions: FeatureDecision[] = [];
  readonly #online = new Map<number, GuestCpu>();
  #kvmclock!: Kvmclock;
  #steal!: StealTime;
  #pvEoi!: PvEoi;
  #asyncPf!: AsyncPf;
  #spinlock!: PvSpinlock;
  #haltpoll!: Haltpoll;
  #pvIpi = false;
  #pvTlbFlush = false;
  #pvSchedYield = false;
  #nopIoDelay = false;

  /** Checks the configuration; nothing runs until {@linkcode KvmGuest.boot}. */
  constructor(config: KvmGuestConfig) {
    const base = config.areaBase ?? 0x1000n;
    if (base < 0n || base % 64n !== 0n) {
      throw new PvkitError(
        "invalid-area-base",
        `the PV area base 0x${base.toString(16)} is not a 64-byte aligned GPA`,
        "use a multiple of 64 inside guest RAM",
      );
    }
    this.config = { ...config, areaBase: base };
  }

  /** What detection found, or `undefined` (before boot, or not on KVM). */
  get info(): KvmGuestInfo | undefined {
    return this.#info;
  }

  /** The x2APIC outcome of check_x2apic and try_to_enable_x2apic. Throws before boot. */
  get x2apic(): X2apicSetup {
    this.#requireBoot();
    return this.#x2apic!;
  }

  /** The wall clock kvm_get_wallclock read at boot, or `undefined` without kvmclock. */
  get bootWallClock(): WallClockTime | undefined {
    return this.#bootWallClock;
  }

  /** One entry per PV feature: used or not, and why. Empty before boot. */
  get decisions(): readonly FeatureDecision[] {
    return this.#decisions;
  }

  /** The decision for `feature`, if booted. */
  decision(feature: FeatureDecision["feature"]): FeatureDecision | undefined {
    return this.#decisions.find((d) => d.feature === feature);
  }

  /** True when `feature` was chosen. */
  uses(feature: FeatureDecision["feature"]): boolean {
    return this.decision(feature)?.used ?? false;
  }

  /** The kvmclock driver. Throws before boot. */
  get kvmclock(): Kvmclock {
    this.#requireBoot();
    return this.#kvmclock;
  }

  /** The steal-time driver. Throws before boot. */
  get stealTime(): StealTime {
    this.#requireBoot();
    return this.#steal;
  }

  /** The PV EOI driver. Throws before boot. */
  get pvEoi(): PvEoi {
    this.#requireBoot();
    return this.#pvEoi;
  }

  /** The async PF driver. Throws before boot. */
  get asyncPf(): AsyncPf {
    this.#requireBoot();
    return this.#asyncPf;
  }

  /** The spinlock operations. Throws before boot. */
  get spinlock(): PvSpinlock {
    this.#requireBoot();
    return this.#spinlock;
  }

  /** The haltpoll driver. Throws before boot. */
  get haltpoll(): Haltpoll {
    this.#requireBoot();
    return this.#haltpoll;
  }

  /** The GPA of the pvclock_wall_clock record. */
  get wallClockGpa(): Gpa {
    return this.config.areaBase!;
  }

  /** Bytes of guest RAM the PV area spans from `areaBase`. */
  get areaBytes(): number {
    return 64 + KVM_GUEST_PERCPU_STRIDE * this.config.possibleCpus;
  }

  /** Where vCPU `index`'s PV structures live. */
  layout(index: number): PerCpuAreas {
    if (!Number.isInteger(index) || index < 0 || index >= this.config.possibleCpus) {
      throw new PvkitError(
        "invalid-cpu-index",
        `vCPU ${index} is not a possible CPU (0..${this.config.possibleCpus - 1})`,
        "raise possibleCpus or use a smaller index",
      );
    }
    const at = this.config.areaBase! + 64n + BigInt(KVM_GUEST_PERCPU_STRIDE * index);
    return { pvclock: at, stealTime: at + 64n, asyncPf: at + 128n, pvEoi: at + 192n };
  }

  /** The online vCPUs by index. */
  get onlineCpus(): ReadonlyMap<number, GuestCpu> {
    return this.#online;
  }

  /**
   * Boots on `cpu`: detection, the global decisions, and the boot CPU's per-CPU init, in
   * Linux's order. Returns {@linkcode KvmGuest.decisions}.
   *
   * Throws {@linkcode PvkitError} `"already-booted"` on a second call, and
   * `"area-out-of-ram"` when the PV area does not fit in guest RAM.
   */
  boot(cpu: GuestCpu): readonly FeatureDecision[] {
    if (this.#booted) {
      throw new PvkitError("already-booted", "this guest has already booted", "boot once");
    }
    const end = this.config.areaBase! + BigInt(this.areaBytes);
    if (!cpu.memory.contains(this.config.areaBase!, this.areaBytes)) {
      throw new PvkitError(
        "area-out-of-ram",
        `the PV area 0x${this.config.areaBase!.toString(16)}-0x${
          (end - 1n).toString(16)
        } is outside guest RAM (${cpu.memory.size} bytes)`,
        "give the guest more memory or move areaBase",
      );
    }
    const c = this.config;
    const info = detectKvm(cpu, { possibleCpus: c.possibleCpus, mwait: c.mwait });
    this.#info = info;
    // [hypervisor.c] detect_hypervisor_vendor skips KVM with nopv: none of its init hooks run.
    const platform = c.nopv ? undefined : info;
    this.#platform = platform;
    const warnings = this.warnings;
    const maxReadAttempts = c.maxReadAttempts;
    this.#kvmclock = new Kvmclock(platform, {
      noKvmclock: c.noKvmclock,
      warnings,
      maxReadAttempts,
    });
    this.#steal = new StealTime(platform, { warnings });
    this.#pvEoi = new PvEoi(platform, { warnings });
    this.#asyncPf = new AsyncPf(platform, {
      noKvmapf: c.noKvmapf,
      warnings,
      eoi: (vcpu) => void this.eoi(vcpu), // [G] ack_APIC_irq goes through apic->eoi
    });
    this.#spinlock = new PvSpinlock(platform, { nopvspin: c.nopvspin });
    // cpuidle-haltpoll asks kvm_para_available(), which nopv does not change.
    this.#haltpoll = new Haltpoll(info, {
      force: c.haltpollForce,
      idleOverride: c.idleOverride,
      warnings,
    });
    this.#x2apic = tryToEnableX2apic(platform, {
      cpuHasX2apic: c.x2apic ?? ((cpu.cpuid(1).ecx >>> CPUID_1_ECX_X2APIC_BIT) & 1) === 1,
      enabledByFirmware: c.x2apicEnabledByFirmware,
      irqRemapX2apic: c.interruptRemapping,
      nox2apic: c.nox2apic,
      bootApicId: cpu.apicId(),
    });
    this.#booted = true;
    this.#decisions = kvmGuestDecisions(info, platform, c, {
      kvmclockValidFlags: this.#kvmclock.validFlags,
      spinlock: this.#spinlock.decision,
      x2apic: this.#x2apic,
    });
    this.#pvTlbFlush = this.uses("pv-tlb-flush");
    this.#pvSchedYield = this.uses("pv-sched-yield");
    this.#pvIpi = this.uses("pv-ipi");
    this.#nopIoDelay = this.uses("nop-io-delay");

    const log = this.kernelLog;
    const x2apicLines = this.#x2apic.kernelLines;
    log.push(...x2apicLines.setupNox2apic); // parse_early_param
    if (platform !== undefined) log.push(KERNEL_LOG.detectHypervisorVendor);
    // [K] kvmclock_init (init_platform): the boot CPU's clock first.
    this.#online.set(cpu.index, cpu);
    const msrs = this.#kvmclock.msrs;
    if (msrs !== undefined) log.push(KERNEL_LOG.kvmclockInit(msrs.systemTime, msrs.wallClock));
    this.#kvmclock.register(cpu, this.layout(cpu.index).pvclock);
    log.push(...x2apicLines.checkX2apic); // setup_arch: check_x2apic
    // [G] kvm_guest_init (guest_late_init, end of setup_arch).
    if (this.#pvTlbFlush) log.push(KERNEL_LOG.pvTlbFlush);
    if (this.#pvSchedYield) log.push(KERNEL_LOG.pvSchedYield);
    // [G] kvm_smp_prepare_boot_cpu → kvm_guest_cpu_init, then kvm_spinlock_init.
    this.#guestCpuInit(cpu);
    if (platform !== undefined) {
      log.push(KERNEL_LOG.kvmSpinlockInit(this.#spinlock.decision.reason));
    }
    // timekeeping_init → read_persistent_wall_and_boot_offset → kvm_get_wallclock.
    if (this.#kvmclock.enabled) {
      this.#bootWallClock = this.#kvmclock.wallClock(cpu, this.wallClockGpa);
    }
    // apic_intr_mode_init: enable_IR_x2apic → try_to_enable_x2apic; then apic_post_init.
    log.push(...x2apicLines.tryToEnableX2apic);
    if (this.#pvIpi) log.push(KERNEL_LOG.pvIpi); // [G] kvm_apic_init → kvm_setup_pv_ipi
    // fs_initcall clocksource_done_booting: kvm-clock has the best rating registered so far.
    if (this.#kvmclock.enabled) log.push(KERNEL_LOG.switchedToKvmClock);
    // [cpuidle-haltpoll] haltpoll_cpu_online for each online CPU.
    this.#haltpollEnable(cpu);
    return this.#decisions;
  }

  /** haltpoll_cpu_online → arch_haltpoll_enable, with its one-time complaint in the log. */
  #haltpollEnable(cpu: GuestCpu): void {
    if (this.#haltpoll.loaded && !this.#haltpoll.active && !this.#haltpollComplained) {
      this.#haltpollComplained = true; // pr_err_once
      this.kernelLog.push(...KERNEL_LOG.archHaltpollEnableNoPollControl);
    }
    this.#haltpoll.enable(cpu);
  }

  /**
   * Brings a secondary vCPU online: kvm_setup_secondary_clock (kvmclock), kvm_cpu_online
   * (kvm_guest_cpu_init), then haltpoll's online callback.
   */
  onlineCpu(cpu: GuestCpu): void {
    this.#requireBoot();
    this.layout(cpu.index); // validates the index
    this.#online.set(cpu.index, cpu);
    this.#kvmclock.register(cpu, this.layout(cpu.index).pvclock);
    this.#guestCpuInit(cpu);
    this.#haltpollEnable(cpu);
  }

  /**
   * Takes `cpu` down. Hotplug (default) runs haltpoll's offline callback first, then
   * kvm_guest_cpu_offline(false); `shutdown: true` (reboot, kexec, crash) runs only
   * kvm_guest_cpu_offline(true). kvm_guest_cpu_offline: STEAL_TIME ← 0; PV_EOI_EN ← 0 (bit 6);
   * MIGRATION_CONTROL ← 0 (bit 17); ASYNC_PF_EN ← 0 (if enabled); wake this vCPU's async-PF
   * sleepers unless shutting down; kvmclock off.
   */
  offline(cpu: GuestCpu, options: OfflineOptions = {}): void {
    this.#requireBoot();
    const shutdown = options.shutdown ?? false;
    if (!shutdown) this.#haltpoll.disable(cpu);
    this.#guestCpuOffline(cpu, shutdown);
    this.#online.delete(cpu.index);
  }

  /**
   * kvm_suspend on `cpu` (syscore suspend, the boot CPU): kvm_guest_cpu_offline(false), then
   * save whether guest halt polling was on.
   */
  suspend(cpu: GuestCpu): void {
    this.#requireBoot();
    this.#guestCpuOffline(cpu, false);
    this.#haltpoll.suspend(cpu);
  }

  /**
   * Resume on `cpu`: kvm_restore_sched_clock_state (re-register kvmclock), then kvm_resume
   * (kvm_guest_cpu_init, and restore guest halt polling).
   */
  resume(cpu: GuestCpu): void {
    this.#requireBoot();
    this.#online.set(cpu.index, cpu);
    this.#kvmclock.register(cpu, this.layout(cpu.index).pvclock);
    this.#guestCpuInit(cpu);
    this.#haltpoll.resume(cpu);
  }

  // ---------------------------------------------------------------------------------------
  // The paravirtualized operations

  /** apic->eoi on `cpu`: the PV EOI path when chosen, else a native EOI. True = no exit. */
  eoi(cpu: GuestCpu): boolean {
    this.#requireBoot();
    if (this.#pvEoi.active) return this.#pvEoi.eoi(cpu);
    cpu.apicEoi();
    return false;
  }

  /** pv_ops.cpu.io_delay on `cpu`: nothing with KVM_FEATURE_NOP_IO_DELAY, else port 0x80. */
  ioDelay(cpu: GuestCpu): void {
    this.#requireBoot();
    if (!this.#nopIoDelay) cpu.ioDelay();
  }

  /** apic->send_IPI_mask from `cpu` to the vCPUs `targets` (indices). */
  sendIpiMask(cpu: GuestCpu, targets: Iterable<number>, vector: number): IpiSend {
    return this.#sendToApicIds(cpu, this.#apicIds(targets), vector, false);
  }

  /** apic->send_IPI_mask_allbutself from `cpu` (the sender is dropped from `targets`). */
  sendIpiMaskAllButSelf(cpu: GuestCpu, targets: Iterable<number>, vector: number): IpiSend {
    const others = [...targets].filter((i) => i !== cpu.index);
    return this.#sendToApicIds(cpu, this.#apicIds(others), vector, true);
  }

  /** An {@linkcode IpiSender} that goes through this guest's send_IPI_mask. */
  get ipiSender(): IpiSender {
    return (cpu, apicIds, vector) => {
      this.#sendToApicIds(cpu, apicIds, vector, false);
    };
  }

  /**
   * flush_tlb_multi from `cpu` to the vCPUs `targets`: kvm_flush_tlb_multi when PV TLB flush
   * was chosen, else the native flush. The remaining IPIs go through send_IPI_mask (so PV
   * IPIs when chosen).
   */
  flushTlbMulti(cpu: GuestCpu, targets: Iterable<number>): TlbFlushResult {
    this.#requireBoot();
    const list = [...targets];
    if (!this.#pvTlbFlush) return nativeFlushTlbMulti(cpu, this.#apicIds(list), this.ipiSender);
    const t = list.map((i) => ({ apicId: this.#apicId(i), stealGpa: this.layout(i).stealTime }));
    return flushTlbMulti(cpu, t, this.ipiSender);
  }

  /**
   * smp_ops.send_call_func_ipi from `cpu`: the call-function IPIs, then (with PV sched
   * yield) SCHED_YIELD to the first busy, preempted target. `idle(i)` says whether vCPU `i`
   * runs its idle task.
   */
  sendCallFunctionIpi(
    cpu: GuestCpu,
    targets: Iterable<number>,
    idle: (index: number) => boolean = () => false,
  ): CallFunctionResult {
    this.#requireBoot();
    const list = [...targets];
    if (!this.#pvSchedYield) {
      const ids = this.#apicIds(list);
      if (ids.length > 0) this.ipiSender(cpu, ids, CALL_FUNCTION_VECTOR);
      return { ipis: ids };
    }
    const t = list.map((i) => ({
      apicId: this.#apicId(i),
      stealGpa: this.layout(i).stealTime,
      idle: idle(i),
    }));
    return sendCallFunctionIpi(cpu, t, this.ipiSender);
  }

  /** pv_ops.lock.kick from `cpu` to vCPU `target`: KICK_CPU when PV spinlocks are on. */
  kick(cpu: GuestCpu, target: number): bigint | undefined {
    this.#requireBoot();
    return this.#spinlock.kick(cpu, this.#apicId(target));
  }

  /** pv_ops.lock.wait on `cpu`: halts while the byte at `gpa` holds `expected`. */
  wait(cpu: GuestCpu, gpa: Gpa, expected: number): Generator<GuestBlock, number, void> {
    this.#requireBoot();
    return this.#spinlock.wait(cpu.memory, gpa, expected);
  }

  /** The kvmclock clocksource read on `cpu` (ns). */
  clockRead(cpu: GuestCpu): bigint {
    return this.kvmclock.read(cpu);
  }

  /** vcpu_is_preempted(`target`) read from `cpu` (false without steal time). */
  vcpuIsPreempted(cpu: GuestCpu, target: number): boolean {
    return this.stealTime.isPreempted(cpu, target);
  }

  /** The async-PF #PF entry on `cpu` with CR2 = `token`. */
  onPageFault(cpu: GuestCpu, token: number, context?: PageFaultContext): AsyncPfFaultOutcome {
    return this.asyncPf.onPageFault(cpu, token, context);
  }

  /** The async-PF 'page ready' interrupt on `cpu` (its EOI uses {@linkcode KvmGuest.eoi}). */
  onPageReadyInterrupt(cpu: GuestCpu): PageReadyOutcome {
    return this.asyncPf.onPageReadyInterrupt(cpu);
  }

  // ---------------------------------------------------------------------------------------

  #guestCpuInit(cpu: GuestCpu): void {
    // [G] kvm_guest_cpu_init: async PF (INT vector, then EN), PV EOI, then steal time.
    const areas = this.layout(cpu.index);
    this.#asyncPf.enable(cpu, areas.asyncPf);
    this.#pvEoi.enable(cpu, areas.pvEoi);
    this.#steal.enable(cpu, areas.stealTime);
  }

  #guestCpuOffline(cpu: GuestCpu, shutdown: boolean): void {
    // [G] kvm_guest_cpu_offline, in order.
    this.#steal.disable(cpu);
    this.#pvEoi.disable(cpu);
    if (kvmParaHasFeature(this.#platform, KVM_FEATURE_MIGRATION_CONTROL)) {
      wrmsrUnchecked(cpu, MSR_KVM_MIGRATION_CONTROL, 0n, this.warnings);
    }
    this.#asyncPf.disable(cpu);
    if (!shutdown) this.#asyncPf.wakeAll(cpu);
    this.#kvmclock.disable(cpu);
  }

  #sendToApicIds(cpu: GuestCpu, ids: number[], vector: number, allButSelf: boolean): IpiSend {
    this.#requireBoot();
    if (this.#pvIpi) {
      const result = allButSelf
        ? sendIpiMaskAllButSelf(cpu, ids, vector)
        : sendIpiMask(cpu, ids, vector);
      this.warnings.push(...result.warnings);
      return { via: "hypercall", result };
    }
    const self = cpu.apicId();
    const dests = allButSelf ? ids.filter((id) => id !== self) : ids;
    nativeIpiSender(cpu, dests, vector);
    return { via: "native", ipis: dests.length };
  }

  #apicIds(targets: Iterable<number>): number[] {
    return [...targets].map((i) => this.#apicId(i));
  }

  #apicId(index: number): number {
    const cpu = this.#online.get(index);
    if (cpu === undefined) {
      throw new PvkitError(
        "cpu-not-online",
        `vCPU ${index} is not online in this guest`,
        "boot() or onlineCpu() it first",
      );
    }
    return cpu.apicId();
  }

  #requireBoot(): void {
    if (!this.#booted) {
      throw new PvkitError("not-booted", "the guest has not booted", "call boot(cpu) first");
    }
  }
}
