/**
 * `@pvkit/kvm-pv-tlb-flush`: kvm-pv-tlb-flush: remote TLB flushes skip preempted vCPUs; the host flushes their TLB at the next entry.
 *
 * Linux uses it only with kvm-steal-time, without the dedicated-pCPU hint, without MWAIT and with more than one possible CPU.
 *
 * @example
 * ```ts
 * import { kvmPvTlbFlush } from "@pvkit/kvm-pv-tlb-flush";
 * console.log(kvmPvTlbFlush.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };

/**
 * The kvm-pv-tlb-flush plugin: its manifest (CPUID bit 9 of 0x40000001 EAX, defaults, rules).
 *
 * @example
 * ```ts
 * import { kvmPvTlbFlush } from "@pvkit/kvm-pv-tlb-flush";
 * console.log(kvmPvTlbFlush.manifest.name); // "kvm-pv-tlb-flush"
 * ```
 */
export const kvmPvTlbFlush: PvPlugin = definePluginFromJson(
  manifest,
  undefined,
  "@pvkit/kvm-pv-tlb-flush/manifest.json",
);
