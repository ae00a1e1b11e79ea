/**
 * kvm-asyncpf-int's host side, as KVM implements it (Documentation/virt/kvm/x86/msr.rst ASYNC_PF_INT and
 * ASYNC_PF_ACK, §6 "Async PF 'page ready'"; [X] kvm_pv_enable_async_pf_int,
 * kvm_set_msr_common, kvm_get_msr_common, kvm_vcpu_reset).
 *
 * The 'page ready' delivery itself (token, pageready_pending, the interrupt) runs at entry in
 * kvm-asyncpf, which owns the queues; this plugin sets the vector and turns an ACK into a scan
 * request, through the per-vCPU state both share (`asyncPfState` in @pvkit/abi).
 *
 * @module
 */

import {
  asyncPfState,
  KVM_ASYNC_PF_ACK,
  KVM_ASYNC_PF_INT_RESERVED_MASK,
  KVM_ASYNC_PF_VECTOR_MASK,
  KVM_FEATURE_ASYNC_PF_INT,
  MSR_KVM_ASYNC_PF_ACK,
  MSR_KVM_ASYNC_PF_INT,
} from "@pvkit/abi";
import {
  gatedMsrHook,
  MSR_GP,
  MSR_OK,
  msrValue,
  type PluginEnvironment,
  type PluginHooks,
} from "@pvkit/machine";

/**
 * Creates kvm-asyncpf-int's hooks for one machine: MSRs 0x4b564d06 (the 'page ready' vector)
 * and 0x4b564d07 (ACK), both gated by CPUID bit 14, and the reset of 0x4b564d06.
 *
 * @example
 * ```ts
 * import { createKvmAsyncpfIntHooks } from "@pvkit/kvm-asyncpf-int";
 * import type { PluginEnvironment } from "@pvkit/machine";
 * const env = { isEnabled: () => true } as Pick<PluginEnvironment, "isEnabled">;
 * const hooks = createKvmAsyncpfIntHooks(env as PluginEnvironment);
 * console.log(hooks.msrs?.[0].msrs.map((m) => m.toString(16))); // ["4b564d06", "4b564d07"]
 * ```
 */
export function createKvmAsyncpfIntHooks(_environment: PluginEnvironment): PluginHooks {
  const msrs = gatedMsrHook(
    {
      [MSR_KVM_ASYNC_PF_INT]: KVM_FEATURE_ASYNC_PF_INT,
      [MSR_KVM_ASYNC_PF_ACK]: KVM_FEATURE_ASYNC_PF_INT,
    },
    {
      read(vcpu, msr) {
        // ACK always reads as 0 (spec §2).
        return msrValue(msr === MSR_KVM_ASYNC_PF_ACK ? 0n : asyncPfState(vcpu).msrIntVal);
      },
      write(vcpu, msr, value) {
        const st = asyncPfState(vcpu);
        if (msr === MSR_KVM_ASYNC_PF_ACK) {
          // b0: clear pageready_pending and rescan the done queue; other bits are ignored.
          // KVM scans inside the WRMSR; here the scan runs at the next entry (kvm-asyncpf).
          if ((value & KVM_ASYNC_PF_ACK) !== 0n) {
            st.pageReadyPending = false;
            st.readyRequested = true;
          }
          return MSR_OK;
        }
        // kvm_pv_enable_async_pf_int: b63:8 reserved; needs an in-kernel LAPIC even for 0.
        if ((value & KVM_ASYNC_PF_INT_RESERVED_MASK) !== 0n || !vcpu.apic) return MSR_GP;
        st.msrIntVal = value;
        st.vec = Number(value & KVM_ASYNC_PF_VECTOR_MASK); // not validated: 0..15 pass (spec §2)
        return MSR_OK;
      },
    },
  );

  return {
    msrs: [msrs],
    lifecycle: [{
      // kvm_vcpu_reset (RESET and INIT): ASYNC_PF_INT ← 0. KVM leaves apf.vec as it was.
      onReset(vcpu) {
        asyncPfState(vcpu).msrIntVal = 0n;
      },
    }],
  };
}
