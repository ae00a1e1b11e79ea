/**
 * The async page fault guest driver (Linux's kvm_guest_cpu_init async-PF part,
 * __kvm_handle_async_pf, sysvec_kvm_asyncpf_interrupt and the sleeper table): 'page not
 * present' arrives as a #PF with a token and puts the faulting task to sleep; 'page ready'
 * arrives as an interrupt carrying the token and wakes it.
 *
 * Source: spec §3 (kvm_vcpu_pv_apf_data) and §6 ("Async PF" guest side, token, 'page
 * ready') ([G] kvm.c).
 *
 * @module
 */

import {
  KVM_ASYNC_PF_DELIVERY_AS_INT,
  KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT,
  KVM_ASYNC_PF_ENABLED,
  KVM_ASYNC_PF_WAKE_ALL_TOKEN,
  KVM_FEATURE_ASYNC_PF_INT,
  KVM_FEATURE_ASYNC_PF_VMEXIT,
  KVM_PV_REASON_PAGE_NOT_PRESENT,
  KVM_VCPU_PV_APF_DATA_ALIGN,
  KVM_VCPU_PV_APF_DATA_OFFSETS,
  KVM_VCPU_PV_APF_DATA_SIZE,
  LINUX_HYPERVISOR_CALLBACK_VECTOR,
  MSR_KVM_ASYNC_PF_ACK,
  MSR_KVM_ASYNC_PF_EN,
  MSR_KVM_ASYNC_PF_INT,
} from "@pvkit/abi";
import { type Gpa, GuestMemoryError, PvkitError } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import { type KvmGuestInfo, kvmParaHasFeature } from "./kvm_detect.ts";
import { wrmsrUnchecked } from "./_msr.ts";

/**
 * The `no-kvmapf` command-line switch.
 *
 * @example
 * ```ts
 * import type { AsyncPfSwitches } from "@pvkit/guest";
 * const s: AsyncPfSwitches = { noKvmapf: true };
 * console.log(s.noKvmapf);
 * ```
 */
export interface AsyncPfSwitches {
  /** `no-kvmapf` on the kernel command line. */
  readonly noKvmapf?: boolean;
}

/**
 * Explains the async PF choice: KVM_FEATURE_ASYNC_PF_INT (bit 14) and no `no-kvmapf`. Bit 4
 * alone is not used by a modern guest.
 *
 * @example
 * ```ts
 * import { decideAsyncPf, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 4, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * assertEquals(decideAsyncPf(info).used, false); // bit 4 without bit 14
 * ```
 */
export function decideAsyncPf(
  info: KvmGuestInfo | undefined,
  switches: AsyncPfSwitches = {},
): FeatureDecision {
  const feature = "async-pf";
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  // [G] kvm_guest_cpu_init: kvm_para_has_feature(KVM_FEATURE_ASYNC_PF_INT) && kvmapf.
  if (!kvmParaHasFeature(info, KVM_FEATURE_ASYNC_PF_INT)) {
    return {
      feature,
      used: false,
      reason: "no KVM_FEATURE_ASYNC_PF_INT (bit 14); interrupt-less async PF is not used",
    };
  }
  if (switches.noKvmapf) {
    return { feature, used: false, reason: "disabled by the no-kvmapf parameter" };
  }
  const vmexit = kvmParaHasFeature(info, KVM_FEATURE_ASYNC_PF_VMEXIT);
  return {
    feature,
    used: true,
    reason: `page ready as interrupt 0x${LINUX_HYPERVISOR_CALLBACK_VECTOR.toString(16)}` +
      (vmexit ? ", #PF vmexit for nested guests (bit 10)" : ""),
  };
}

/**
 * The async PF predicate: bit 14 && !no-kvmapf.
 *
 * @example
 * ```ts
 * import { asyncPfSupported, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 14, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * assertEquals(asyncPfSupported(info), true);
 * assertEquals(asyncPfSupported(info, { noKvmapf: true }), false);
 * ```
 */
export function asyncPfSupported(
  info: KvmGuestInfo | undefined,
  switches: AsyncPfSwitches = {},
): boolean {
  return decideAsyncPf(info, switches).used;
}

