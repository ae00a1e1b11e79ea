/**
 * `@pvkit/kvm-probe`: runs probe programs (`@pvkit/probe`) on real `/dev/kvm`.
 *
 * Each vCPU's steps are compiled into 64-bit guest code with `@pvkit/x86`'s Assembler
 * ({@linkcode compileVcpu}); {@linkcode KvmProbeBackend} builds the probe's machine (CPUID,
 * enforcement, irqchip, KVM_SET_CLOCK), runs every vCPU under a watchdog and returns results
 * in the emulated backend's shapes. Hypercalls are detected once per process
 * ({@linkcode detectHypercalls}) and skipped where they hang. {@linkcode diffProbeRuns}
 * compares an emulated run with a KVM run.
 *
 * @example
 * ```ts
 * import { KvmProbeBackend } from "@pvkit/kvm-probe";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({
 *   name: "enforcement",
 *   machine: { enforcePvCpuid: true, cpuid: { "0x40000001": { eax: "0x0" } } },
 *   vcpus: [{ steps: [{ op: "rdmsr", msr: "0x4b564d01", expect: { fault: "GP" } }] }],
 * });
 * const run = await new KvmProbeBackend().run(probe, { timeoutMs: 2000 });
 * console.log(run.vcpus[0].results[0]); // { op: "rdmsr", fault: "GP" } where KVM is usable
 * ```
 *
 * @module
 */
export * from "./compile.ts";
export * from "./hypercalls.ts";
export * from "./preempt.ts";
export * from "./kvm_probe_backend.ts";
export * from "./diff.ts";
export * from "./vcpu_cpuid.ts";
export * from "./kvm_vcpu_context.ts";
export * from "./vmm_exits.ts";
// Types of other pvkit packages that appear in this package's signatures.
export type * from "@pvkit/probe";
export type * from "@pvkit/machine";
export type {
  AssembledCode,
  CpuidEntry,
  GuestChunk,
  KvmVm,
  MsrFilter,
  MsrFilterRange,
  VcpuExit,
} from "@pvkit/kvm";
