/**
 * kvm-steal-time's host side, as KVM implements it (Documentation/virt/kvm/x86/msr.rst STEAL_TIME, §3
 * kvm_steal_time and "preempted byte"; [X] kvm_set_msr_common, record_steal_time,
 * kvm_steal_time_set_preempted, kvm_arch_vcpu_load/put, kvm_vcpu_reset).
 *
 * The PV TLB flush (kvm-pv-tlb-flush, CPUID bit 9) has no host code of its own: it is the
 * xchg of the preempted byte that record_steal_time does here.
 *
 * @module
 */

import {
  accumulateStealTime,
  KVM_FEATURE_PV_TLB_FLUSH,
  KVM_FEATURE_STEAL_TIME,
  KVM_MSR_ENABLED,
  KVM_STEAL_RESERVED_MASK,
  KVM_STEAL_TIME_OFFSETS,
  KVM_STEAL_TIME_SIZE,
  KVM_STEAL_VALID_BITS,
  KVM_VCPU_FLUSH_TLB,
  KVM_VCPU_PREEMPTED,
  MSR_KVM_STEAL_TIME,
} from "@pvkit/abi";
import {
  gatedMsrHook,
  MSR_GP,
  MSR_OK,
  msrValue,
  type PluginEnvironment,
  type PluginHooks,
  sharedKey,
  type VcpuContext,
} from "@pvkit/machine";

/** Per-vCPU state key (private to this plugin). */
const STATE_KEY = "kvm.steal-time";

/** vcpu->arch.st. */
interface StealTime {
  /** MSR_KVM_STEAL_TIME as last written (st.msr_val). */
  msrVal: bigint;
  /** KVM_REQ_STEAL_UPDATE: record_steal_time runs at the next entry. */
  updateRequested: boolean;
  /** run_delay at the last update (st.last_steal): 0 at creation, never reset. */
  lastSteal: bigint;
  /** The host wrote KVM_VCPU_PREEMPTED and no update has cleared it yet (st.preempted). */
  preempted: boolean;
  /** The GPA the 64-byte cache maps, set by the last successful update (st.cache). */
  cacheGpa: bigint | undefined;
}

const STEAL_TIME = sharedKey<StealTime>(STATE_KEY, () => ({
  msrVal: 0n,
  updateRequested: false,
  lastSteal: 0n,
  preempted: false,
  cacheGpa: undefined,
}));
const state = (vcpu: VcpuContext): StealTime => vcpu.shared(STEAL_TIME);

const enabled = (st: StealTime): boolean => (st.msrVal & KVM_MSR_ENABLED) !== 0n;

/**
 * record_steal_time: handle the preempted byte, then add run_delay − last_steal to the guest's
 * steal inside the version protocol (spec §3 "Steal-time writer", "preempted byte").
 */
function recordStealTime(vcpu: VcpuContext, st: StealTime): void {
  if (!enabled(st)) return;
  const gpa = st.msrVal & KVM_STEAL_VALID_BITS;
  // The GPA is only checked here: a record outside RAM silently gets no updates (spec §2).
  if (!vcpu.memory.contains(gpa, KVM_STEAL_TIME_SIZE)) {
    st.cacheGpa = undefined;
    return;
  }
  st.cacheGpa = gpa;
  const preemptedGpa = gpa + BigInt(KVM_STEAL_TIME_OFFSETS.preempted);
  if (vcpu.pvHas(KVM_FEATURE_PV_TLB_FLUSH)) {
    // xchg(preempted, 0); a FLUSH_TLB the guest set instead of an IPI means flush now.
    const old = vcpu.memory.readU8(preemptedGpa);
    vcpu.memory.writeU8(preemptedGpa, 0);
    if ((old & KVM_VCPU_FLUSH_TLB) !== 0) vcpu.flushTlb();
  } else {
    vcpu.memory.writeU8(preemptedGpa, 0); // without bit 9 the host just stores 0
  }
  st.preempted = false;
  // steal += run_delay − last_steal. last_steal moves only here (not at the WRMSR, not at
  // RESET/INIT), so the first update after an enable also counts the run_delay accumulated
  // since the previous update, or since the vCPU was created ([X] record_steal_time).
  const runDelay = vcpu.runDelayNs();
  accumulateStealTime(vcpu.memory, gpa, runDelay - st.lastSteal);
  st.lastSteal = runDelay;
}

/**
 * kvm_steal_time_set_preempted, at vcpu_put of a preempted vCPU: a plain byte store of
 * KVM_VCPU_PREEMPTED, once, only through a cache an update has set up (spec §3).
 */
function setPreempted(vcpu: VcpuContext, st: StealTime): void {
  if (!enabled(st) || st.preempted) return;
  // The exit is taken to be at an instruction boundary (the backend deschedules between
  // instructions); the cache must map the MSR's current GPA.
  if (st.cacheGpa === undefined || st.cacheGpa !== (st.msrVal & KVM_STEAL_VALID_BITS)) return;
  vcpu.memory.writeU8(st.cacheGpa + BigInt(KVM_STEAL_TIME_OFFSETS.preempted), KVM_VCPU_PREEMPTED);
  st.preempted = true;
}

/**
 * Creates kvm-steal-time's hooks for one machine: MSR 0x4b564d03 (gated by CPUID bit 5), the
 * steal-time update at entry after every vcpu_load and enabling write, the preempted byte at
 * vcpu_put, and the PV TLB flush of kvm-pv-tlb-flush (bit 9).
 *
 * @example
 * ```ts
 * import { createKvmStealTimeHooks } from "@pvkit/kvm-steal-time";
 * import type { PluginEnvironment } from "@pvkit/machine";
 * const env = { isEnabled: () => true } as Pick<PluginEnvironment, "isEnabled">;
 * const hooks = createKvmStealTimeHooks(env as PluginEnvironment);
 * console.log(hooks.msrs?.[0].msrs.map((m) => m.toString(16))); // ["4b564d03"]
 * ```
 */
export function createKvmStealTimeHooks(_environment: PluginEnvironment): PluginHooks {
  const msrs = gatedMsrHook({ [MSR_KVM_STEAL_TIME]: KVM_FEATURE_STEAL_TIME }, {
    read: (vcpu) => msrValue(state(vcpu).msrVal),
    write(vcpu, _msr, value) {
      // spec §2: #GP without sched_info_on() or with b5:1 set, for host writes too (the
      // steal_time selftest expects KVM_SET_MSRS to write 0 MSRs, peer-tests A2 case 1).
      if (!vcpu.vm.schedInfo || (value & KVM_STEAL_RESERVED_MASK) !== 0n) return MSR_GP;
      const st = state(vcpu);
      st.msrVal = value;
      if (enabled(st)) st.updateRequested = true;
      return MSR_OK;
    },
  });

  return {
    msrs: [msrs],
    lifecycle: [{
      // kvm_arch_vcpu_load requests a steal update every time the vCPU thread is scheduled in.
      onLoad(vcpu) {
        state(vcpu).updateRequested = true;
      },
      onEntry(vcpu) {
        const st = state(vcpu);
        if (!st.updateRequested) return;
        st.updateRequested = false;
        recordStealTime(vcpu, st);
      },
      onPut(vcpu, preempted) {
        if (preempted) setPreempted(vcpu, state(vcpu));
      },
      onReset(vcpu) {
        // kvm_vcpu_reset: STEAL_TIME ← 0 on RESET and INIT; last_steal is left alone.
        state(vcpu).msrVal = 0n;
      },
    }],
  };
}
