/**
 * What a hook sees of the vCPU (and the VM) that triggered it: KVM's host side, as plugins
 * need it. Backends implement these interfaces; plugins only read them and ask for effects
 * through them, so the same plugin runs wherever a backend provides them.
 *
 * @module
 */

import type { GuestMemory } from "./guest_memory.ts";
import type { InterruptRequest } from "./interrupt.ts";
import type { SharedKey } from "./shared_key.ts";

/** Why a vCPU left guest mode, for exit accounting. */
export type ExitReason =
  | "cpuid"
  | "msr-read"
  | "msr-write"
  | "hypercall"
  | "io"
  | "hlt"
  | "eoi"
  | "ipi"
  | "mmio";

/** The local APIC of a vCPU, as KVM's PV code touches it. */
export interface LocalApicAccess {
  /** The APIC is software-enabled (SVR bit 8) and hardware-enabled. */
  readonly enabled: boolean;
  /** The APIC is in x2APIC mode. */
  readonly x2apic: boolean;
  /** The highest in-service vector, or -1 (KVM's highest_isr_cache). */
  highestIsr(): number;
  /** True when any vector is pending in the IRR. */
  irrPending(): boolean;
  /** Performs an EOI for the highest in-service vector (as the guest's EOI write would). */
  eoi(): void;
}

/** A VMM-side exit a plugin hands to userspace (KVM_EXIT_HYPERCALL). */
export interface UserHypercallExit {
  /** The hypercall number. */
  readonly nr: number;
  /** a0..a2 as KVM puts them in run->hypercall.args. */
  readonly args: readonly [bigint, bigint, bigint];
  /** KVM_EXIT_HYPERCALL_LONG_MODE: the caller was in 64-bit mode. */
  readonly longMode: boolean;
}

/** The VM a vCPU belongs to. */
export interface VmContext {
  /** Number of vCPUs. */
  readonly vcpuCount: number;
  /** Guest RAM. */
  readonly memory: GuestMemory;
  /** The guest TSC frequency in kHz. */
  readonly tscKhz: number;
  /** The host has sched_info_on() (schedstats): steal time works (kvm-pv-abi.md §1, §2). */
  readonly schedInfo: boolean;
  /** True when KVM has an APIC map (an in-kernel LAPIC); PV IPIs return -95 without it. */
  readonly inKernelLapic: boolean;
  /** The highest APIC ID of the VM (KVM's max_apic_id). */
  readonly maxApicId: number;
  /** A vCPU by index. */
  vcpu(index: number): VcpuContext;
  /** A vCPU by APIC ID (KVM's physical APIC map), or undefined. */
  vcpuByApicId(apicId: number): VcpuContext | undefined;
  /**
   * KVM's `kvm_irq_delivery_to_apic` for a physical destination without shorthand: a
   * broadcast destination (`kvm_apic_is_broadcast_dest`) goes to every present APIC that
   * matches (`kvm_apic_match_dest`), any other through the APIC map. `source` is the sending
   * vCPU, undefined for a host-made message such as KICK_CPU's. Returns the APICs that
   * accepted it (-1 when a broadcast matched none). Optional: only backends that model KVM's
   * local APICs have it.
   */
  deliverToApic?(source: VcpuContext | undefined, request: InterruptRequest): number;
  /** kvmclock now: host nanoseconds since VM creation, plus the KVM_SET_CLOCK offset. */
  kvmclockNs(): bigint;
  /** Host CLOCK_REALTIME now, in ns since 1970. */
  realtimeNs(): bigint;
  /** True when the VMM enabled KVM_CAP_EXIT_HYPERCALL for this hypercall number. */
  exitHypercallEnabled(nr: number): boolean;
  /** Hands a hypercall to the VMM (KVM_EXIT_HYPERCALL); returns what it put in run->hypercall.ret. */
  exitToUserspace(vcpu: VcpuContext, exit: UserHypercallExit): bigint;
  /** True when the host runqueue of `vcpu` has other runnable tasks (yield_to is worth it). */
  runqueueBusy(vcpu: VcpuContext): boolean;
  /** Directed yield: gives `from`'s host CPU time to `to`; true if it happened. */
  yieldTo(from: VcpuContext, to: VcpuContext): boolean;
}

/**
 * The vCPU on whose behalf a hook runs.
 */
export interface VcpuContext {
  /** The vCPU's index (KVM's vcpu_id). */
  readonly index: number;
  /** The vCPU's APIC ID. */
  readonly apicId: number;
  /** The VM. */
  readonly vm: VmContext;
  /** Guest RAM. */
  readonly memory: GuestMemory;
  /** True when the guest runs in 64-bit mode (EFER.LMA and CS.L). */
  readonly longMode: boolean;
  /** The current privilege level (0 = kernel). */
  readonly cpl: number;
  /** The local APIC, absent without an in-kernel LAPIC. */
  readonly apic: LocalApicAccess | undefined;
  /**
   * KVM's `guest_pv_has(bit)`: true when PV CPUID enforcement is off, or when the guest's KVM
   * leaf advertises the bit (kvm-pv-abi.md §7).
   */
  pvHas(bit: number): boolean;
  /** The guest TSC now. */
  guestTsc(): bigint;
  /** The vCPU thread's run_delay so far: ns it was runnable but not running. */
  runDelayNs(): bigint;
  /** True when the vCPU was descheduled while runnable (KVM's vcpu->ready / preempted). */
  isPreempted(): boolean;
  /** True when the vCPU is halted (blocked in HLT). */
  isHalted(): boolean;
  /** Makes a halted vCPU runnable (kvm_vcpu_kick). */
  kick(): void;
  /** Asks the interrupt controller to deliver an interrupt; true if it was accepted. */
  requestInterrupt(request: InterruptRequest): boolean;
  /** Injects a #PF with CR2 = `cr2` and error code 0 (async PF 'page not present'). */
  injectPageFault(cr2: bigint): void;
  /** The host flushes this vCPU's guest TLB (counted). */
  flushTlb(): void;
  /**
   * Per-vCPU state kept for plugins, created on first use: by a {@linkcode SharedKey} (fast:
   * an array slot), or by name with a creator (the state of a protocol several plugins share).
   */
  shared<T>(key: SharedKey<T> | string, create?: () => T): T;
}
