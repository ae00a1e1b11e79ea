/**
 * `@pvkit/kvm-steal-time`: kvm-steal-time: the host reports time the vCPU was runnable but not running (kvm_steal_time record at MSR 0x4b564d03).
 *
 * KVM reports the bit only when the host has sched_info_on(). The record's preempted byte also drives kvm-pv-tlb-flush and vcpu_is_preempted().
 *
 * @example
 * ```ts
 * import { kvmStealTime } from "@pvkit/kvm-steal-time";
 * console.log(kvmStealTime.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmStealTimeHooks } from "./host.ts";

/**
 * The kvm-steal-time plugin: its manifest (CPUID bit 5 of 0x40000001 EAX, defaults, rules)
 * and its host behaviour (MSR 0x4b564d03, the steal-time record and its preempted byte,
 * including kvm-pv-tlb-flush's flush; see {@linkcode createKvmStealTimeHooks}).
 *
 * @example
 * ```ts
 * import { kvmStealTime } from "@pvkit/kvm-steal-time";
 * console.log(kvmStealTime.manifest.name); // "kvm-steal-time"
 * ```
 */
export const kvmStealTime: PvPlugin = definePluginFromJson(
  manifest,
  createKvmStealTimeHooks,
  "@pvkit/kvm-steal-time/manifest.json",
);

export { createKvmStealTimeHooks };
