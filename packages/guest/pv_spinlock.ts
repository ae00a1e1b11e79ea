/**
 * PV spinlocks (Linux's kvm_spinlock_init, kvm_kick_cpu, kvm_wait): a waiter halts instead
 * of spinning while the lock byte is unchanged, and the unlocker kicks it awake with the
 * KICK_CPU hypercall.
 *
 * Source: spec §5 (KICK_CPU and its wake semantics) and §6 ([G] kvm.c).
 *
 * @module
 */

import { KVM_FEATURE_PV_UNHALT, KVM_HC_KICK_CPU, KVM_HINTS_REALTIME } from "@pvkit/abi";
import type { Gpa, GuestMemory } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestBlock, GuestCpu } from "./guest_cpu.ts";
import { type KvmGuestInfo, kvmParaHasFeature, kvmParaHasHint } from "./kvm_detect.ts";

/**
 * The `nopvspin` command-line switch.
 *
 * @example
 * ```ts
 * import type { PvSpinlockSwitches } from "@pvkit/guest";
 * const s: PvSpinlockSwitches = { nopvspin: true };
 * console.log(s.nopvspin);
 * ```
 */
export interface PvSpinlockSwitches {
  /** `nopvspin` on the kernel command line. */
  readonly nopvspin?: boolean;
}

/**
 * Explains kvm_spinlock_init's choice, checking in Linux's order: PV_UNHALT (bit 7), then
 * the REALTIME hint, then a single possible CPU, then `nopvspin`.
 *
 * @example
 * ```ts
 * import { decidePvSpinlock, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 7, hints: 1, possibleCpus: 4,
 *   mwait: false,
 * };
 * assertEquals(
 *   decidePvSpinlock(info).reason,
 *   "PV spinlocks disabled with KVM_HINTS_REALTIME hints",
 * );
 * ```
 */
export function decidePvSpinlock(
  info: KvmGuestInfo | undefined,
  switches: PvSpinlockSwitches = {},
): FeatureDecision {
  const feature = "pv-spinlock";
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  // [G] kvm_spinlock_init: the checks and messages, in order.
  if (!kvmParaHasFeature(info, KVM_FEATURE_PV_UNHALT)) {
    return { feature, used: false, reason: "PV spinlocks disabled, no host support" };
  }
  if (kvmParaHasHint(info, KVM_HINTS_REALTIME)) {
    return { feature, used: false, reason: "PV spinlocks disabled with KVM_HINTS_REALTIME hints" };
  }
  if (info.possibleCpus === 1) {
    return { feature, used: false, reason: "PV spinlocks disabled, single CPU" };
  }
  if (switches.nopvspin) {
    return {
      feature,
      used: false,
      reason: 'PV spinlocks disabled, forced by "nopvspin" parameter',
    };
  }
  return { feature, used: true, reason: "PV spinlocks enabled" };
}

/**
 * The PV spinlock predicate: bit 7 && !REALTIME && possible CPUs > 1 && !nopvspin.
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, pvSpinlockSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 7, hints: 0, possibleCpus: 2,
 *   mwait: false,
 * };
 * assertEquals(pvSpinlockSupported(info), true);
 * assertEquals(pvSpinlockSupported(info, { nopvspin: true }), false);
 * ```
 */
export function pvSpinlockSupported(
  info: KvmGuestInfo | undefined,
  switches: PvSpinlockSwitches = {},
): boolean {
  return decidePvSpinlock(info, switches).used;
}

/**
 * kvm_kick_cpu: KICK_CPU(flags = 0, `targetApicId`) from `cpu`. Returns RAX (Linux ignores
 * it; KVM returns 0 even for a missing APIC).
 *
 * @example
 * ```ts
 * import { kick, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu();
 * kick(cpu, 3);
 * assertEquals(cpu.hypercalls[0].args, [0n, 3n, 0n, 0n]);
 * ```
 */
