/**
 * PV TLB flush (Linux's kvm_flush_tlb_multi): a remote flush skips the IPI to a vCPU the
 * host has preempted, asking the host instead (through the steal-time `preempted` byte) to
 * flush that vCPU's TLB before it next runs.
 *
 * Source: spec §3 ("preempted byte") and §6 ([G] kvm_flush_tlb_multi,
 * pv_tlb_flush_supported).
 *
 * @module
 */

import {
  KVM_FEATURE_PV_TLB_FLUSH,
  KVM_STEAL_TIME_OFFSETS,
  KVM_VCPU_FLUSH_TLB,
  KVM_VCPU_PREEMPTED,
} from "@pvkit/abi";
import type { Gpa } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import { decidePreemptionAware } from "./_preemption_aware.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import type { KvmGuestInfo } from "./kvm_detect.ts";
import { CALL_FUNCTION_VECTOR, type IpiSender, nativeIpiSender } from "./pv_ipi.ts";
import { cmpxchgU8 } from "./_atomic.ts";

/**
 * Explains pv_tlb_flush_supported, checking in Linux's order: PV_TLB_FLUSH (bit 9), no
 * REALTIME hint, STEAL_TIME (bit 5), no MWAIT, more than one possible CPU.
 *
 * @example
 * ```ts
 * import { decidePvTlbFlush, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 9, hints: 0, possibleCpus: 4,
 *   mwait: false,
 * };
 * assertEquals(decidePvTlbFlush(info).reason, "no KVM_FEATURE_STEAL_TIME (bit 5)");
 * ```
 */
export function decidePvTlbFlush(info: KvmGuestInfo | undefined): FeatureDecision {
  // [G] pv_tlb_flush_supported: the conditions, in the order Linux tests them.
  return decidePreemptionAware(
    info,
    "pv-tlb-flush",
    KVM_FEATURE_PV_TLB_FLUSH,
    "KVM_FEATURE_PV_TLB_FLUSH",
    "KVM setup pv remote TLB flush",
  );
}

/**
 * The PV TLB flush predicate: bit 9 && bit 5 && !REALTIME && !MWAIT && possible CPUs != 1.
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, pvTlbFlushSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: (1 << 9) | (1 << 5), hints: 0,
 *   possibleCpus: 4, mwait: false,
 * };
 * assertEquals(pvTlbFlushSupported(info), true);
 * assertEquals(pvTlbFlushSupported({ ...info, mwait: true }), false);
 * ```
 */
export function pvTlbFlushSupported(info: KvmGuestInfo | undefined): boolean {
  return decidePvTlbFlush(info).used;
}

/**
 * One CPU a TLB flush must reach: its APIC ID and the GPA of its steal-time record.
 *
 * @example
 * ```ts
 * import type { TlbFlushTarget } from "@pvkit/guest";
 * const t: TlbFlushTarget = { apicId: 2, stealGpa: 0x2080n };
 * console.log(t.apicId);
 * ```
 */
export interface TlbFlushTarget {
  /** The target's APIC ID. */
  readonly apicId: number;
  /** The target's kvm_steal_time record. */
  readonly stealGpa: Gpa;
}

/**
 * What one {@linkcode flushTlbMulti} did.
 *
 * @example
 * ```ts
 * import type { TlbFlushResult } from "@pvkit/guest";
 * const r: TlbFlushResult = { ipis: [2], skipped: [1], localFlush: true };
 * console.log(r.skipped);
 * ```
 */
export interface TlbFlushResult {
  /** APIC IDs that got a flush IPI. */
  readonly ipis: readonly number[];
  /** APIC IDs skipped: preempted, now marked KVM_VCPU_FLUSH_TLB for the host. */
  readonly skipped: readonly number[];
  /** True when the sender was a target (it flushes itself, no IPI). */
  readonly localFlush: boolean;
}

/**
 * The native remote flush: IPI every target except the sender (which flushes locally).
 *
 * @example
 * ```ts
 * import { nativeFlushTlbMulti, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu({ apicId: 0 });
 * const r = nativeFlushTlbMulti(cpu, [0, 1, 2]);
 * assertEquals([r.ipis, r.localFlush], [[1, 2], true]);
 * ```
 */
export function nativeFlushTlbMulti(
  cpu: GuestCpu,
  apicIds: readonly number[],
  sendIpis: IpiSender = nativeIpiSender,
): TlbFlushResult {
  const self = cpu.apicId();
  const remote = apicIds.filter((id) => id !== self);
  if (remote.length > 0) sendIpis(cpu, remote, CALL_FUNCTION_VECTOR);
  return { ipis: remote, skipped: [], localFlush: remote.length !== apicIds.length };
}

/**
 * kvm_flush_tlb_multi from `cpu`: for each target read its `preempted` byte; if it has
 * KVM_VCPU_PREEMPTED and a cmpxchg to `preempted | KVM_VCPU_FLUSH_TLB` succeeds, drop the
 * target (the host flushes it at its next entry); flush the rest natively.
 *
 * The cmpxchg is a check-then-write on guest memory, atomic in this model because one vCPU
 * (or the host) runs at a time.
 *
 * @example
 * ```ts
 * import { flushTlbMulti, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu({ apicId: 0 });
 * cpu.memory.writeU8(0x2050n, 1); // vCPU 1 (steal record 0x2040) is preempted
 * const r = flushTlbMulti(cpu, [
 *   { apicId: 1, stealGpa: 0x2040n },
 *   { apicId: 2, stealGpa: 0x2080n },
 * ]);
 * assertEquals([r.skipped, r.ipis], [[1], [2]]);
 * assertEquals(cpu.memory.readU8(0x2050n), 3); // PREEMPTED | FLUSH_TLB
 * ```
 */
export function flushTlbMulti(
  cpu: GuestCpu,
  targets: readonly TlbFlushTarget[],
  sendIpis: IpiSender = nativeIpiSender,
): TlbFlushResult {
  const flushmask: number[] = [];
  const skipped: number[] = [];
  for (const t of targets) {
    // [G] state = READ_ONCE(src->preempted); the local vCPU is never preempted, so it stays.
    const at = t.stealGpa + BigInt(KVM_STEAL_TIME_OFFSETS.preempted);
    const state = cpu.memory.readU8(at);
    if (
      (state & KVM_VCPU_PREEMPTED) !== 0 &&
      cmpxchgU8(cpu.memory, at, state, state | KVM_VCPU_FLUSH_TLB)
    ) {
      skipped.push(t.apicId); // [G] __cpumask_clear_cpu(cpu, flushmask)
    } else {
      flushmask.push(t.apicId);
    }
  }
  // [G] native_flush_tlb_multi(flushmask, info).
  const native = nativeFlushTlbMulti(cpu, flushmask, sendIpis);
  return { ipis: native.ipis, skipped, localFlush: native.localFlush };
}
