/**
 * `@pvkit/kvm-pv-unhalt`: kvm-pv-unhalt: paravirtual spinlocks: a waiter halts and the lock holder wakes it with KVM_HC_KICK_CPU.
 *
 * Linux uses PV spinlocks only with more than one possible CPU, without the dedicated-pCPU hint and without `nopvspin`.
 *
 * @example
 * ```ts
 * import { kvmPvUnhalt } from "@pvkit/kvm-pv-unhalt";
 * console.log(kvmPvUnhalt.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmPvUnhaltHooks } from "./host.ts";

/**
 * The kvm-pv-unhalt plugin: its manifest (CPUID bit 7 of 0x40000001 EAX, defaults, rules) and
 * KVM_HC_KICK_CPU's host behaviour.
 *
 * @example
 * ```ts
 * import { kvmPvUnhalt } from "@pvkit/kvm-pv-unhalt";
 * console.log(kvmPvUnhalt.manifest.name); // "kvm-pv-unhalt"
 * ```
 */
export const kvmPvUnhalt: PvPlugin = definePluginFromJson(
  manifest,
  createKvmPvUnhaltHooks,
  "@pvkit/kvm-pv-unhalt/manifest.json",
);

export { createKvmPvUnhaltHooks };
