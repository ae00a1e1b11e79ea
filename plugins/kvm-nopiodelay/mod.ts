/**
 * `@pvkit/kvm-nopiodelay`: kvm-nopiodelay: the guest may skip port-0x80 I/O delays (pv_ops io_delay becomes a no-op).
 *
 * Without it a Linux guest writes to port 0x80 after slow port I/O, and each write is a VM exit.
 *
 * @example
 * ```ts
 * import { kvmNopiodelay } from "@pvkit/kvm-nopiodelay";
 * console.log(kvmNopiodelay.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import {
  createKvmNopiodelayHooks,
  IO_DELAY_PORT,
  type IoDelayCounts,
  ioDelayCounts,
} from "./host.ts";

/**
 * The kvm-nopiodelay plugin: its manifest (CPUID bit 1 of 0x40000001 EAX, defaults, rules) and
 * the delay port 0x80, whose exits it counts.
 *
 * @example
 * ```ts
 * import { kvmNopiodelay } from "@pvkit/kvm-nopiodelay";
 * console.log(kvmNopiodelay.manifest.name); // "kvm-nopiodelay"
 * ```
 */
export const kvmNopiodelay: PvPlugin = definePluginFromJson(
  manifest,
  createKvmNopiodelayHooks,
  "@pvkit/kvm-nopiodelay/manifest.json",
);

export { createKvmNopiodelayHooks, IO_DELAY_PORT, type IoDelayCounts, ioDelayCounts };