/**
 * The value Linux writes to MSR_KVM_ASYNC_PF_EN: the area's GPA | ENABLED | DELIVERY_AS_INT,
 * plus DELIVERY_AS_PF_VMEXIT when bit 10 is present (never SEND_ALWAYS).
 *
 * @example
 * ```ts
 * import { asyncPfEnableValue, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: (1 << 14) | (1 << 10), hints: 0,
 *   possibleCpus: 1, mwait: false,
 * };
 * assertEquals(asyncPfEnableValue(info, 0x4000n), 0x400dn);
 * ```
 */
export function asyncPfEnableValue(info: KvmGuestInfo | undefined, gpa: Gpa): bigint {
  // [G] pa |= KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT; (+ AS_PF_VMEXIT if bit 10)
  let v = gpa | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT;
  if (kvmParaHasFeature(info, KVM_FEATURE_ASYNC_PF_VMEXIT)) v |= KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT;
  return v;
}

/**
 * Where a #PF hit, for the async-PF checks: Linux panics on an async #PF with interrupts
 * off or in kernel mode.
 *
 * @example
 * ```ts
 * import type { PageFaultContext } from "@pvkit/guest";
 * const ctx: PageFaultContext = { userMode: true, interruptsEnabled: true };
 * console.log(ctx);
 * ```
 */
export interface PageFaultContext {
  /** The fault hit user mode. Default true. */
  readonly userMode?: boolean;
  /** EFLAGS.IF was set. Default true. */
  readonly interruptsEnabled?: boolean;
}

/**
 * What the guest's #PF entry did with a fault.
 *
 * - `not-async`: flags were 0 (or async PF is off here): an ordinary page fault.
 * - `sleep`: 'page not present': the task now sleeps on `token`.
 * - `already-ready`: 'page ready' for `token` came first; the task does not sleep.
 * - `unexpected-flags`: flags other than PAGE_NOT_PRESENT (Linux WARNs).
 * - `panic`: the host broke the protocol (interrupts off, or kernel mode).
 *
 * @example
 * ```ts
 * import type { AsyncPfFaultOutcome } from "@pvkit/guest";
 * const o: AsyncPfFaultOutcome = { kind: "sleep", token: 0x1001 };
 * console.log(o.kind);
 * ```
 */
export type AsyncPfFaultOutcome =
  | { readonly kind: "not-async" }
  | { readonly kind: "sleep"; readonly token: number }
  | { readonly kind: "already-ready"; readonly token: number }
  | { readonly kind: "unexpected-flags"; readonly flags: number }
  | { readonly kind: "panic"; readonly reason: string };

/**
 * What one 'page ready' interrupt did.
 *
 * @example
 * ```ts
 * import type { PageReadyOutcome } from "@pvkit/guest";
 * const o: PageReadyOutcome = { token: 0x1001, woken: [0x1001], dummyQueued: false };
 * console.log(o.woken);
 * ```
 */
export interface PageReadyOutcome {
  /** The token read from the area (`undefined` when async PF is off on this vCPU). */
  readonly token: number | undefined;
  /** Tokens of the sleeping tasks woken. */
  readonly woken: readonly number[];
  /** True when no task waited yet, so a placeholder was queued for the coming #PF. */
  readonly dummyQueued: boolean;
}

/**
 * One entry of the guest's sleeper table: a sleeping task, or a placeholder for a 'page
 * ready' that arrived before its 'page not present'.
 *
 * @example
 * ```ts
 * import type { AsyncPfSleeper } from "@pvkit/guest";
 * const s: AsyncPfSleeper = { token: 0x1001, cpu: 0, dummy: false };
 * console.log(s.token);
 * ```
 */
export interface AsyncPfSleeper {
  /** The token the entry waits on. */
  readonly token: number;
  /** The vCPU that queued it. */
  readonly cpu: number;
  /** True for a placeholder (no task sleeps on it). */
  readonly dummy: boolean;
}

/**
 * How to build an {@linkcode AsyncPf}.
 *
 * @example
 * ```ts
 * import type { AsyncPfOptions } from "@pvkit/guest";
 * const opts: AsyncPfOptions = { noKvmapf: false, eoi: (cpu) => cpu.apicEoi() };
 * console.log(typeof opts.eoi);
 * ```
 */
export interface AsyncPfOptions extends AsyncPfSwitches {
  /** Where to collect warnings. Default: a new array. */
  readonly warnings?: string[];
  /** The EOI the interrupt handler uses (it may be PV EOI). Default: a native EOI. */
  readonly eoi?: (cpu: GuestCpu) => void;
}

