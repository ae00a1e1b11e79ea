/**
 * `@pvkit/kvm-pv-eoi`: kvm-pv-eoi: paravirtual end-of-interrupt (MSR 0x4b564d04): the guest skips the EOI exit when the host armed the PV EOI byte.
 *
 * Each interrupt whose EOI the host can skip saves one VM exit.
 *
 * @example
 * ```ts
 * import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";
 * console.log(kvmPvEoi.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmPvEoiHooks } from "./host.ts";

/**
 * The kvm-pv-eoi plugin: its manifest (CPUID bit 6 of 0x40000001 EAX, defaults, rules) and
 * its host behaviour (MSR 0x4b564d04 and the PV EOI byte, see {@linkcode createKvmPvEoiHooks}).
 *
 * @example
 * ```ts
 * import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";
 * console.log(kvmPvEoi.manifest.name); // "kvm-pv-eoi"
 * ```
 */
export const kvmPvEoi: PvPlugin = definePluginFromJson(
  manifest,
  createKvmPvEoiHooks,
  "@pvkit/kvm-pv-eoi/manifest.json",
);

export { createKvmPvEoiHooks };
