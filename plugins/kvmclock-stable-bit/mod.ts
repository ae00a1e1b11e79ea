/**
 * `@pvkit/kvmclock-stable-bit`: kvmclock-stable-bit: the guest may trust PVCLOCK_TSC_STABLE_BIT and skip the global monotonicity clamp.
 *
 * Without it Linux clamps every kvmclock read against a global last value, which serialises readers.
 *
 * @example
 * ```ts
 * import { kvmclockStableBit } from "@pvkit/kvmclock-stable-bit";
 * console.log(kvmclockStableBit.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };

/**
 * The kvmclock-stable-bit plugin: its manifest (CPUID bit 24 of 0x40000001 EAX, defaults, rules).
 *
 * @example
 * ```ts
 * import { kvmclockStableBit } from "@pvkit/kvmclock-stable-bit";
 * console.log(kvmclockStableBit.manifest.name); // "kvmclock-stable-bit"
 * ```
 */
export const kvmclockStableBit: PvPlugin = definePluginFromJson(
  manifest,
  undefined,
  "@pvkit/kvmclock-stable-bit/manifest.json",
);