/**
 * Async PF for one guest: per-vCPU areas and `enabled` flags, and one sleeper table shared
 * by all vCPUs (Linux hashes it by token).
 *
 * @example
 * ```ts
 * import { AsyncPf, type KvmGuestInfo, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 14, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * const cpu = new ScriptedGuestCpu();
 * const apf = new AsyncPf(info);
 * apf.enable(cpu, 0x4000n);
 * cpu.memory.writeU32(0x4000n, 1); // host: 'page not present', #PF with CR2 = 0x1001
 * assertEquals(apf.onPageFault(cpu, 0x1001), { kind: "sleep", token: 0x1001 });
 * cpu.memory.writeU32(0x4004n, 0x1001); // host: 'page ready' interrupt
 * assertEquals(apf.onPageReadyInterrupt(cpu).woken, [0x1001]);
 * assertEquals(cpu.msrWrites.at(-1), { msr: 0x4b564d07, value: 1n }); // ACK
 * ```
 */
export class AsyncPf {
  /** True when the predicate holds. */
  readonly active: boolean;
  /** Warnings collected. */
  readonly warnings: string[];
  readonly #info: KvmGuestInfo | undefined;
  readonly #eoi: (cpu: GuestCpu) => void;
  /** Per vCPU: the area's GPA while enabled (Linux's apf_reason.enabled). */
  readonly #areas = new Map<number, Gpa>();
  readonly #sleepers: AsyncPfSleeper[] = [];

  /** Decides from `info` and the switches. */
  constructor(info: KvmGuestInfo | undefined, options: AsyncPfOptions = {}) {
    this.#info = info;
    this.active = asyncPfSupported(info, options);
    this.warnings = options.warnings ?? [];
    this.#eoi = options.eoi ?? ((cpu) => cpu.apicEoi());
  }

  /** True while async PF is enabled on vCPU `index`. */
  isEnabled(index: number): boolean {
    return this.#areas.has(index);
  }

