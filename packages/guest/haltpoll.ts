/**
 * Guest halt polling (drivers/cpuidle/cpuidle-haltpoll.c with arch_haltpoll_enable/disable
 * and kvm_suspend/kvm_resume in kvm.c): when the guest polls before halting itself, it
 * turns the host's halt polling off through MSR_KVM_POLL_CONTROL.
 *
 * Source: spec §2 (POLL_CONTROL) and §6 ("poll control").
 *
 * @module
 */

import { KVM_FEATURE_POLL_CONTROL, KVM_HINTS_REALTIME, MSR_KVM_POLL_CONTROL } from "@pvkit/abi";
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import { type KvmGuestInfo, kvmParaHasFeature, kvmParaHasHint } from "./kvm_detect.ts";
import { rdmsrUnchecked, wrmsrUnchecked } from "./_msr.ts";

/**
 * The command-line inputs of the cpuidle-haltpoll load decision.
 *
 * @example
 * ```ts
 * import type { HaltpollSwitches } from "@pvkit/guest";
 * const s: HaltpollSwitches = { force: true };
 * console.log(s.force);
 * ```
 */
export interface HaltpollSwitches {
  /** `cpuidle_haltpoll.force=1`: load without the REALTIME hint. */
  readonly force?: boolean;
  /** An `idle=` parameter was given (boot_option_idle_override), which keeps it unloaded. */
  readonly idleOverride?: boolean;
}

/**
 * Explains the haltpoll decision: the driver loads with no `idle=`, on KVM, and with the
 * REALTIME hint or `force`; it then drives the host's polling only with
 * KVM_FEATURE_POLL_CONTROL (bit 12). Without bit 12 Linux still loads the driver but writes
 * no MSR ("host does not support poll control"), so the PV part is off.
 *
 * @example
 * ```ts
 * import { decideHaltpoll, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 12, hints: 0, possibleCpus: 2,
 *   mwait: false,
 * };
 * assertEquals(decideHaltpoll(info).used, false); // no REALTIME hint, no force
 * assertEquals(decideHaltpoll(info, { force: true }).used, true);
 * ```
 */
export function decideHaltpoll(
  info: KvmGuestInfo | undefined,
  switches: HaltpollSwitches = {},
): FeatureDecision {
  const feature = "haltpoll";
  // [cpuidle-haltpoll.c] haltpoll_init: idle= → -ENODEV; !kvm_para_available() || !want.
  if (switches.idleOverride) {
    return { feature, used: false, reason: "not loaded: idle= was passed" };
  }
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  if (!kvmParaHasHint(info, KVM_HINTS_REALTIME) && !switches.force) {
    return { feature, used: false, reason: "not loaded: no KVM_HINTS_REALTIME and no force=1" };
  }
  // [G] arch_haltpoll_enable: without POLL_CONTROL, pr_err_once and no MSR write.
  if (!kvmParaHasFeature(info, KVM_FEATURE_POLL_CONTROL)) {
    return { feature, used: false, reason: "host does not support poll control" };
  }
  return {
    feature,
    used: true,
    reason: "guest halt polling on; host halt polling turned off per CPU",
  };
}

/**
 * The haltpoll predicate: no `idle=`, KVM, REALTIME hint or `force`, and bit 12.
 *
 * @example
 * ```ts
 * import { haltpollSupported, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 12, hints: 1, possibleCpus: 2,
 *   mwait: false,
 * };
 * assertEquals(haltpollSupported(info), true);
 * assertEquals(haltpollSupported(info, { idleOverride: true }), false);
 * ```
 */
export function haltpollSupported(
  info: KvmGuestInfo | undefined,
  switches: HaltpollSwitches = {},
): boolean {
  return decideHaltpoll(info, switches).used;
}

/**
 * How to build a {@linkcode Haltpoll}.
 *
 * @example
 * ```ts
 * import type { HaltpollOptions } from "@pvkit/guest";
 * const opts: HaltpollOptions = { force: true, warnings: [] };
 * console.log(opts.force);
 * ```
 */
