/**
 * `@pvkit/kvm-pv-sched-yield`: kvm-pv-sched-yield: after an IPI to a preempted vCPU the sender yields its pCPU to it (KVM_HC_SCHED_YIELD).
 *
 * Linux uses it only with kvm-steal-time, without the dedicated-pCPU hint, without MWAIT and with more than one possible CPU.
 *
 * @example
 * ```ts
 * import { kvmPvSchedYield } from "@pvkit/kvm-pv-sched-yield";
 * console.log(kvmPvSchedYield.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmPvSchedYieldHooks } from "./host.ts";

/**
 * The kvm-pv-sched-yield plugin: its manifest (CPUID bit 13 of 0x40000001 EAX, defaults, rules)
 * and KVM_HC_SCHED_YIELD's host behaviour.
 *
 * @example
 * ```ts
 * import { kvmPvSchedYield } from "@pvkit/kvm-pv-sched-yield";
 * console.log(kvmPvSchedYield.manifest.name); // "kvm-pv-sched-yield"
 * ```
 */
export const kvmPvSchedYield: PvPlugin = definePluginFromJson(
  manifest,
  createKvmPvSchedYieldHooks,
  "@pvkit/kvm-pv-sched-yield/manifest.json",
);

export { createKvmPvSchedYieldHooks };
