/**
 * Limits of the guest TSC as KVM sets them.
 *
 * @module
 */

/**
 * The largest guest TSC frequency, in kHz, that KVM_SET_TSC_KHZ accepts: KVM caps
 * `max_guest_tsc_khz` at 0x7fffffff ("tsc_khz values that fit into a signed integer",
 * `__kvm_x86_vendor_init` in arch/x86/kvm/x86.c) and refuses `user_tsc_khz >= max_guest_tsc_khz`
 * with EINVAL (`kvm_arch_vcpu_ioctl`, KVM_SET_TSC_KHZ).
 *
 * @example
 * ```ts
 * import { MAX_GUEST_TSC_KHZ } from "@pvkit/abi";
 * console.log(MAX_GUEST_TSC_KHZ / 1e6); // about 2147 GHz
 * ```
 */
export const MAX_GUEST_TSC_KHZ = 0x7fff_fffe;

/** 2^64 - 1: the TSC is a 64-bit counter and wraps to 0 past it. */
const TSC_MASK = (1n << 64n) - 1n;

/**
 * The guest TSC after `ns` nanoseconds at `khz` kHz, counting from 0 and wrapping at 2^64 as
 * the hardware counter does.
 *
 * @example
 * ```ts
 * import { tscAfterNs } from "@pvkit/abi";
 * console.log(tscAfterNs(1_000_000n, 2_600_000n)); // 2600000n: 1 ms at 2.6 GHz
 * console.log(tscAfterNs(2n ** 64n * 1000n, 1_000_000n)); // 0n: wrapped
 * ```
 */
export function tscAfterNs(ns: bigint, khz: bigint): bigint {
  return ((ns * khz) / 1_000_000n) & TSC_MASK;
}
