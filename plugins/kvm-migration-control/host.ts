/**
 * MSR_KVM_MIGRATION_CONTROL (0x4b564d08) as the VMM provides it (Documentation/virt/kvm/x86/msr.rst
 * MIGRATION_CONTROL row, §6 "MAP_GPA_RANGE + MIGRATION_CONTROL" and guest teardown, §7). KVM
 * does not emulate this MSR: it exists only while the VMM traps it, i.e. while this feature is
 * on in the composition; otherwise RDMSR and WRMSR #GP, as on KVM.
 *
 * @module
 */

import { KVM_MIGRATION_READY, MSR_KVM_MIGRATION_CONTROL } from "@pvkit/abi";
import { MSR_GP, MSR_OK, msrValue, type PluginEnvironment, type PluginHooks } from "@pvkit/machine";

/**
 * The value the MSR holds before the guest writes it: 1 (KVM_MIGRATION_READY). [D] msr.rst
 * gives 0 for encrypted-memory guests, which pvkit does not model.
 *
 * @example
 * ```ts
 * import { MIGRATION_CONTROL_INITIAL } from "@pvkit/kvm-migration-control";
 * console.log(MIGRATION_CONTROL_INITIAL); // 1n
 * ```
 */
export const MIGRATION_CONTROL_INITIAL: bigint = KVM_MIGRATION_READY; // spec §2: initial 1

/**
 * Bits 63:1: pvkit's VMM defines only bit 0, so a write with any other bit set #GPs, like
 * KVM's own single-bit PV MSR (POLL_CONTROL: b63:1≠0 → #GP). The spec leaves this to the VMM
 * (Documentation/virt/kvm/x86/msr.rst: "VMM-defined").
 *
 * @example
 * ```ts
 * import { MIGRATION_CONTROL_RESERVED_MASK } from "@pvkit/kvm-migration-control";
 * console.log((2n & MIGRATION_CONTROL_RESERVED_MASK) !== 0n); // true
 * ```
 */
export const MIGRATION_CONTROL_RESERVED_MASK: bigint = BigInt.asUintN(64, ~KVM_MIGRATION_READY);

/**
 * Creates kvm-migration-control's hooks for one machine: MSR 0x4b564d08, one VM-wide value
 * (the guest writes it from one CPU at boot and from any CPU going offline), initially 1.
 * While the feature is off in the composition the MSR does not exist (#GP; a host access is
 * refused). Not gated by CPUID enforcement: the VMM, not KVM, handles it. RESET/INIT leave
 * it alone.
 *
 * @example
 * ```ts
 * import { createKvmMigrationControlHooks } from "@pvkit/kvm-migration-control";
 * import { standInVcpu } from "@pvkit/machine";
 * const vcpu = standInVcpu();
 * const msr = createKvmMigrationControlHooks({ vm: vcpu.vm, isEnabled: () => true }).msrs?.[0];
 * console.log(msr?.read(vcpu, 0x4b564d08, "guest")); // { kind: "value", value: 1n }
 * ```
 */
export function createKvmMigrationControlHooks(environment: PluginEnvironment): PluginHooks {
  const trapped = environment.isEnabled("kvm-migration-control");
  let value = MIGRATION_CONTROL_INITIAL;
  return {
    msrs: [{
      msrs: [MSR_KVM_MIGRATION_CONTROL],
      read() {
        return trapped ? msrValue(value) : MSR_GP;
      },
      write(_vcpu, _msr, data) {
        if (!trapped || (data & MIGRATION_CONTROL_RESERVED_MASK) !== 0n) return MSR_GP;
        value = data; // b0 = KVM_MIGRATION_READY
        return MSR_OK;
      },
    }],
  };
}
