/**
 * The boot-log lines Linux's KVM guest code prints, in the kernel's own words, so a model
 * boot can be compared line by line with a real `dmesg` (timestamps left out).
 *
 * The words are Linux 6.1's (a Debian 6.1 guest printed them on pvkit's nested KVM, see
 * `shared/spec/nested-kvm.md`) and are unchanged in the current upstream tree. Older kernels
 * differ: before 5.5 kvm.c had no `kvm-guest: ` prefix ("KVM setup pv IPIs"; "x86/kvm: Change
 * print code to use pr_*() format"), and up to 5.16 every CPU also printed "kvm-clock: cpu N,
 * msr …" and "kvm-guest: stealtime: cpu N, …" (made pr_debug in 5.17 by f3f26dae05e3,
 * "x86/kvm: Silence per-cpu pr_info noise about KVM clocks and steal time"). Lines whose
 * numbers change from boot to boot ("kvm-clock: using sched offset of N cycles",
 * "clocksource: kvm-clock: mask: …") are not modelled.
 *
 * @module
 */

/**
 * The kernel version whose words {@linkcode KvmGuest.kernelLog} reproduces.
 *
 * @example
 * ```ts
 * import { KERNEL_LOG_VERSION } from "@pvkit/guest";
 * console.log(KERNEL_LOG_VERSION); // "6.1"
 * ```
 */
export const KERNEL_LOG_VERSION = "6.1";

/**
 * The shape of {@linkcode KERNEL_LOG}: one entry per line the model prints.
 *
 * @example
 * ```ts
 * import type { KernelLogLines } from "@pvkit/guest";
 * const pick = (l: KernelLogLines) => l.pvIpi;
 * console.log(typeof pick);
 * ```
 */
export interface KernelLogLines {
  /** hypervisor.c detect_hypervisor_vendor: `pr_info("Hypervisor detected: %s\n")`. */
  readonly detectHypervisorVendor: string;
  /** kvmclock.c kvmclock_init: `"kvm-clock: Using msrs %x and %x"` (lowercase hex, no 0x). */
  kvmclockInit(systemTimeMsr: number, wallClockMsr: number): string;
  /** kvm.c kvm_guest_init, when pv_tlb_flush_supported(). */
  readonly pvTlbFlush: string;
  /** kvm.c kvm_guest_init, when pv_sched_yield_supported(). */
  readonly pvSchedYield: string;
  /** kvm.c kvm_spinlock_init: each outcome's pr_info (the decision's reason is the text). */
  kvmSpinlockInit(reason: string): string;
  /** kvm.c kvm_setup_pv_ipi (from kvm_apic_init). */
  readonly pvIpi: string;
  /** clocksource.c clocksource_select (fs_initcall clocksource_done_booting). */
  readonly switchedToKvmClock: string;
  /** kvm.c arch_haltpoll_enable without KVM_FEATURE_POLL_CONTROL: two pr_err_once. */
  readonly archHaltpollEnableNoPollControl: readonly string[];
}

/**
 * One builder per line (or fixed text), named for the kernel function that prints it.
 *
 * @example
 * ```ts
 * import { KERNEL_LOG } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(
 *   KERNEL_LOG.kvmclockInit(0x4b564d01, 0x4b564d00),
 *   "kvm-clock: Using msrs 4b564d01 and 4b564d00",
 * );
 * ```
 */
export const KERNEL_LOG: KernelLogLines = {
  /** hypervisor.c detect_hypervisor_vendor: `pr_info("Hypervisor detected: %s\n")`. */
  detectHypervisorVendor: "Hypervisor detected: KVM",
  /** kvmclock.c kvmclock_init: `"kvm-clock: Using msrs %x and %x"` (lowercase hex, no 0x). */
  kvmclockInit(systemTimeMsr: number, wallClockMsr: number): string {
    return `kvm-clock: Using msrs ${systemTimeMsr.toString(16)} and ${wallClockMsr.toString(16)}`;
  },
  /** kvm.c kvm_guest_init, when pv_tlb_flush_supported(). */
  pvTlbFlush: "kvm-guest: KVM setup pv remote TLB flush",
  /** kvm.c kvm_guest_init, when pv_sched_yield_supported(). */
  pvSchedYield: "kvm-guest: setup PV sched yield",
  /** kvm.c kvm_spinlock_init: each outcome's pr_info (the decision's reason is the text). */
  kvmSpinlockInit(reason: string): string {
    return `kvm-guest: ${reason}`;
  },
  /** kvm.c kvm_setup_pv_ipi (from kvm_apic_init). */
  pvIpi: "kvm-guest: setup PV IPIs",
  /** clocksource.c clocksource_select (fs_initcall clocksource_done_booting). */
  switchedToKvmClock: "clocksource: Switched to clocksource kvm-clock",
  /** kvm.c arch_haltpoll_enable without KVM_FEATURE_POLL_CONTROL: two pr_err_once. */
  archHaltpollEnableNoPollControl: [
    "kvm-guest: host does not support poll control",
    "kvm-guest: host upgrade recommended",
  ],
};
