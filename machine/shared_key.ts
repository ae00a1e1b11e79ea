/**
 * Keys for per-vCPU state that plugins keep on a vCPU ({@linkcode VcpuContext.shared}).
 *
 * @module
 */

import type { VcpuContext } from "./vcpu_context.ts";

let nextSlot = 0;

/** A typed key for one kind of per-vCPU state, with the function that creates it. */
export interface SharedKey<T> {
  /** A readable name, e.g. `"kvm.steal-time"`. */
  readonly name: string;
  /** A small integer unique to the key: backends index an array with it. */
  readonly slot: number;
  /** Creates the state the first time a vCPU needs it. */
  create(vcpu: VcpuContext): T;
}

/**
 * Declares per-vCPU state once (at module level), so that every access is an array index, not
 * a lookup by name and a new closure.
 *
 * @example
 * ```ts
 * import { sharedKey } from "@pvkit/machine";
 * const POLL = sharedKey("kvm.poll-control", () => ({ value: 1n }));
 * console.log(POLL.name, typeof POLL.slot); // kvm.poll-control number
 * ```
 */
export function sharedKey<T>(name: string, create: (vcpu: VcpuContext) => T): SharedKey<T> {
  return Object.freeze({ name, slot: nextSlot++, create });
}
