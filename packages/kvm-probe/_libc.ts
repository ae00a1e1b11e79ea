// The few libc calls @pvkit/kvm does not expose (internal): thread affinity for `preempt`, and
// KVM_SET_MP_STATE on a vCPU fd (application processors start in wait-for-SIPI with an
// in-kernel irqchip).

import { KVM_IOCTL } from "@pvkit/kvm";

const SYMBOLS = {
  sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
  sched_getaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** libc, opened once. */
export function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** KVM_MP_STATE_RUNNABLE. */
const KVM_MP_STATE_RUNNABLE = 0;

/** KVM_SET_MP_STATE(RUNNABLE) on a vCPU fd; returns 0 or -1. */
export function setMpStateRunnable(vcpuFd: number): number {
  const state = new Uint32Array([KVM_MP_STATE_RUNNABLE]);
  return libc().ioctl(vcpuFd, BigInt(KVM_IOCTL.KVM_SET_MP_STATE), state);
}

/**
 * KVM_GET_MP_STATE on a vCPU fd: also makes KVM accept pending INIT/SIPI
 * (kvm_arch_vcpu_ioctl_get_mpstate → kvm_apic_accept_events → kvm_vcpu_reset). The state, or
 * -1 when the ioctl failed.
 */
export function getMpState(vcpuFd: number): number {
  const state = new Uint32Array(1);
  const r = libc().ioctl(vcpuFd, BigInt(KVM_IOCTL.KVM_GET_MP_STATE), state);
  return r === 0 ? state[0] : -1;
}

/**
 * KVM_SIGNAL_MSI on a VM fd: an INIT (delivery mode 5, edge, assert) to physical APIC ID
 * `apicId` (below 256), as a VMM's INIT does. Returns what the ioctl returned (> 0: delivered).
 */
export function signalInit(vmFd: number, apicId: number): number {
  // struct kvm_msi: address_lo, address_hi, data, flags, devid, pad[12].
  const msi = new Uint32Array(8);
  msi[0] = 0xfee00000 | ((apicId & 0xff) << 12);
  msi[2] = 0x4500;
  return libc().ioctl(vmFd, BigInt(KVM_IOCTL.KVM_SIGNAL_MSI), msi);
}
