/**
 * KVM's directed yield (kvm_sched_yield): when one vCPU gives its host CPU to another. Used by
 * KVM_HC_SCHED_YIELD and by KVM_HC_KICK_CPU.
 *
 * @module
 */

import type { VcpuContext } from "./vcpu_context.ts";

/**
 * KVM's `kvm_sched_yield(vcpu, dest_id)`: yields `vcpu`'s host CPU to the vCPU with APIC ID
 * `destId` only if the host runqueue is not single-task, the target exists (ID ≤ max_apic_id
 * and in the physical APIC map), the target is `ready` and it is not the caller
 * (kvm-pv-abi.md §5 table, nr 11). Returns true when the yield happened.
 *
 * @param destId the APIC ID as the guest passed it (unsigned long: not truncated)
 * @param isReady KVM's `vcpu->ready`; defaults to {@linkcode VcpuContext.isPreempted}
 * @example
 * ```ts
 * import { kvmSchedYield } from "@pvkit/machine";
 * import { standInVcpu } from "@pvkit/machine";
 * console.log(kvmSchedYield(standInVcpu(), 1n)); // false: the host runqueue is single-task
 * ```
 */
export function kvmSchedYield(
  vcpu: VcpuContext,
  destId: bigint,
  isReady: (target: VcpuContext) => boolean = (target) => target.isPreempted(),
): boolean {
  const vm = vcpu.vm;
  // single_task_running(): nothing else wants this host CPU, so there is nothing to give.
  if (!vm.runqueueBusy(vcpu)) return false;
  // The physical APIC map exists only with an in-kernel LAPIC; dest_id ≤ max_apic_id.
  if (!vm.inKernelLapic || destId < 0n || destId > BigInt(vm.maxApicId)) return false;
  const target = vm.vcpuByApicId(Number(destId));
  // !target || !READ_ONCE(target->ready); then "ignore requests to yield to self".
  if (!target || !isReady(target) || target === vcpu) return false;
  return vm.yieldTo(vcpu, target);
}
