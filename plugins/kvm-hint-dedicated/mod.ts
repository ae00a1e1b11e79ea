/**
 * `@pvkit/kvm-hint-dedicated`: kvm-hint-dedicated: the REALTIME hint (CPUID 0x40000001 EDX bit 0): vCPUs run on dedicated pCPUs and are never preempted for long.
 *
 * KVM never sets it; QEMU counts it as always supported and never turns it on for -cpu host.
 *
 * @example
 * ```ts
 * import { kvmHintDedicated } from "@pvkit/kvm-hint-dedicated";
 * console.log(kvmHintDedicated.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };

/**
 * The kvm-hint-dedicated plugin: its manifest (CPUID bit 0 of 0x40000001 EDX, defaults, rules).
 *
 * @example
 * ```ts
 * import { kvmHintDedicated } from "@pvkit/kvm-hint-dedicated";
 * console.log(kvmHintDedicated.manifest.name); // "kvm-hint-dedicated"
 * ```
 */
export const kvmHintDedicated: PvPlugin = definePluginFromJson(
  manifest,
  undefined,
  "@pvkit/kvm-hint-dedicated/manifest.json",
);
