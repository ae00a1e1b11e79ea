/**
 * PV sched yield (Linux's kvm_smp_send_call_func_ipi): after sending call-function IPIs,
 * donate this vCPU's time slice to the first target that is busy but preempted, so it runs
 * the function sooner.
 *
 * Source: spec §5 (SCHED_YIELD) and §6 ([G] kvm_smp_send_call_func_ipi,
 * pv_sched_yield_supported).
 *
 * @module
 */

import { KVM_FEATURE_PV_SCHED_YIELD, KVM_HC_SCHED_YIELD, KVM_STEAL_TIME_OFFSETS } from "@pvkit/abi";
import type { Gpa } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import { decidePreemptionAware } from "./_preemption_aware.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import type { KvmGuestInfo } from "./kvm_detect.ts";
import { CALL_FUNCTION_VECTOR, type IpiSender, nativeIpiSender } from "./pv_ipi.ts";
import { vcpuIsPreempted } from "./steal_time.ts";

/**
 * Explains pv_sched_yield_supported, checking in Linux's order: PV_SCHED_YIELD (bit 13), no
 * REALTIME hint, STEAL_TIME (bit 5), no MWAIT, more than one possible CPU.
 *
 * @example
 * ```ts
 * import { decidePvSchedYield, type KvmGuestInfo } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: (1 << 13) | (1 << 5), hints: 0,
 *   possibleCpus: 4, mwait: false,
 * };
 * assertEquals(decidePvSchedYield(info).used, true);
 * ```
 */
export function decidePvSchedYield(info: KvmGuestInfo | undefined): FeatureDecision {
  // [G] pv_sched_yield_supported: the conditions, in the order Linux tests them.
  return decidePreemptionAware(
    info,
    "pv-sched-yield",
    KVM_FEATURE_PV_SCHED_YIELD,
    "KVM_FEATURE_PV_SCHED_YIELD",
    "setup PV sched yield",
  );
}

/**
 * The PV sched yield predicate: bit 13 && bit 5 && !REALTIME && !MWAIT && possible CPUs
 * != 1.
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, pvSchedYieldSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: (1 << 13) | (1 << 5), hints: 1,
 *   possibleCpus: 4, mwait: false,
 * };
 * assertEquals(pvSchedYieldSupported(info), false); // REALTIME
 * ```
 */
export function pvSchedYieldSupported(info: KvmGuestInfo | undefined): boolean {
  return decidePvSchedYield(info).used;
}

/**
 * One target of a call-function IPI: its APIC ID, its steal-time record, and whether the
 * guest scheduler sees it idle (Linux's `idle_cpu(cpu)`).
 *
 * @example
 * ```ts
 * import type { CallFunctionTarget } from "@pvkit/guest";
 * const t: CallFunctionTarget = { apicId: 3, stealGpa: 0x20c0n, idle: false };
 * console.log(t.idle);
 * ```
 */
export interface CallFunctionTarget {
  /** The target's APIC ID. */
  readonly apicId: number;
  /** The target's kvm_steal_time record. */
  readonly stealGpa: Gpa;
  /** True when the target runs its idle task. */
  readonly idle: boolean;
}

/**
 * What one {@linkcode sendCallFunctionIpi} did.
 *
 * @example
 * ```ts
 * import type { CallFunctionResult } from "@pvkit/guest";
 * const r: CallFunctionResult = { ipis: [1, 2], yieldedTo: 2, ret: 0n };
 * console.log(r.yieldedTo);
 * ```
 */
export interface CallFunctionResult {
  /** APIC IDs the call-function IPI went to. */
  readonly ipis: readonly number[];
  /** The APIC ID passed to SCHED_YIELD, if one was issued. */
  readonly yieldedTo?: number;
  /** RAX of the SCHED_YIELD hypercall, if one was issued. */
  readonly ret?: bigint;
}

/**
 * kvm_smp_send_call_func_ipi from `cpu`: send the call-function IPIs (natively, one ICR
 * write each, unless `sendIpis` routes them elsewhere), then issue SCHED_YIELD(apicid) for
 * the first target that is not idle and is preempted (vcpu_is_preempted on its steal-time
 * record), and stop.
 *
 * @example
 * ```ts
 * import { ScriptedGuestCpu, sendCallFunctionIpi } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu();
 * cpu.memory.writeU8(0x2050n, 1); // APIC 1 is preempted but idle
 * cpu.memory.writeU8(0x2090n, 1); // APIC 2 is preempted and busy
 * const r = sendCallFunctionIpi(cpu, [
 *   { apicId: 1, stealGpa: 0x2040n, idle: true },
 *   { apicId: 2, stealGpa: 0x2080n, idle: false },
 * ]);
 * assertEquals(r.yieldedTo, 2);
 * assertEquals(cpu.hypercalls[0].args[0], 2n);
 * ```
 */
export function sendCallFunctionIpi(
  cpu: GuestCpu,
  targets: readonly CallFunctionTarget[],
  sendIpis: IpiSender = nativeIpiSender,
): CallFunctionResult {
  const ids = targets.map((t) => t.apicId);
  // [G] native_send_call_func_ipi(mask) first.
  if (ids.length > 0) sendIpis(cpu, ids, CALL_FUNCTION_VECTOR);
  // [G] for_each_cpu: if (!idle_cpu(cpu) && vcpu_is_preempted(cpu)) { SCHED_YIELD; break; }
  for (const t of targets) {
    if (t.idle) continue;
    const preempted = cpu.memory.readU8(t.stealGpa + BigInt(KVM_STEAL_TIME_OFFSETS.preempted));
    if (vcpuIsPreempted({ preempted }, cpu.longMode)) {
      const ret = cpu.hypercall(KVM_HC_SCHED_YIELD, BigInt(t.apicId));
      return { ipis: ids, yieldedTo: t.apicId, ret };
    }
  }
  return { ipis: ids };
}
