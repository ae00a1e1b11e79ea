/**
 * The interrupt-request hook: how plugins ask for interrupts without knowing the APIC model.
 *
 * @module
 */

/** Local APIC delivery modes (ICR bits 10:8), as KVM accepts them from PV IPIs. */
export type DeliveryMode = "fixed" | "lowest" | "smi" | "remote-read" | "nmi" | "init" | "startup";

/** The delivery mode encoded in ICR bits 10:8, indexed by that field's value. */
export const DELIVERY_MODES: readonly DeliveryMode[] = [
  "fixed",
  "lowest",
  "smi",
  "remote-read",
  "nmi",
  "init",
  "startup",
  "fixed", // 7 is reserved; KVM treats unknown modes as no delivery, callers check the raw field
];

/** One interrupt to deliver to one destination APIC (physical destination mode). */
export interface InterruptRequest {
  /** The destination APIC ID. */
  readonly destination: number;
  /** The vector (ignored for NMI and INIT). */
  readonly vector: number;
  /** How to deliver it. */
  readonly deliveryMode: DeliveryMode;
  /** ICR bit 14 (assert). */
  readonly level: boolean;
  /** ICR bit 15 (true = level-triggered). */
  readonly levelTriggered: boolean;
}

/** Something that accepts interrupt requests: a local APIC model or a backend's irqchip. */
export interface InterruptSink {
  /** Delivers the request; returns true when the destination accepted it (kvm_apic_set_irq). */
  deliver(request: InterruptRequest): boolean;
}
