/**
 * What a guest chose for one PV feature and why: the record each driver's predicate explains
 * itself with, and the list {@linkcode KvmGuest} reports.
 *
 * @module
 */

/**
 * The guest-side PV features this package models, named for what the guest does with them.
 *
 * @example
 * ```ts
 * import type { GuestPvFeature } from "@pvkit/guest";
 * const f: GuestPvFeature = "pv-tlb-flush";
 * console.log(f);
 * ```
 */
export type GuestPvFeature =
  | "kvmclock"
  | "kvmclock-stable-bit"
  | "nop-io-delay"
  | "steal-time"
  | "pv-eoi"
  | "async-pf"
  | "pv-ipi"
  | "pv-tlb-flush"
  | "pv-sched-yield"
  | "pv-spinlock"
  | "haltpoll"
  | "msi-ext-dest-id";

/**
 * One feature's decision: whether the guest uses it and the reason, worded like the Linux
 * guest's boot messages where it prints one.
 *
 * @example
 * ```ts
 * import type { FeatureDecision } from "@pvkit/guest";
 * const d: FeatureDecision = { feature: "pv-spinlock", used: false, reason: "single CPU" };
 * console.log(`${d.feature}: ${d.used ? "on" : "off"} (${d.reason})`);
 * ```
 */
export interface FeatureDecision {
  /** Which feature. */
  readonly feature: GuestPvFeature;
  /** True when the guest uses it. */
  readonly used: boolean;
  /** Why (the first failed condition when not used). */
  readonly reason: string;
}
