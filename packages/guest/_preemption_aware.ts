// The shape Linux's pv_tlb_flush_supported and pv_sched_yield_supported share ([G] kvm.c):
// the feature bit, no REALTIME hint, STEAL_TIME (the guest reads other vCPUs' preempted
// bytes), no MWAIT, and more than one possible CPU, tested in that order.

import { KVM_FEATURE_STEAL_TIME, KVM_HINTS_REALTIME } from "@pvkit/abi";
import type { FeatureDecision } from "./feature_decision.ts";
import { type KvmGuestInfo, kvmParaHasFeature, kvmParaHasHint } from "./kvm_detect.ts";

/** Decides a feature that needs the steal-time record's preempted bytes. */
export function decidePreemptionAware(
  info: KvmGuestInfo | undefined,
  feature: FeatureDecision["feature"],
  bit: number,
  bitName: string,
  usedReason: string,
): FeatureDecision {
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  if (!kvmParaHasFeature(info, bit)) {
    return { feature, used: false, reason: `no ${bitName} (bit ${bit})` };
  }
  if (kvmParaHasHint(info, KVM_HINTS_REALTIME)) {
    return { feature, used: false, reason: "KVM_HINTS_REALTIME: vCPUs are never preempted" };
  }
  if (!kvmParaHasFeature(info, KVM_FEATURE_STEAL_TIME)) {
    return { feature, used: false, reason: "no KVM_FEATURE_STEAL_TIME (bit 5)" };
  }
  if (info.mwait) return { feature, used: false, reason: "the CPU has MWAIT" };
  if (info.possibleCpus === 1) return { feature, used: false, reason: "single CPU" };
  return { feature, used: true, reason: usedReason };
}
