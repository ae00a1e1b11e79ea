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
  type InterruptRequest,
  kvmSchedYield,
  type PluginEnvironment,
  type PluginHooks,
} from "@pvkit/machine";

/**
 * Creates kvm-pv-unhalt's hooks for one machine: KVM_HC_KICK_CPU (5), gated by CPUID bit 7,
 * and the HLT/RUNNABLE transitions that consume `pv_unhalted`.
 *
 * KICK_CPU(a0 = flags, unused; a1 = APIC ID): the vCPU with physical APIC ID a1 in KVM's
 * APIC map gets `pv_unhalted = 1` and a kick (every present APIC when a1 is a broadcast:
 * 0xff in xAPIC mode), then the caller does KVM's directed yield to a1; RAX = 0 even when no
 * such APIC exists.
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
    // kvm_pv_kick_cpu_op(kvm, int apicid): APIC_DM_REMRD to physical destination a1 (a u32
    // dest_id), no source APIC, through kvm_irq_delivery_to_apic: 0xff may be a broadcast.
    const apicId = Number(args[1] & 0xffff_ffffn);
    const remoteRead: InterruptRequest = {
      destination: apicId,
      vector: 0,
      deliveryMode: "remote-read",
      level: true,
      levelTriggered: false,
    };
    // The directed yield below targets phys_map[a1]; a kick makes a halted target `ready`.
    const yieldTarget = vm.inKernelLapic ? vm.vcpuByApicId(apicId) : undefined;
    const wasHalted = yieldTarget?.isHalted() ?? false;
    if (vm.deliverToApic) vm.deliverToApic(undefined, remoteRead);
    else yieldTarget?.requestInterrupt(remoteRead); // a backend without KVM's APIC model
    // Then kvm_sched_yield(vcpu, a1), with its own conditions (runqueue busy, target ready).
    kvmSchedYield(vcpu, args[1], (t) => t.isPreempted() || (t === yieldTarget && wasHalted));
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
