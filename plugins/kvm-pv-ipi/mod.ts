/**
 * `@pvkit/kvm-pv-ipi`: kvm-pv-ipi: send IPIs to up to 128 APIC IDs with one KVM_HC_SEND_IPI hypercall instead of one ICR write (and exit) each.
 *
 * Linux uses it with more than one possible CPU, whether or not the dedicated-pCPU hint is set.
 *
 * @example
 * ```ts
 * import { kvmPvIpi } from "@pvkit/kvm-pv-ipi";
 * console.log(kvmPvIpi.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmPvIpiHooks, kvmPvSendIpi, sendIpiCluster } from "./host.ts";

/**
 * The kvm-pv-ipi plugin: its manifest (CPUID bit 11 of 0x40000001 EAX, defaults, rules) and
 * KVM_HC_SEND_IPI's host behaviour.
 *
 * @example
 * ```ts
 * import { kvmPvIpi } from "@pvkit/kvm-pv-ipi";
 * console.log(kvmPvIpi.manifest.name); // "kvm-pv-ipi"
 * ```
 */
export const kvmPvIpi: PvPlugin = definePluginFromJson(
  manifest,
  createKvmPvIpiHooks,
  "@pvkit/kvm-pv-ipi/manifest.json",
);

export { createKvmPvIpiHooks, kvmPvSendIpi, sendIpiCluster };
