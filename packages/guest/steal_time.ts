/**
 * The steal-time guest driver (Linux's kvm_register_steal_time, kvm_steal_clock,
 * vcpu_is_preempted): per-CPU registration, the steal read with its version loop, and the
 * preempted test other drivers build on.
 *
 * Source: spec §3 (kvm_steal_time, "preempted byte") and §6 ([G] kvm.c).
 *
 * @module
 */

import {
  KVM_FEATURE_STEAL_TIME,
  KVM_MSR_ENABLED,
  KVM_STEAL_TIME_ALIGN,
  KVM_STEAL_TIME_OFFSETS,
  KVM_STEAL_TIME_SIZE,
  KVM_VCPU_PREEMPTED,
  type KvmStealTime,
  MSR_KVM_STEAL_TIME,
  seqVersionedRead,
} from "@pvkit/abi";
import { type Gpa, type GuestMemory, PvkitError } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import { type KvmGuestInfo, kvmParaHasFeature } from "./kvm_detect.ts";
import { wrmsrUnchecked } from "./_msr.ts";

/**
 * The `no-steal-acc` command-line switch.
 *
 * @example
 * ```ts
 * import type { StealTimeSwitches } from "@pvkit/guest";
 * const s: StealTimeSwitches = { noStealAcc: true };
 * console.log(s.noStealAcc);
 * ```
 */
export interface StealTimeSwitches {
  /** `no-steal-acc`: steal time is still registered, only runqueue accounting is off. */
  readonly noStealAcc?: boolean;
}

/**
 * Explains the steal-time choice: used iff KVM_FEATURE_STEAL_TIME (bit 5); `no-steal-acc`
 * only turns off the scheduler's runqueue accounting.
 *
 * @example
 * ```ts
 * import { decideStealTime, type KvmGuestInfo } from "@pvkit/guest";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 5, hints: 0, possibleCpus: 2,
 *   mwait: false,
 * };
 * console.log(decideStealTime(info, { noStealAcc: true }).reason);
 * ```
 */
export function decideStealTime(
  info: KvmGuestInfo | undefined,
  switches: StealTimeSwitches = {},
): FeatureDecision {
  const feature = "steal-time";
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  if (!stealTimeSupported(info)) {
    return { feature, used: false, reason: "no KVM_FEATURE_STEAL_TIME (bit 5)" };
  }
  // [G] activate_jump_labels: steal_acc only gates paravirt_steal_rq_enabled.
  return {
    feature,
    used: true,
    reason: switches.noStealAcc
      ? "KVM_FEATURE_STEAL_TIME; runqueue steal accounting off (no-steal-acc)"
      : "KVM_FEATURE_STEAL_TIME; also installs vcpu_is_preempted",
  };
}

/**
 * The steal-time predicate (Linux's `has_steal_clock`): KVM_FEATURE_STEAL_TIME (bit 5).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, stealTimeSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 0, hints: 0, possibleCpus: 2, mwait: false,
 * };
 * assertEquals(stealTimeSupported(info), false);
 * ```
 */
export function stealTimeSupported(info: KvmGuestInfo | undefined): boolean {
  // [G] kvm_guest_init: has_steal_clock = kvm_para_has_feature(KVM_FEATURE_STEAL_TIME).
  return kvmParaHasFeature(info, KVM_FEATURE_STEAL_TIME);
}

/**
 * Linux's vcpu_is_preempted on a steal-time record. The x86-64 version (hand-written asm)
 * tests the whole byte (`preempted != 0`); the 32-bit C version tests KVM_VCPU_PREEMPTED.
 *
 * @example
 * ```ts
 * import { vcpuIsPreempted } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(vcpuIsPreempted({ preempted: 0x02 }), true); // x86-64: any bit
 * assertEquals(vcpuIsPreempted({ preempted: 0x02 }, false), false); // 32-bit: bit 0 only
 * ```
 */
export function vcpuIsPreempted(
  record: Pick<KvmStealTime, "preempted">,
  longMode = true,
): boolean {
  // [G] __raw_callee_save___kvm_vcpu_is_preempted: cmpb $0; __kvm_vcpu_is_preempted: & 1.
  return longMode ? (record.preempted & 0xff) !== 0 : (record.preempted & KVM_VCPU_PREEMPTED) !== 0;
}

/**
 * kvm_steal_clock on the record at `gpa`: read `steal`, retrying while the version is odd
 * or changed. Linux spins forever; this gives up after `maxAttempts` with a
 * {@linkcode PvkitError} `"steal-time-retry-limit"`.
 *
 * @example
 * ```ts
 * import { readStealClock } from "@pvkit/guest";
 * import { accumulateStealTime } from "@pvkit/abi";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * accumulateStealTime(mem, 0x40n, 1234n); // the host
 * assertEquals(readStealClock(mem, 0x40n), 1234n);
 * ```
 */
export function readStealClock(mem: GuestMemory, gpa: Gpa, maxAttempts = 1000): bigint {
  const r = seqVersionedRead(
    mem,
    gpa + BigInt(KVM_STEAL_TIME_OFFSETS.version),
    () => mem.readU64(gpa + BigInt(KVM_STEAL_TIME_OFFSETS.steal)),
    maxAttempts,
  );
  if (r.kind === "ok") return r.value;
  throw new PvkitError(
    "steal-time-retry-limit",
    `steal time at 0x${gpa.toString(16)}: gave up after ${r.attempts} reads that all saw ` +
      `an odd or changing version (last ${r.version})`,
    "the host must finish its update with an even version",
  );
}

