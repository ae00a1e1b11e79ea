/**
 * `@pvkit/kvm-msi-ext-dest-id`: kvm-msi-ext-dest-id: MSI address bits 11:5 carry APIC-ID bits 14:8, so interrupts reach up to 32768 APIC IDs without an IOMMU.
 *
 * QEMU turns it on by default for named CPU models when the irqchip is split (except on pc-*-5.1 and older machine types); KVM never reports it: the VMM provides it.
 *
 * @example
 * ```ts
 * import { kvmMsiExtDestId } from "@pvkit/kvm-msi-ext-dest-id";
 * console.log(kvmMsiExtDestId.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmMsiExtDestIdHooks, decodeMsiDestination } from "./host.ts";

/**
 * The kvm-msi-ext-dest-id plugin: its manifest (CPUID bit 15 of 0x40000001 EAX, defaults, rules)
 * and the MSI destination decoding the VMM does for it.
 *
 * @example
 * ```ts
 * import { kvmMsiExtDestId } from "@pvkit/kvm-msi-ext-dest-id";
 * console.log(kvmMsiExtDestId.manifest.name); // "kvm-msi-ext-dest-id"
 * ```
 */
export const kvmMsiExtDestId: PvPlugin = definePluginFromJson(
  manifest,
  createKvmMsiExtDestIdHooks,
  "@pvkit/kvm-msi-ext-dest-id/manifest.json",
);

export { createKvmMsiExtDestIdHooks, decodeMsiDestination };
