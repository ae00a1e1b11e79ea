/**
 * `@pvkit/kvm-asyncpf-vmexit`: kvm-asyncpf-vmexit: async page faults may be delivered to a nested hypervisor as #PF vmexits (ASYNC_PF_EN bit 2).
 *
 * QEMU 7.2 does not know this flag (it was added in 8.2).
 *
 * @example
 * ```ts
 * import { kvmAsyncpfVmexit } from "@pvkit/kvm-asyncpf-vmexit";
 * console.log(kvmAsyncpfVmexit.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };

/**
 * The kvm-asyncpf-vmexit plugin: its manifest (CPUID bit 10 of 0x40000001 EAX, defaults, rules).
 *
 * @example
 * ```ts
 * import { kvmAsyncpfVmexit } from "@pvkit/kvm-asyncpf-vmexit";
 * console.log(kvmAsyncpfVmexit.manifest.name); // "kvm-asyncpf-vmexit"
 * ```
 */
export const kvmAsyncpfVmexit: PvPlugin = definePluginFromJson(
  manifest,
  undefined,
  "@pvkit/kvm-asyncpf-vmexit/manifest.json",
);
