/**
 * The hook interfaces every plugin and backend shares: CPUID leaves, MSRs, hypercalls and I/O
 * ports. A hook returns its outcome as data (a #GP is a result, never an exception).
 *
 * @module
 */

import type { CpuidRegisters } from "./cpuid.ts";
import type { VcpuContext } from "./vcpu_context.ts";

/** The outcome of a guest RDMSR. */
export type MsrReadResult = { readonly kind: "value"; readonly value: bigint } | {
  readonly kind: "gp";
};

/** The outcome of a guest WRMSR. */
export type MsrWriteResult = { readonly kind: "ok" } | { readonly kind: "gp" };

/** The shared #GP outcome (no allocation on the hot path). */
export const MSR_GP: { readonly kind: "gp" } = Object.freeze({ kind: "gp" });

/** The shared successful-write outcome. */
export const MSR_OK: { readonly kind: "ok" } = Object.freeze({ kind: "ok" });

/**
 * Builds a successful RDMSR outcome.
 *
 * @example
 * ```ts
 * import { msrValue } from "@pvkit/machine";
 * console.log(msrValue(1n)); // { kind: "value", value: 1n }
 * ```
 */
export function msrValue(value: bigint): MsrReadResult {
  return { kind: "value", value };
}

/** Who performs an MSR access: the guest (RDMSR/WRMSR) or the VMM (KVM_GET/SET_MSRS). */
export type MsrInitiator = "guest" | "host";

/** Handles a set of MSRs. */
export interface MsrHook {
  /** The MSR indices this hook handles. */
  readonly msrs: readonly number[];
  /**
   * For hooks made by `gatedMsrHook`: each MSR's CPUID gate bit, and the handler behind the
   * gate, so a backend can check the gate itself and call the handler directly.
   */
  readonly gated?: {
    readonly bitOf: (msr: number) => number;
    readonly read: (vcpu: VcpuContext, msr: number, initiator: MsrInitiator) => MsrReadResult;
    readonly write: (
      vcpu: VcpuContext,
      msr: number,
      value: bigint,
      initiator: MsrInitiator,
    ) => MsrWriteResult;
  };
  /** Reads an MSR. */
  read(vcpu: VcpuContext, msr: number, initiator: MsrInitiator): MsrReadResult;
  /** Writes an MSR. */
  write(vcpu: VcpuContext, msr: number, value: bigint, initiator: MsrInitiator): MsrWriteResult;
}

/** The registers a hypercall passes: RAX = nr, a0..a3 = RBX, RCX, RDX, RSI (kvm-pv-abi.md §5). */
export interface HypercallArgs {
  /** The hypercall number, already masked to 32 bits for a non-64-bit caller. */
  readonly nr: number;
  /** a0 (RBX), a1 (RCX), a2 (RDX), a3 (RSI), masked to 32 bits for a non-64-bit caller. */
  readonly args: readonly [bigint, bigint, bigint, bigint];
}

/** Handles one hypercall number. The return value is RAX as a signed 64-bit value. */
export interface HypercallHook {
  /** The hypercall number. */
  readonly nr: number;
  /** Runs the hypercall and returns RAX (e.g. `-1000n` for -KVM_ENOSYS). */
  call(vcpu: VcpuContext, call: HypercallArgs): bigint;
}

/** Handles a range of I/O ports. */
export interface IoPortHook {
  /** First port handled. */
  readonly first: number;
  /** Last port handled (inclusive). */
  readonly last: number;
  /** IN of `size` (1, 2 or 4) bytes. */
  read(vcpu: VcpuContext, port: number, size: 1 | 2 | 4): number;
  /** OUT of `size` (1, 2 or 4) bytes. */
  write(vcpu: VcpuContext, port: number, size: 1 | 2 | 4, value: number): void;
}

/** An event the VMM causes through a KVM ioctl. */
export type HostEvent =
  | { readonly kind: "kvmclock-ctrl" }
  | { readonly kind: "set-clock" };

/** Adjusts one CPUID leaf beyond the static bits the manifests declare. */
export interface CpuidHook {
  /** The leaf. */
  readonly leaf: number;
  /** The subleaf, when the leaf has them. */
  readonly subleaf?: number;
  /** Edits the registers a vCPU will see. */
  contribute(vcpuIndex: number, registers: CpuidRegisters): void;
}

/** Why a vCPU is reset: RESET (power-on) or INIT (kvm_vcpu_reset's init_event). */
export type ResetKind = "reset" | "init";

/** Callbacks at the points of a vCPU's life where KVM's PV code runs. */
export interface VcpuLifecycleHook {
  /** The vCPU thread was scheduled in (vcpu_load). */
  onLoad?(vcpu: VcpuContext): void;
  /** On the way into the guest, first: KVM processes its requests (clock, steal time…). */
  onEntry?(vcpu: VcpuContext): void;
  /**
   * Last, after pending interrupts were injected, right before guest mode
   * (kvm_lapic_sync_to_vapic: where PV EOI is armed).
   */
  beforeGuest?(vcpu: VcpuContext): void;
  /** Just after leaving the guest. */
  onExit?(vcpu: VcpuContext): void;
  /** The vCPU thread was scheduled out; `preempted` when it was still runnable (vcpu_put). */
  onPut?(vcpu: VcpuContext, preempted: boolean): void;
  /** The vCPU executes HLT; return true if it must not block (e.g. pv_unhalted is set). */
  onHalt?(vcpu: VcpuContext): boolean;
  /** The vCPU became runnable (woken from HLT, or from a hold of {@linkcode holdsEntry}). */
  onRunnable?(vcpu: VcpuContext): void;
  /**
   * Asked before the vCPU enters the guest again: true holds it off its CPU, blocked as in HLT
   * (woken by a kick or an interrupt it can take), without being halted. KVM's artificial
   * async-PF halt (KVM_REQ_APF_HALT, vcpu->arch.apf.halted) works this way.
   */
  holdsEntry?(vcpu: VcpuContext): boolean;
  /** The vCPU is reset. */
  onReset?(vcpu: VcpuContext, kind: ResetKind): void;
  /** The VMM issued an ioctl that concerns this vCPU; return false to make it fail (EINVAL). */
  onHostEvent?(vcpu: VcpuContext, event: HostEvent): boolean;
}

/** Routes an MSI: the destination APIC ID encoded in an MSI address, or undefined to decline. */
export interface MsiHook {
  /** Decodes the destination of an MSI (address bits 19:12, plus 11:5 with ext dest ID). */
  destination(addressLo: number, addressHi: number): number | undefined;
}

/** The hooks one plugin instance contributes to a running machine. */
export interface PluginHooks {
  /** CPUID adjustments. */
  readonly cpuid?: readonly CpuidHook[];
  /** MSR handlers. */
  readonly msrs?: readonly MsrHook[];
  /** Hypercall handlers. */
  readonly hypercalls?: readonly HypercallHook[];
  /** I/O port handlers. */
  readonly ioPorts?: readonly IoPortHook[];
  /** vCPU life-cycle callbacks. */
  readonly lifecycle?: readonly VcpuLifecycleHook[];
  /** MSI routing. */
  readonly msi?: MsiHook;
}
