/**
 * `@pvkit/kvm-hc-map-gpa-range`: kvm-hc-map-gpa-range: the guest reports encryption-status changes of GPA ranges with KVM_HC_MAP_GPA_RANGE, which KVM hands to the VMM (KVM_EXIT_HYPERCALL).
 *
 * Not a built-in plugin: KVM never reports bit 16 and QEMU has no flag for it, so a VMM that
 * handles the exit adds it with `compose({ plugins: [kvmHcMapGpaRange] })`.
 *
 * @example
 * ```ts
 * import { kvmHcMapGpaRange } from "@pvkit/kvm-hc-map-gpa-range";
 * console.log(kvmHcMapGpaRange.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmHcMapGpaRangeHooks, kvmMapGpaRange } from "./host.ts";

/**
 * The kvm-hc-map-gpa-range plugin: its manifest (CPUID bit 16 of 0x40000001 EAX, defaults,
 * rules) and KVM_HC_MAP_GPA_RANGE's host behaviour.
 *
 * @example
 * ```ts
 * import { kvmHcMapGpaRange } from "@pvkit/kvm-hc-map-gpa-range";
 * console.log(kvmHcMapGpaRange.manifest.name); // "kvm-hc-map-gpa-range"
 * ```
 */
export const kvmHcMapGpaRange: PvPlugin = definePluginFromJson(
  manifest,
  createKvmHcMapGpaRangeHooks,
  "@pvkit/kvm-hc-map-gpa-range/manifest.json",
);

export { createKvmHcMapGpaRangeHooks, kvmMapGpaRange };
