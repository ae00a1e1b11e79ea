/**
 * What a hook sees of the vCPU that triggered it.
 *
 * @module
 */

import type { GuestMemory } from "./guest_memory.ts";
import type { InterruptRequest } from "./interrupt.ts";

/**
 * The vCPU on whose behalf a hook runs. Backends implement it; plugins only read it and ask for
 * effects through it, so the same plugin runs on the emulated and the KVM backend.
 */
export interface VcpuContext {
  /** The vCPU's index (KVM's vcpu_id). */
  readonly index: number;
  /** The vCPU's APIC ID. */
  readonly apicId: number;
  /** Guest RAM. */
  readonly memory: GuestMemory;
  /** True when the guest runs in 64-bit mode (EFER.LMA and CS.L). */
  readonly longMode: boolean;
  /** The current privilege level (0 = kernel). */
  readonly cpl: number;
  /**
   * KVM's `guest_pv_has(bit)`: true when PV CPUID enforcement is off, or when the guest's KVM
   * leaf advertises the bit (kvm-pv-abi.md §7).
   */
  pvHas(bit: number): boolean;
  /** Asks the interrupt controller to deliver an interrupt; true if it was accepted. */
  requestInterrupt(request: InterruptRequest): boolean;
}