export function kick(cpu: GuestCpu, targetApicId: number): bigint {
  // [G] kvm_kick_cpu: kvm_hypercall2(KVM_HC_KICK_CPU, flags = 0, apicid).
  return cpu.hypercall(KVM_HC_KICK_CPU, 0n, BigInt(targetApicId));
}

/**
 * Where {@linkcode wait} runs.
 *
 * @example
 * ```ts
 * import type { PvWaitOptions } from "@pvkit/guest";
 * const opts: PvWaitOptions = { inNmi: true };
 * console.log(opts.inNmi);
 * ```
 */
export interface PvWaitOptions {
  /** True inside an NMI handler, where kvm_wait returns at once (it must not halt). */
  readonly inNmi?: boolean;
}

/**
 * kvm_wait as a generator: while the byte at `gpa` still holds `expected`, yield
 * `{ kind: "hlt" }` (the scheduler halts the vCPU until a kick or an interrupt, then resumes
 * the generator); return the number of halts once the byte has changed.
 *
 * Linux's kvm_wait re-reads the byte right before halting (with interrupts off, so a kick
 * cannot be lost) and halts once; its caller, the qspinlock slow path, loops. The generator
 * folds that loop: each resumption re-reads the byte before halting again.
 *
 * @example
 * ```ts
 * import { wait } from "@pvkit/guest";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(64);
 * mem.writeU8(0x10n, 1); // the lock byte: still the value we wait on
 * const waiter = wait(mem, 0x10n, 1);
 * assertEquals(waiter.next().value, { kind: "hlt" });
 * mem.writeU8(0x10n, 0); // the holder unlocks (then kicks us)
 * assertEquals(waiter.next(), { done: true, value: 1 });
 * ```
 */
export function* wait(
  mem: GuestMemory,
  gpa: Gpa,
  expected: number,
  options: PvWaitOptions = {},
): Generator<GuestBlock, number, void> {
  // [G] kvm_wait: if (in_nmi()) return.
  if (options.inNmi) return 0;
  let halts = 0;
  // [G] halt only if READ_ONCE(*ptr) == val, else return at once.
  while (mem.readU8(gpa) === (expected & 0xff)) {
    halts++;
    yield { kind: "hlt" };
  }
  return halts;
}

/**
 * PV spinlock operations for one guest: {@linkcode kick} and {@linkcode wait} when the
 * predicate holds, otherwise the native qspinlock (which never kicks or halts).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, PvSpinlock, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 7, hints: 0, possibleCpus: 2,
 *   mwait: false,
 * };
 * const lock = new PvSpinlock(info);
 * const cpu = new ScriptedGuestCpu();
 * assertEquals(lock.active, true);
 * lock.kick(cpu, 1);
 * assertEquals(cpu.hypercalls.length, 1);
 * ```
 */
export class PvSpinlock {
  /** The decision kvm_spinlock_init made. */
  readonly decision: FeatureDecision;

  /** Decides from `info` and the switches. */
  constructor(info: KvmGuestInfo | undefined, switches: PvSpinlockSwitches = {}) {
    this.decision = decidePvSpinlock(info, switches);
  }

  /** True when PV spinlocks are in use. */
  get active(): boolean {
    return this.decision.used;
  }

  /** pv_ops.lock.kick: KICK_CPU when active; `undefined` (no exit) otherwise. */
  kick(cpu: GuestCpu, targetApicId: number): bigint | undefined {
    return this.active ? kick(cpu, targetApicId) : undefined;
  }

  /** pv_ops.lock.wait: {@linkcode wait} when active; returns at once (no halt) otherwise. */
  *wait(
    mem: GuestMemory,
    gpa: Gpa,
    expected: number,
    options: PvWaitOptions = {},
  ): Generator<GuestBlock, number, void> {
    if (!this.active) return 0;
    return yield* wait(mem, gpa, expected, options);
  }
}
