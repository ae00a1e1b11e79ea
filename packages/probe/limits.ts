/**
 * The limits a probe program must stay within. A probe beyond one is refused with a
 * {@linkcode ProbeError} that names the limit, before anything is allocated or run.
 *
 * @module
 */

/**
 * The stated limits of a probe program.
 *
 * @example
 * ```ts
 * import { PROBE_LIMITS } from "@pvkit/probe";
 * console.log(PROBE_LIMITS.memoryBytes / 2 ** 20); // 1024 (MiB)
 * ```
 */
export const PROBE_LIMITS: {
  /** Guest RAM: 1 GiB (the emulated backend allocates all of it, zeroed). */
  readonly memoryBytes: number;
  /** vCPUs: 32768, KVM's KVM_MAX_VCPUS on x86 and pvkit's largest machine. */
  readonly vcpus: number;
  /** Steps over all vCPUs: 131072 (2^17), four per vCPU on the largest machine. */
  readonly steps: number;
  /** The probe file: 32 MiB of JSON. */
  readonly fileBytes: number;
  /**
   * CPUID overrides: 256, KVM's KVM_MAX_CPUID_ENTRIES (arch/x86/include/asm/kvm_host.h);
   * KVM_SET_CPUID2 refuses more entries with E2BIG.
   */
  readonly cpuidOverrides: number;
} = {
  memoryBytes: 1 << 30,
  vcpus: 32768,
  steps: 1 << 17,
  fileBytes: 32 << 20,
  cpuidOverrides: 256,
};
