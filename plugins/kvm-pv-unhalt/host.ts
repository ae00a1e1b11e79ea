/**
 * kvm-pv-unhalt's host side, as KVM implements it (kvm-pv-abi.md §5 "KICK_CPU" row and
 * "KICK_CPU wake semantics"; [X] kvm_pv_kick_cpu_op, __kvm_emulate_halt, kvm_set_mp_state;
 * [L] __apic_accept_irq APIC_DM_REMRD).
 *
 * @module
 */

import { KVM_FEATURE_PV_UNHALT, KVM_HC_KICK_CPU, pvUnhaltState } from "@pvkit/abi";
import {
  gatedHypercall,
  kvmSchedYield,
  type PluginEnvironment,
  type PluginHooks,
} from "@pvkit/machine";

/**
 * Creates kvm-pv-unhalt's hooks for one machine: KVM_HC_KICK_CPU (5), gated by CPUID bit 7,
 * and the HLT/RUNNABLE transitions that consume `pv_unhalted`.
 *
 * KICK_CPU(a0 = flags, unused; a1 = APIC ID): the vCPU with physical APIC ID a1 gets
 * `pv_unhalted = 1` and a kick, then the caller does KVM's directed yield to a1; RAX = 0
 * even when no such APIC exists.
 *
 * @example
 * ```ts
 * import { createKvmPvUnhaltHooks } from "@pvkit/kvm-pv-unhalt";
 * import { standInVcpu } from "@pvkit/machine";
 * const hooks = createKvmPvUnhaltHooks({ vm: standInVcpu().vm, isEnabled: () => true });
 * console.log(hooks.hypercalls?.[0].nr); // 5
 * ```
 */
export function createKvmPvUnhaltHooks(_environment: PluginEnvironment): PluginHooks {
  // kvm-pv-abi.md §5/§7: gated by KVM_FEATURE_PV_UNHALT (bit 7), else -KVM_ENOSYS.
  const kick = gatedHypercall(KVM_HC_KICK_CPU, KVM_FEATURE_PV_UNHALT, (vcpu, { args }) => {
    const vm = vcpu.vm;
    // kvm_pv_kick_cpu_op(kvm, int apicid): the destination is a1 as a 32-bit APIC ID, physical
    // mode, delivered through KVM's APIC map (none without an in-kernel LAPIC).
    const target = vm.inKernelLapic ? vm.vcpuByApicId(Number(args[1] & 0xffff_ffffn)) : undefined;
    // kvm_vcpu_kick wakes a blocked vCPU and marks it `ready` for the directed yield below.
    const wasHalted = target?.isHalted() ?? false;
    // APIC_DM_REMRD to the target: its LAPIC sets pv_unhalted and kicks it.
    target?.requestInterrupt({
      destination: target.apicId,
      vector: 0,
      deliveryMode: "remote-read",
      level: true,
      levelTriggered: false,
    });
    // Then kvm_sched_yield(vcpu, a1), with its own conditions (runqueue busy, target ready).
    kvmSchedYield(vcpu, args[1], (t) => t.isPreempted() || (t === target && wasHalted));
    return 0n; // 0 even if no such APIC
  });

  return {
    hypercalls: [kick],
    lifecycle: [{
      onHalt(vcpu) {
        // HLT with pv_unhalted set does not block; the vCPU stays RUNNABLE, which clears it
        // (kvm-pv-abi.md §5 "KICK_CPU wake semantics").
        const state = pvUnhaltState(vcpu);
        if (!state.pvUnhalted) return false;
        state.pvUnhalted = false;
        return true;
      },
      onRunnable(vcpu) {
        // 6.15: pv_unhalted is cleared on every transition to RUNNABLE (kvm_set_mp_state).
        pvUnhaltState(vcpu).pvUnhalted = false;
      },
    }],
  };
}
