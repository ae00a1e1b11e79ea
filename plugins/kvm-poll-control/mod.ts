/**
 * `@pvkit/kvm-poll-control`: kvm-poll-control: the guest can turn host-side halt polling off (MSR 0x4b564d05) while it polls itself.
 *
 * The MSR resets to 1 (host polling allowed) and survives vCPU reset.
 *
 * @example
 * ```ts
 * import { kvmPollControl } from "@pvkit/kvm-poll-control";
 * console.log(kvmPollControl.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmPollControlHooks, hostPollingAllowed } from "./host.ts";

/**
 * The kvm-poll-control plugin: its manifest (CPUID bit 12 of 0x40000001 EAX, defaults, rules)
 * and its host behaviour (MSR 0x4b564d05, see {@linkcode createKvmPollControlHooks}).
 *
 * @example
 * ```ts
 * import { kvmPollControl } from "@pvkit/kvm-poll-control";
 * console.log(kvmPollControl.manifest.name); // "kvm-poll-control"
 * ```
 */
export const kvmPollControl: PvPlugin = definePluginFromJson(
  manifest,
  createKvmPollControlHooks,
  "@pvkit/kvm-poll-control/manifest.json",
);

export { createKvmPollControlHooks, hostPollingAllowed };
