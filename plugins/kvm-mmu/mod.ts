/**
 * `@pvkit/kvm-mmu`: kvm-mmu: the old paravirtual MMU (hypercall 2), removed from KVM.
 *
 * Current kernels never report bit 2, so QEMU warns that the host doesn't support it; pvkit's strict rules reject it outright.
 *
 * @example
 * ```ts
 * import { kvmMmu } from "@pvkit/kvm-mmu";
 * console.log(kvmMmu.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmMmuHooks } from "./host.ts";

/**
 * The kvm-mmu plugin: its manifest (CPUID bit 2 of 0x40000001 EAX, defaults, rules) and
 * KVM_HC_MMU_OP, which answers -KVM_ENOSYS.
 *
 * @example
 * ```ts
 * import { kvmMmu } from "@pvkit/kvm-mmu";
 * console.log(kvmMmu.manifest.name); // "kvm-mmu"
 * ```
 */
export const kvmMmu: PvPlugin = definePluginFromJson(
  manifest,
  createKvmMmuHooks,
  "@pvkit/kvm-mmu/manifest.json",
);

export { createKvmMmuHooks };
