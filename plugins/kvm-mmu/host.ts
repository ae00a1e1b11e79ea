/**
 * kvm-mmu's host side: the PV MMU was removed from KVM, so KVM_HC_MMU_OP (2) returns
 * -KVM_ENOSYS whatever the CPUID says, and there are no MSRs (Documentation/virt/kvm/x86/cpuid.rst bit 2, §5).
 *
 * @module
 */

import { KVM_ENOSYS, KVM_HC_MMU_OP } from "@pvkit/abi";
import { gatedHypercall, type PluginEnvironment, type PluginHooks } from "@pvkit/machine";

/**
 * Creates kvm-mmu's hooks for one machine: KVM_HC_MMU_OP (2), hooked explicitly so the
 * dispatch table shows it, answering -KVM_ENOSYS (-1000) always (not CPUID-gated: there is
 * nothing left to gate).
 *
 * @example
 * ```ts
 * import { createKvmMmuHooks } from "@pvkit/kvm-mmu";
 * import { standInVcpu } from "@pvkit/machine";
 * const vcpu = standInVcpu();
 * const mmuOp = createKvmMmuHooks({ vm: vcpu.vm, isEnabled: () => true }).hypercalls?.[0];
 * console.log(mmuOp?.nr, mmuOp?.call(vcpu, { nr: 2, args: [0n, 0n, 0n, 0n] })); // 2 -1000n
 * ```
 */
export function createKvmMmuHooks(_environment: PluginEnvironment): PluginHooks {
  // Documentation/virt/kvm/x86/cpuid.rst: "deprecated (hypercall 2 → -KVM_ENOSYS)"; §5 table: 2 → −1000.
  const mmuOp = gatedHypercall(KVM_HC_MMU_OP, undefined, () => -BigInt(KVM_ENOSYS));
  return { hypercalls: [mmuOp] };
}
