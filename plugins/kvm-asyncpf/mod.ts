/**
 * `@pvkit/kvm-asyncpf`: kvm-asyncpf: asynchronous page faults (MSR 0x4b564d02): the guest can run other tasks while the host swaps a page in.
 *
 * Modern guests enable it only together with kvm-asyncpf-int (bit 14): ASYNC_PF_EN = GPA | ENABLED | DELIVERY_AS_INT.
 *
 * @example
 * ```ts
 * import { kvmAsyncpf } from "@pvkit/kvm-asyncpf";
 * console.log(kvmAsyncpf.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import { createKvmAsyncpfHooks } from "./host.ts";

/**
 * The kvm-asyncpf plugin: its manifest (CPUID bit 4 of 0x40000001 EAX, defaults, rules) and
 * its host behaviour (MSR 0x4b564d02 and the async-PF queues, see
 * {@linkcode createKvmAsyncpfHooks}, {@linkcode asyncPageFault}).
 *
 * @example
 * ```ts
 * import { kvmAsyncpf } from "@pvkit/kvm-asyncpf";
 * console.log(kvmAsyncpf.manifest.name); // "kvm-asyncpf"
 * ```
 */
export const kvmAsyncpf: PvPlugin = definePluginFromJson(
  manifest,
  createKvmAsyncpfHooks,
  "@pvkit/kvm-asyncpf/manifest.json",
);

export {
  asyncPageFault,
  type AsyncPageFaultOutcome,
  asyncPageFaultToken,
  asyncPfHalted,
  completeAsyncPageFault,
  createKvmAsyncpfHooks,
} from "./host.ts";
