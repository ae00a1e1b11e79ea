/**
 * `@pvkit/abi`: the KVM x86 paravirtual guest/host ABI as typed TypeScript.
 *
 * - {@link ./cpuid.ts}: the KVM CPUID leaves, every `KVM_FEATURE_*` bit and the hints.
 * - {@link ./msr.ts}: the PV MSR indices, their value layouts, and the {@linkcode pvMsrs} table.
 * - {@link ./hypercall.ts}: hypercall numbers, error codes, VMCALL/VMMCALL, the RAX encoding.
 * - Record codecs over {@linkcode GuestMemory}: `pvclock_vcpu_time_info`, `pvclock_wall_clock`,
 *   `kvm_steal_time`, `kvm_vcpu_pv_apf_data`, `kvm_clock_pairing`.
 * - {@link ./seqlock.ts}: the host's version-protocol writers and the guest's bounded readers.
 * - {@link ./pvclock.ts}: kvm_get_time_scale, pvclock_scale_delta and friends, bit-exact.
 *
 * The numbers come from the project's ABI reference (Documentation/virt/kvm/x86/), which cites the Linux
 * sources; each constant's comment says where.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import {
 *   kvmGetTimeScale,
 *   publishPvclockVcpuTimeInfo,
 *   pvclockReadCycles,
 *   readPvclockVcpuTimeInfo,
 * } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 *
 * const mem = new ArrayGuestMemory(4096);
 * const { shift, mul } = kvmGetTimeScale(1_000_000_000n, 2_500_000_000n); // 2.5 GHz TSC
 * publishPvclockVcpuTimeInfo(mem, 0x100n, {
 *   tscTimestamp: 0n,
 *   systemTime: 0n,
 *   tscToSystemMul: mul,
 *   tscShift: shift,
 *   flags: 0,
 * });
 * const ns = pvclockReadCycles(readPvclockVcpuTimeInfo(mem, 0x100n), 2_500_000_000n);
 * assertEquals(ns, 999_999_999n); // one second of ticks, truncated
 * ```
 *
 * @module
 */

export * from "./cpuid.ts";
export * from "./msr.ts";
export * from "./hypercall.ts";
export * from "./pvclock_vcpu_time_info.ts";
export * from "./pvclock_wall_clock.ts";
export * from "./kvm_steal_time.ts";
export * from "./kvm_vcpu_pv_apf_data.ts";
export * from "./kvm_clock_pairing.ts";
export * from "./seqlock.ts";
export * from "./pvclock.ts";
export * from "./tsc.ts";

// The guest-memory types the codecs and seqlock helpers take, from the core.
export type { Gpa, GuestMemory } from "@pvkit/machine";
export * from "./async_pf_state.ts";
export * from "./pv_unhalt_state.ts";