/**
 * How to build a {@linkcode StealTime}.
 *
 * @example
 * ```ts
 * import type { StealTimeOptions } from "@pvkit/guest";
 * const opts: StealTimeOptions = { warnings: [] };
 * console.log(opts.warnings?.length);
 * ```
 */
export interface StealTimeOptions {
  /** Where to collect warnings (a WRMSR that raised #GP). Default: a new array. */
  readonly warnings?: string[];
}

/**
 * Steal time for one guest: each vCPU registers its own 64-byte record; any vCPU may read
 * any other's (kvm_steal_clock and vcpu_is_preempted take a CPU number).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, ScriptedGuestCpu, StealTime } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 5, hints: 0, possibleCpus: 2,
 *   mwait: false,
 * };
 * const cpu = new ScriptedGuestCpu();
 * const steal = new StealTime(info);
 * steal.enable(cpu, 0x2000n);
 * assertEquals(cpu.msrWrites, [{ msr: 0x4b564d03, value: 0x2001n }]);
 * cpu.memory.writeU8(0x2010n, 1); // the host marks vCPU 0 preempted
 * assertEquals(steal.isPreempted(cpu, 0), true);
 * ```
 */
export class StealTime {
  /** True when KVM_FEATURE_STEAL_TIME is present (Linux's `has_steal_clock`). */
  readonly active: boolean;
  /** Warnings collected. */
  readonly warnings: string[];
  readonly #records = new Map<number, Gpa>();

  /** Reads the predicate from `info`. */
  constructor(info: KvmGuestInfo | undefined, options: StealTimeOptions = {}) {
    this.active = stealTimeSupported(info);
    this.warnings = options.warnings ?? [];
  }

  /** The record GPA registered by vCPU `index`, if any. */
  recordGpa(index: number): Gpa | undefined {
    return this.#records.get(index);
  }

  /**
   * kvm_register_steal_time on `cpu`: zero the 64-byte record at `gpa` (the guest must), then
   * WRMSR(0x4b564d03, `gpa` | 1). Returns false and does nothing without bit 5.
   *
   * Throws {@linkcode PvkitError} `"misaligned-steal-time"` unless `gpa` is 64-byte aligned
   * (the MSR keeps only bits 63:6), and `GuestMemoryError` when the record is not in RAM.
   */
  enable(cpu: GuestCpu, gpa: Gpa): boolean {
    if (!this.active) return false;
    if (gpa % BigInt(KVM_STEAL_TIME_ALIGN) !== 0n) {
      throw new PvkitError(
        "misaligned-steal-time",
        `the steal-time record at 0x${gpa.toString(16)} is not 64-byte aligned`,
        "place kvm_steal_time at a multiple of 64 (Linux uses __aligned(64))",
      );
    }
    cpu.memory.writeBytes(gpa, new Uint8Array(KVM_STEAL_TIME_SIZE));
    this.#records.set(cpu.index, gpa);
    // [G] kvm_register_steal_time: wrmsrq(MSR_KVM_STEAL_TIME, pa | KVM_MSR_ENABLED).
    wrmsrUnchecked(cpu, MSR_KVM_STEAL_TIME, gpa | KVM_MSR_ENABLED, this.warnings);
    return true;
  }

  /** kvm_disable_steal_time on `cpu`: WRMSR(0x4b564d03, 0) when bit 5 is present. */
  disable(cpu: GuestCpu): void {
    // [G] kvm_disable_steal_time: if (!has_steal_clock) return; wrmsr(MSR_KVM_STEAL_TIME, 0).
    if (!this.active) return;
    wrmsrUnchecked(cpu, MSR_KVM_STEAL_TIME, 0n, this.warnings);
  }

  /**
   * kvm_steal_clock(`target`), read from `cpu`: the target vCPU's accumulated steal in ns.
   * Throws {@linkcode PvkitError} `"steal-time-not-registered"` if it never registered.
   */
  steal(cpu: GuestCpu, target: number = cpu.index): bigint {
    return readStealClock(cpu.memory, this.#require(target));
  }

  /**
   * vcpu_is_preempted(`target`), read from `cpu`: false when steal time is off or the target
   * never registered (Linux's record is then all zeros).
   */
  isPreempted(cpu: GuestCpu, target: number): boolean {
    const gpa = this.#records.get(target);
    if (!this.active || gpa === undefined) return false;
    const preempted = cpu.memory.readU8(gpa + BigInt(KVM_STEAL_TIME_OFFSETS.preempted));
    return vcpuIsPreempted({ preempted }, cpu.longMode);
  }

  #require(target: number): Gpa {
    const gpa = this.#records.get(target);
    if (gpa !== undefined) return gpa;
    throw new PvkitError(
      "steal-time-not-registered",
      `vCPU ${target} has no steal-time record registered`,
      this.active ? "call enable(cpu, gpa) on that vCPU first" : "steal time is off (no bit 5)",
    );
  }
}
