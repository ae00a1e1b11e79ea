/**
 * `@pvkit/kvm-asyncpf-int`: kvm-asyncpf-int: async PF 'page ready' notifications as an interrupt (MSRs 0x4b564d06 vector, 0x4b564d07 ACK).
 *
 * QEMU leaves it off by default (an on default was dropped because it would warn on old kernels).
 *
 * @example
 * ```ts
 * import { kvmAsyncpfInt } from "@pvkit/kvm-asyncpf-int";
 * console.log(kvmAsyncpfInt.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmAsyncpfIntHooks } from "./host.ts";

/**
 * The kvm-asyncpf-int plugin: its manifest (CPUID bit 14 of 0x40000001 EAX, defaults, rules)
 * and its host behaviour (MSRs 0x4b564d06/07, see {@linkcode createKvmAsyncpfIntHooks}).
 *
 * @example
 * ```ts
 * import { kvmAsyncpfInt } from "@pvkit/kvm-asyncpf-int";
 * console.log(kvmAsyncpfInt.manifest.name); // "kvm-asyncpf-int"
 * ```
 */
export const kvmAsyncpfInt: PvPlugin = definePluginFromJson(
  manifest,
  createKvmAsyncpfIntHooks,
  "@pvkit/kvm-asyncpf-int/manifest.json",
);

export { createKvmAsyncpfIntHooks };
