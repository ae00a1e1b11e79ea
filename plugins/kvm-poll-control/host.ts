/**
 * kvm-poll-control's host side, as KVM implements it (Documentation/virt/kvm/x86/msr.rst POLL_CONTROL; [X]
 * kvm_set_msr_common, kvm_arch_vcpu_postcreate, kvm_arch_no_poll).
 *
 * @module
 */

import {
  KVM_FEATURE_POLL_CONTROL,
  KVM_POLL_CONTROL_DEFAULT,
  KVM_POLL_CONTROL_HALT_POLL,
  KVM_POLL_CONTROL_RESERVED_MASK,
  MSR_KVM_POLL_CONTROL,
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
const STATE_KEY = "kvm.poll-control";

/** vcpu->arch.msr_kvm_poll_control. */
interface PollControl {
  value: bigint;
}

// Created on first use with 1: KVM sets it in kvm_arch_vcpu_postcreate (spec §2).
const POLL_CONTROL = sharedKey<PollControl>(STATE_KEY, () => ({ value: KVM_POLL_CONTROL_DEFAULT }));
const state = (vcpu: VcpuContext): PollControl => vcpu.shared(POLL_CONTROL);

/**
 * Whether the host may halt-poll for `vcpu`: the negation of KVM's `kvm_arch_no_poll()`,
 * which is `(MSR_KVM_POLL_CONTROL & 1) == 0` (Documentation/virt/kvm/x86/msr.rst).
 *
 * @example
 * ```ts
 * import { hostPollingAllowed } from "@pvkit/kvm-poll-control";
 * import { standInVcpu } from "@pvkit/machine";
 * console.log(hostPollingAllowed(standInVcpu())); // true: the MSR starts at 1
 * ```
 */
export function hostPollingAllowed(vcpu: VcpuContext): boolean {
  return (state(vcpu).value & KVM_POLL_CONTROL_HALT_POLL) !== 0n;
}

/**
 * Creates kvm-poll-control's hooks for one machine: MSR 0x4b564d05, gated by CPUID bit 12.
 * The value starts at 1 and survives RESET and INIT, so there is no reset hook.
 *
 * @example
 * ```ts
 * import { createKvmPollControlHooks } from "@pvkit/kvm-poll-control";
 * import type { PluginEnvironment } from "@pvkit/machine";
 * const env = { isEnabled: () => true } as Pick<PluginEnvironment, "isEnabled">;
 * const hooks = createKvmPollControlHooks(env as PluginEnvironment);
 * console.log(hooks.msrs?.[0].msrs.map((m) => m.toString(16))); // ["4b564d05"]
 * ```
 */
export function createKvmPollControlHooks(_environment: PluginEnvironment): PluginHooks {
  const msrs = gatedMsrHook({ [MSR_KVM_POLL_CONTROL]: KVM_FEATURE_POLL_CONTROL }, {
    read: (vcpu) => msrValue(state(vcpu).value),
    write(vcpu, _msr, value) {
      // spec §2: "only enable bit supported": b63:1 ≠ 0 → #GP, guest or host write alike.
      if ((value & KVM_POLL_CONTROL_RESERVED_MASK) !== 0n) return MSR_GP;
      state(vcpu).value = value;
      return MSR_OK;
    },
  });
  return { msrs: [msrs] };
}
