/**
 * KVM_HC_SCHED_YIELD's host side, as KVM implements it (Documentation/virt/kvm/x86/hypercalls.rst table, nr 11;
 * [X] kvm_sched_yield). The same directed yield follows every KVM_HC_KICK_CPU, so it is
 * exported for `@pvkit/kvm-pv-unhalt`.
 *
 * @module
 */

import { KVM_FEATURE_PV_SCHED_YIELD, KVM_HC_SCHED_YIELD } from "@pvkit/abi";
import {
  gatedHypercall,
  kvmSchedYield,
  type PluginEnvironment,
  type PluginHooks,
} from "@pvkit/machine";

/**
 * Creates kvm-pv-sched-yield's hooks for one machine: KVM_HC_SCHED_YIELD (11), gated by
 * CPUID bit 13 (−KVM_ENOSYS when enforcement hides it); a0 = target APIC ID; RAX is always 0.
 *
 * @example
 * ```ts
 * import { createKvmPvSchedYieldHooks } from "@pvkit/kvm-pv-sched-yield";
 * import { standInVcpu } from "@pvkit/machine";
 * const hooks = createKvmPvSchedYieldHooks({ vm: standInVcpu().vm, isEnabled: () => true });
 * console.log(hooks.hypercalls?.[0].nr); // 11
 * ```
 */
export function createKvmPvSchedYieldHooks(_environment: PluginEnvironment): PluginHooks {
  // Documentation/virt/kvm/x86/hypercalls.rst/§7: gated by KVM_FEATURE_PV_SCHED_YIELD (bit 13); returns 0 always.
  const schedYield = gatedHypercall(
    KVM_HC_SCHED_YIELD,
    KVM_FEATURE_PV_SCHED_YIELD,
    (vcpu, { args }) => {
      kvmSchedYield(vcpu, args[0]);
      return 0n;
    },
  );
  return { hypercalls: [schedYield] };
}
