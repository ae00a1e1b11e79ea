/**
 * Options of an emulated machine.
 *
 * @module
 */

import { MAX_GUEST_TSC_KHZ } from "@pvkit/abi";
import { PvkitError, type UserHypercallExit, type VcpuContext } from "@pvkit/machine";

/** A raw CPUID override: registers to force on one leaf (and subleaf). */
export interface CpuidOverride {
  /** The leaf. */
  readonly leaf: number;
  /** The subleaf (default 0). */
  readonly subleaf?: number;
  /** EAX to force. */
  readonly eax?: number;
  /** EBX to force. */
  readonly ebx?: number;
  /** ECX to force. */
  readonly ecx?: number;
  /** EDX to force. */
  readonly edx?: number;
}

/** How the emulated host behaves. All times are virtual nanoseconds. */
export interface EmuOptions {
  /** Guest RAM in bytes (default 16 MiB). */
  readonly memory?: number;
  /** Guest TSC frequency in kHz, 1 to {@linkcode MAX_GUEST_TSC_KHZ} (default 2 600 000, 2.6 GHz). */
  readonly tscKhz?: number;
  /** Host CPUs the vCPUs are spread over (vCPU i runs on host CPU i % hostCpus; default: one per vCPU). */
  readonly hostCpus?: number;
  /** Scheduler time slice when vCPUs share a host CPU (default 1 ms). */
  readonly timeSliceNs?: number;
  /** CLOCK_REALTIME at VM creation, ns since 1970 (default: the host's real time then). */
  readonly wallClockEpochNs?: bigint;
  /** KVM_SET_CLOCK at creation: kvmclock's value at time 0 (default 0). */
  readonly kvmclockNs?: bigint;
  /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID on every vCPU (default false, as in KVM). */
  readonly enforcePvCpuid?: boolean;
  /** Hypercall numbers with KVM_CAP_EXIT_HYPERCALL enabled (KVM allows only 12). */
  readonly exitHypercall?: readonly number[];
  /** The VMM's handler for KVM_EXIT_HYPERCALL (default: returns 0 without writing ret). */
  readonly onUserHypercall?: (vcpu: VcpuContext, exit: UserHypercallExit) => bigint;
  /** Raw CPUID overrides applied after composition (like editing KVM_SET_CPUID2 input). */
  readonly cpuid?: readonly CpuidOverride[];
  /** Cost of a VM exit round trip (default 1 µs). */
  readonly exitCostNs?: number;
  /** Cost of a guest instruction that does not exit (default 1 ns). */
  readonly instructionCostNs?: number;
  /** Whether the host has sched_info_on() (steal time; default true). */
  readonly schedInfo?: boolean;
  /**
   * KVM_CAP_X2APIC_API (32-bit APIC IDs, no broadcast quirk). Default: on when an APIC ID is
   * above 254, as QEMU and pvkit's KVM backend enable it.
   */
  readonly x2apicApi?: boolean;
  /**
   * The VMM does KVM_SET_LAPIC on every vCPU before it runs, as QEMU does at machine reset, so
   * every vCPU is in KVM's APIC map from the start (default true). With false, the map is the one
   * KVM built while creating the vCPUs: kvm_lapic_reset rebuilds it while the new vCPU is not yet
   * online, so every vCPU but the last created is in it (measured on a nested KVM: a PV kick
   * reached the middle one of three vCPUs, not the last of two, although it had run). A vCPU
   * joins later on {@linkcode EmuMachine.setLapic}.
   */
  readonly setLapicOnCreate?: boolean;
  /**
   * Local APICs start (and come out of RESET/INIT) software-enabled, as a booted Linux leaves
   * them (default true). False gives KVM's own reset value, SVR = 0xff: software-disabled, so
   * FIXED interrupts and PV IPIs are refused until the guest enables it.
   */
  readonly apicSoftwareEnabledAtReset?: boolean;
}

/** Options with every default filled in. */
export interface ResolvedEmuOptions {
  /** Guest RAM in bytes. */
  readonly memory: number;
  /** TSC kHz. */
  readonly tscKhz: number;
  /** Host CPUs. */
  readonly hostCpus: number;
  /** Time slice. */
  readonly timeSliceNs: bigint;
  /** Realtime at creation. */
  readonly wallClockEpochNs: bigint;
  /** kvmclock at creation. */
  readonly kvmclockNs: bigint;
  /** Enforcement. */
  readonly enforcePvCpuid: boolean;
  /** Exit-hypercall numbers. */
  readonly exitHypercall: readonly number[];
  /** User hypercall handler. */
  readonly onUserHypercall: (vcpu: VcpuContext, exit: UserHypercallExit) => bigint;
  /** CPUID overrides. */
  readonly cpuid: readonly CpuidOverride[];
  /** Exit cost. */
  readonly exitCostNs: bigint;
  /** Instruction cost. */
  readonly instructionCostNs: bigint;
  /** sched_info_on(). */
  readonly schedInfo: boolean;
}

/** 16 MiB: the default guest RAM. */
export const DEFAULT_MEMORY = 16 * 1024 * 1024;

/** A 2.6 GHz TSC, what this project's machines report (ENVIRONMENT.md). */
export const DEFAULT_TSC_KHZ = 2_600_000;

/**
 * Fills in the defaults.
 *
 * @example
 * ```ts
 * import { resolveEmuOptions } from "@pvkit/emu";
 * console.log(resolveEmuOptions({}, 4).hostCpus); // 4
 * ```
 */
export function resolveEmuOptions(options: EmuOptions, vcpus: number): ResolvedEmuOptions {
  const tscKhz = options.tscKhz ?? DEFAULT_TSC_KHZ;
  if (!Number.isInteger(tscKhz) || tscKhz < 1 || tscKhz > MAX_GUEST_TSC_KHZ) {
    throw new PvkitError(
      "bad-tsc-khz",
      `a guest TSC of ${tscKhz} kHz is outside what KVM_SET_TSC_KHZ accepts (1-${MAX_GUEST_TSC_KHZ})`,
      "give the TSC frequency in kHz, e.g. 2600000 for 2.6 GHz",
    );
  }
  return {
    memory: options.memory ?? DEFAULT_MEMORY,
    tscKhz,
    hostCpus: Math.max(1, options.hostCpus ?? vcpus),
    timeSliceNs: BigInt(options.timeSliceNs ?? 1_000_000),
    wallClockEpochNs: options.wallClockEpochNs ?? BigInt(Date.now()) * 1_000_000n,
    kvmclockNs: options.kvmclockNs ?? 0n,
    enforcePvCpuid: options.enforcePvCpuid ?? false,
    exitHypercall: options.exitHypercall ?? [],
    onUserHypercall: options.onUserHypercall ?? (() => 0n),
    cpuid: options.cpuid ?? [],
    exitCostNs: BigInt(options.exitCostNs ?? 1000),
    instructionCostNs: BigInt(options.instructionCostNs ?? 1),
    schedInfo: options.schedInfo ?? true,
  };
}
