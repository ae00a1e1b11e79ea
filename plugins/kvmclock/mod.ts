/**
 * `@pvkit/kvmclock`: kvmclock: the paravirtual clocksource (pvclock records at MSRs 0x11/0x12 for bit 0 and 0x4b564d00/01 for bit 3).
 *
 * One QEMU flag covers both bits: setting it sets or clears bits 0 and 3 together, and it reads as on only when both are set (QEMU target/i386/kvm/kvm.c). Guests prefer bit 3 (MSRs 0x4b564d00/01) and fall back to bit 0 (MSRs 0x11/0x12).
 *
 * @example
 * ```ts
 * import { kvmclock } from "@pvkit/kvmclock";
 * console.log(kvmclock.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmclockHooks } from "./host.ts";

/**
 * The kvmclock plugin: its manifest (CPUID bits 0, 3 of 0x40000001 EAX, defaults, rules).
 *
 * @example
 * ```ts
 * import { kvmclock } from "@pvkit/kvmclock";
 * console.log(kvmclock.manifest.name); // "kvmclock"
 * ```
 */
export const kvmclock: PvPlugin = definePluginFromJson(
  manifest,
  createKvmclockHooks,
  "@pvkit/kvmclock/manifest.json",
);

export { createKvmclockHooks };