export interface HaltpollOptions extends HaltpollSwitches {
  /** Where to collect warnings. Default: a new array. */
  readonly warnings?: string[];
}

/**
 * Haltpoll's MSR side for one guest: enable/disable per CPU as the cpuidle device comes and
 * goes, and the suspend/resume save and restore.
 *
 * @example
 * ```ts
 * import { Haltpoll, type KvmGuestInfo, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 12, hints: 1, possibleCpus: 2,
 *   mwait: false,
 * };
 * const cpu = new ScriptedGuestCpu();
 * const hp = new Haltpoll(info);
 * hp.enable(cpu);
 * hp.disable(cpu);
 * assertEquals(cpu.msrWrites.map((w) => w.value), [0n, 1n]);
 * ```
 */
export class Haltpoll {
  /** True when the driver is loaded (it may still lack bit 12). */
  readonly loaded: boolean;
  /** True when it drives MSR_KVM_POLL_CONTROL (loaded and bit 12). */
  readonly active: boolean;
  /** Warnings collected. */
  readonly warnings: string[];
  readonly #pollControl: boolean;
  readonly #savedGuestPoll = new Map<number, boolean>();

  /** Decides from `info` and the switches. */
  constructor(info: KvmGuestInfo | undefined, options: HaltpollOptions = {}) {
    this.#pollControl = kvmParaHasFeature(info, KVM_FEATURE_POLL_CONTROL);
    // [cpuidle-haltpoll.c] haltpoll_init: no idle=, KVM, and REALTIME or force.
    this.loaded = !options.idleOverride && info !== undefined &&
      (kvmParaHasHint(info, KVM_HINTS_REALTIME) || !!options.force);
    this.active = this.loaded && this.#pollControl;
    this.warnings = options.warnings ?? [];
  }

  /**
   * haltpoll_cpu_online → arch_haltpoll_enable(cpu): WRMSR(0x4b564d05, 0), turning host
   * polling off. Without bit 12 it warns instead. Nothing when the driver is not loaded.
   */
  enable(cpu: GuestCpu): void {
    if (!this.loaded) return;
    if (!this.#pollControl) {
      this.warnings.push("host does not support poll control; host upgrade recommended");
      return;
    }
    wrmsrUnchecked(cpu, MSR_KVM_POLL_CONTROL, 0n, this.warnings); // [G] kvm_disable_host_haltpoll
  }

  /** haltpoll_cpu_offline → arch_haltpoll_disable(cpu): WRMSR(0x4b564d05, 1) with bit 12. */
  disable(cpu: GuestCpu): void {
    if (!this.loaded || !this.#pollControl) return;
    wrmsrUnchecked(cpu, MSR_KVM_POLL_CONTROL, 1n, this.warnings); // [G] kvm_enable_host_haltpoll
  }

  /**
   * kvm_suspend's poll-control part on `cpu`: with bit 12, RDMSR(0x4b564d05) and remember
   * whether guest polling was on (bit 0 clear). Linux keeps one global; this keeps one per
   * vCPU, which is the same for the boot CPU syscore suspend runs on.
   */
  suspend(cpu: GuestCpu): void {
    // [G] kvm_suspend: val = 0; if (POLL_CONTROL) rdmsrq(...); has_guest_poll = !(val & 1).
    const val = this.#pollControl ? rdmsrUnchecked(cpu, MSR_KVM_POLL_CONTROL, this.warnings) : 0n;
    this.#savedGuestPoll.set(cpu.index, (val & 1n) === 0n);
  }

  /** kvm_resume's poll-control part: with bit 12 and saved guest polling, WRMSR(…, 0). */
  resume(cpu: GuestCpu): void {
    if (this.#pollControl && this.#savedGuestPoll.get(cpu.index)) {
      wrmsrUnchecked(cpu, MSR_KVM_POLL_CONTROL, 0n, this.warnings);
    }
  }
}
