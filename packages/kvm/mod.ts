/**
 * `@pvkit/kvm`: Linux KVM from Deno, through FFI, for pvkit's KVM backend.
 *
 * This first layer holds the ioctl and capability numbers ({@linkcode KVM_IOCTL},
 * {@linkcode KVM_CAP}), the `kvm_cpuid2` codec, the `/dev/kvm` system fd
 * ({@linkcode KvmSystem}, one method per ioctl, named after it), {@linkcode probeKvm} to ask
 * whether KVM is usable at all, and {@linkcode readKvmPvLeaf} for the host's KVM PV CPUID leaf.
 * Failing calls throw {@linkcode KvmError}, which names the ioctl and the errno.
 *
 * Raw pointers stay inside the package's libc layer; everything exported here takes and
 * returns numbers, bigints and typed arrays. Calls are synchronous on the calling thread (run
 * vCPUs in Workers). Needs `--allow-ffi` (unscoped); `/dev/kvm` itself must be readable and
 * writable by the user.
 *
 * @example
 * ```ts
 * import { KvmSystem, probeKvm, readKvmPvLeaf } from "@pvkit/kvm";
 * const kvm = probeKvm();
 * if (!kvm.usable) {
 *   console.log(`KVM unavailable: ${kvm.reason}`);
 * } else {
 *   using sys = KvmSystem.open();
 *   console.log(sys.kvmGetVcpuMmapSize(), readKvmPvLeaf(sys).eax.toString(16));
 * }
 * ```
 *
 * @module
 */
export * from "./availability.ts";
export * from "./cpuid2.ts";
export * from "./errno.ts";
export * from "./doctor.ts";
export * from "./errors.ts";
export * from "./exit_bench.ts";
export * from "./exits.ts";
export * from "./guest_memory.ts";
export * from "./host_leaf.ts";
export * from "./ioctl_numbers.ts";
export * from "./kvm_fd.ts";
export * from "./kvm_kind.ts";
export * from "./long_mode.ts";
export * from "./runner.ts";
export * from "./stats.ts";
export * from "./structs.ts";
export * from "./system.ts";
export * from "./vcpu.ts";
export * from "./vcpu_thread.ts";
export * from "./vm.ts";
// Re-exported so this package's errors can be caught (and documented) without a second import.
export { PvkitError } from "@pvkit/machine";
// Types of other pvkit packages that appear in this package's signatures.
export { ArrayGuestMemory } from "@pvkit/machine";
export type { Gpa, GuestMemory } from "@pvkit/machine";
export type { GuestChunk } from "@pvkit/x86";
