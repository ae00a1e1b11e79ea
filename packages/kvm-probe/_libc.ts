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
