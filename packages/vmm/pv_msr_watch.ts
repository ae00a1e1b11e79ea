/**
 * The PV MSRs whose guest writes the VMM watches: KVM handles them in the kernel, so pvkit
 * denies guest writes to them with an MSR filter (KVM_X86_SET_MSR_FILTER with
 * KVM_MSR_EXIT_REASON_FILTER), which turns each WRMSR into a KVM_EXIT_X86_WRMSR; the vCPU
 * thread records it and hands the value to KVM with KVM_SET_MSRS, whose answer decides
 * whether the guest gets a #GP (Documentation/virt/kvm/api.rst, "KVM_CAP_X86_USER_SPACE_MSR").
 *
 * A host-initiated write goes through the same `kvm_set_msr_common` cases (including the
 * enforcement of KVM_CAP_ENFORCE_PV_FEATURE_CPUID, `guest_pv_has`) as the guest's; the one
 * difference is that vCPU 0's kvmclock MSR does not update `boot_vcpu_runs_old_kvmclock`
 * (`kvm_write_system_time`), which only matters for a guest that uses the old MSR 0x12.
 *
 * @module
 */

import { denyMsrs, KVM_MSR_FILTER_WRITE, type MsrFilterRange } from "@pvkit/kvm";

/**
 * The watched MSRs, in slot order (arch/x86/include/uapi/asm/kvm_para.h).
 *
 * @example
 * ```ts
 * import { WATCHED_PV_MSRS } from "@pvkit/vmm";
 * console.log(WATCHED_PV_MSRS.length, WATCHED_PV_MSRS[3].toString(16)); // 10 4b564d01
 * ```
 */
export const WATCHED_PV_MSRS: readonly number[] = [
  0x11, // MSR_KVM_WALL_CLOCK
  0x12, // MSR_KVM_SYSTEM_TIME
  0x4b564d00, // MSR_KVM_WALL_CLOCK_NEW
  0x4b564d01, // MSR_KVM_SYSTEM_TIME_NEW
  0x4b564d02, // MSR_KVM_ASYNC_PF_EN
  0x4b564d03, // MSR_KVM_STEAL_TIME
  0x4b564d04, // MSR_KVM_PV_EOI_EN
  0x4b564d05, // MSR_KVM_POLL_CONTROL
  0x4b564d06, // MSR_KVM_ASYNC_PF_INT
  0x4b564d07, // MSR_KVM_ASYNC_PF_ACK
];

/**
 * The slot of `msr` in {@linkcode WATCHED_PV_MSRS}, or -1. Allocation-free (the vCPU loop
 * calls it per MSR exit).
 *
 * @example
 * ```ts
 * import { watchedMsrSlot } from "@pvkit/vmm";
 * console.log(watchedMsrSlot(0x4b564d03), watchedMsrSlot(0x10)); // 5 -1
 * ```
 */
export function watchedMsrSlot(msr: number): number {
  if (msr === 0x11) return 0;
  if (msr === 0x12) return 1;
  const i = msr - 0x4b564d00;
  return i >= 0 && i <= 7 ? i + 2 : -1;
}

/**
 * The MSR filter ranges that send guest writes of the watched MSRs to userspace.
 *
 * @example
 * ```ts
 * import { watchedMsrFilterRanges } from "@pvkit/vmm";
 * console.log(watchedMsrFilterRanges().map((r) => r.base.toString(16))); // [ "11", "4b564d00" ]
 * ```
 */
export function watchedMsrFilterRanges(): MsrFilterRange[] {
  return [
    denyMsrs(KVM_MSR_FILTER_WRITE, [0x11, 0x12]),
    denyMsrs(KVM_MSR_FILTER_WRITE, WATCHED_PV_MSRS.slice(2)),
  ];
}