  /** The sleeper table: sleeping tasks and placeholders, oldest first. */
  get sleepers(): readonly AsyncPfSleeper[] {
    return [...this.#sleepers];
  }

  /**
   * kvm_guest_cpu_init's async-PF part on `cpu`, in Linux's order: WRMSR(0x4b564d06, 0xF3),
   * then WRMSR(0x4b564d02, {@linkcode asyncPfEnableValue}), then mark it enabled. Returns
   * false and does nothing when the predicate fails.
   *
   * Throws {@linkcode PvkitError} `"misaligned-apf-area"` unless `gpa` is 64-byte aligned
   * (bits 5:0 of the MSR are flags), and `GuestMemoryError` when the area is not in RAM.
   */
  enable(cpu: GuestCpu, gpa: Gpa): boolean {
    if (!this.active) return false;
    if (gpa % BigInt(KVM_VCPU_PV_APF_DATA_ALIGN) !== 0n) {
      throw new PvkitError(
        "misaligned-apf-area",
        `the async PF area at 0x${gpa.toString(16)} is not 64-byte aligned`,
        "place kvm_vcpu_pv_apf_data at a multiple of 64 (Linux uses __aligned(64))",
      );
    }
    if (!cpu.memory.contains(gpa, KVM_VCPU_PV_APF_DATA_SIZE)) {
      throw new GuestMemoryError(gpa, KVM_VCPU_PV_APF_DATA_SIZE, cpu.memory.size);
    }
    // [G] the vector first: writing EN first could get vector 0 injected (msr.rst).
    wrmsrUnchecked(
      cpu,
      MSR_KVM_ASYNC_PF_INT,
      BigInt(LINUX_HYPERVISOR_CALLBACK_VECTOR),
      this.warnings,
    );
    wrmsrUnchecked(cpu, MSR_KVM_ASYNC_PF_EN, asyncPfEnableValue(this.#info, gpa), this.warnings);
    this.#areas.set(cpu.index, gpa); // [G] __this_cpu_write(apf_reason.enabled, 1)
    return true;
  }

  /** kvm_pv_disable_apf on `cpu`: if enabled, WRMSR(0x4b564d02, 0) and mark it disabled. */
  disable(cpu: GuestCpu): void {
    if (!this.#areas.has(cpu.index)) return;
    wrmsrUnchecked(cpu, MSR_KVM_ASYNC_PF_EN, 0n, this.warnings);
    this.#areas.delete(cpu.index);
  }

  /**
   * The #PF entry on `cpu` with CR2 = `token` (__kvm_handle_async_pf): read and clear
   * `flags` in the area (only while enabled); 0 means an ordinary fault; PAGE_NOT_PRESENT
   * puts the task to sleep on the token, unless its 'page ready' already came.
   */
  onPageFault(cpu: GuestCpu, token: number, context: PageFaultContext = {}): AsyncPfFaultOutcome {
    // [G] kvm_read_and_reset_apf_flags: only if apf_reason.enabled.
    const gpa = this.#areas.get(cpu.index);
    if (gpa === undefined) return { kind: "not-async" };
    const at = gpa + BigInt(KVM_VCPU_PV_APF_DATA_OFFSETS.flags);
    const flags = cpu.memory.readU32(at);
    cpu.memory.writeU32(at, 0);
    if (flags === 0) return { kind: "not-async" };
    if (context.interruptsEnabled === false) {
      return { kind: "panic", reason: "Host injected async #PF in interrupt disabled region" };
    }
    if ((flags & KVM_PV_REASON_PAGE_NOT_PRESENT) === 0) {
      this.warnings.push(`Unexpected async PF flags: ${flags.toString(16)}`);
      return { kind: "unexpected-flags", flags };
    }
    if (context.userMode === false) {
      return { kind: "panic", reason: "Host injected async #PF in kernel mode" };
    }
    return this.#queueTask(cpu.index, token >>> 0);
  }

  /**
   * The 'page ready' interrupt on `cpu` (sysvec_kvm_asyncpf_interrupt): EOI; then, if
   * enabled, read the token, wake its waiter (every waiter of this vCPU for 0xFFFFFFFF),
   * write token = 0 and WRMSR(0x4b564d07, 1).
   */
  onPageReadyInterrupt(cpu: GuestCpu): PageReadyOutcome {
    this.#eoi(cpu); // [G] ack_APIC_irq() first
    const gpa = this.#areas.get(cpu.index);
    if (gpa === undefined) return { token: undefined, woken: [], dummyQueued: false };
    const at = gpa + BigInt(KVM_VCPU_PV_APF_DATA_OFFSETS.token);
    const token = cpu.memory.readU32(at);
    const outcome = this.#wake(cpu.index, token);
    cpu.memory.writeU32(at, 0); // [G] __this_cpu_write(apf_reason.token, 0)
    wrmsrUnchecked(cpu, MSR_KVM_ASYNC_PF_ACK, 1n, this.warnings);
    return { token, ...outcome };
  }

  /** apf_task_wake_all on `cpu`: remove every entry this vCPU queued; returns woken tokens. */
  wakeAll(cpu: GuestCpu): number[] {
    return this.#wakeAll(cpu.index);
  }

  #queueTask(cpu: number, token: number): AsyncPfFaultOutcome {
    // [G] kvm_async_pf_queue_task: an entry for the token means the wake came first.
    const i = this.#sleepers.findIndex((s) => s.token === token);
    if (i >= 0) {
      this.#sleepers.splice(i, 1);
      return { kind: "already-ready", token };
    }
    this.#sleepers.push({ token, cpu, dummy: false });
    return { kind: "sleep", token };
  }

  #wake(cpu: number, token: number): { woken: number[]; dummyQueued: boolean } {
    // [G] kvm_async_pf_task_wake: ~0 wakes all of this CPU's; else the one, or a dummy.
    if (token === KVM_ASYNC_PF_WAKE_ALL_TOKEN) {
      return { woken: this.#wakeAll(cpu), dummyQueued: false };
    }
    const i = this.#sleepers.findIndex((s) => s.token === token);
    if (i < 0) {
      this.#sleepers.push({ token, cpu, dummy: true });
      return { woken: [], dummyQueued: true };
    }
    const [n] = this.#sleepers.splice(i, 1);
    return { woken: n.dummy ? [] : [n.token], dummyQueued: false };
  }

  #wakeAll(cpu: number): number[] {
    // [G] apf_task_wake_all: entries with n->cpu == smp_processor_id(), dummies included.
    const woken: number[] = [];
    for (let i = this.#sleepers.length - 1; i >= 0; i--) {
      const n = this.#sleepers[i];
      if (n.cpu !== cpu) continue;
      this.#sleepers.splice(i, 1);
      if (!n.dummy) woken.unshift(n.token);
    }
    return woken;
  }
}
