/**
 * A small local APIC: ID, xAPIC/x2APIC mode, hardware enable (IA32_APIC_BASE bit 11) and
 * software enable (SVR bit 8), IRR/ISR, fixed and NMI delivery, EOI.
 *
 * @module
 */

import type { DeliveryMode, LocalApicAccess } from "@pvkit/machine";

/** A 256-bit vector set (IRR, ISR). */
class VectorSet {
  readonly #words = new Uint32Array(8);
  set(v: number): void {
    this.#words[v >>> 5] |= 1 << (v & 31);
  }
  clear(v: number): void {
    this.#words[v >>> 5] &= ~(1 << (v & 31));
  }
  has(v: number): boolean {
    return (this.#words[v >>> 5] & (1 << (v & 31))) !== 0;
  }
  highest(): number {
    for (let w = 7; w >= 0; w--) {
      const word = this.#words[w];
      if (word !== 0) return w * 32 + 31 - Math.clz32(word);
    }
    return -1;
  }
  reset(): void {
    this.#words.fill(0);
  }
}

/**
 * The local APIC of one emulated vCPU.
 *
 * @example
 * ```ts
 * import { LocalApic } from "@pvkit/emu";
 * const apic = new LocalApic(3, true);
 * apic.accept("fixed", 0x40);
 * console.log(apic.irrPending(), apic.highestIrr()); // true 64
 * ```
 */
export class LocalApic implements LocalApicAccess {
  /** The APIC ID. */
  readonly id: number;
  /** Called when {@linkcode LocalApic.hardwareEnabled} changes (KVM marks its APIC map dirty). */
  onPresenceChange?: () => void;
  #hardwareEnabled = true;
  /**
   * SVR bit 8: KVM's kvm_apic_sw_enabled. A software-disabled APIC refuses FIXED and LOWEST
   * interrupts but still takes NMI and remote read (KICK_CPU).
   */
  softwareEnabled: boolean;
  readonly #softwareEnabledAtReset: boolean;
  /** x2APIC mode (IA32_APIC_BASE bit 10). */
  x2apic: boolean;
  /** A pending NMI. */
  nmiPending = false;
  /** EOIs performed (each one is an APIC write: a VM exit unless skipped by PV EOI). */
  eois = 0;
  readonly #irr = new VectorSet();
  readonly #isr = new VectorSet();
  #isrCache = -1;

  /**
   * Creates an APIC with an ID, in xAPIC or x2APIC mode. `softwareEnabledAtReset` is the SVR
   * enable after creation and every reset: true (the default) as a booted Linux leaves it,
   * false for KVM's own reset value (kvm_lapic_reset writes SVR = 0xff: disabled).
   */
  constructor(id: number, x2apic: boolean, softwareEnabledAtReset = true) {
    this.id = id;
    this.x2apic = x2apic;
    this.#softwareEnabledAtReset = softwareEnabledAtReset;
    this.softwareEnabled = softwareEnabledAtReset;
  }

  /**
   * IA32_APIC_BASE bit 11: KVM's kvm_apic_hw_enabled. A hardware-disabled APIC is not
   * "present" (kvm_apic_present): it is in no APIC map and no broadcast reaches it.
   */
  get hardwareEnabled(): boolean {
    return this.#hardwareEnabled;
  }

  /** Sets IA32_APIC_BASE bit 11. */
  set hardwareEnabled(on: boolean) {
    if (on === this.#hardwareEnabled) return;
    this.#hardwareEnabled = on;
    this.onPresenceChange?.();
  }

  /** Hardware- and software-enabled (what FIXED delivery needs). */
  get enabled(): boolean {
    return this.hardwareEnabled && this.softwareEnabled;
  }

  /** Sets the software enable (SVR bit 8), as a guest's SVR write does. */
  set enabled(on: boolean) {
    this.softwareEnabled = on;
  }

  /**
   * Accepts an interrupt (KVM's __apic_accept_irq): FIXED and LOWEST need the APIC enabled and
   * are refused as level-triggered deasserts (as INIT is); NMI, SMI, STARTUP and remote read
   * count regardless of the enable bit (remote read's pv_unhalted is the vCPU's business).
   */
  accept(mode: DeliveryMode, vector: number, level = true, levelTriggered = false): boolean {
    const deassert = levelTriggered && !level;
    switch (mode) {
      case "nmi":
        this.nmiPending = true;
        return true;
      case "fixed":
      case "lowest":
        if (!this.enabled || deassert) return false;
        this.#irr.set(vector & 0xff);
        return true;
      case "init":
        return !deassert;
      default:
        return true; // SMI, STARTUP, remote read: accepted, not modelled further
    }
  }

  /** The highest vector pending in the IRR, or -1. */
  highestIrr(): number {
    return this.#irr.highest();
  }

  /** True when any vector is pending in the IRR. */
  irrPending(): boolean {
    return this.#irr.highest() >= 0;
  }

  /**
   * KVM's highest_isr_cache: the vector that last went into service, or -1 after an EOI even
   * when other vectors are still in service (apic_clear_isr); PV EOI arms only from it.
   */
  highestIsr(): number {
    return this.#isrCache;
  }

  /** The true highest in-service vector, or -1 (what an EOI clears). */
  highestInService(): number {
    return this.#isr.highest();
  }

  /** True when `vector` is in service. */
  inService(vector: number): boolean {
    return this.#isr.has(vector);
  }

  /**
   * Moves the highest pending vector into service if its priority class beats the highest
   * in-service one; returns it, or -1 (what the CPU does when it takes an interrupt).
   */
  acknowledge(): number {
    const irr = this.#irr.highest();
    if (irr < 0 || (irr >> 4) <= (this.#isr.highest() >> 4)) return -1;
    this.#irr.clear(irr);
    this.#isr.set(irr);
    this.#isrCache = irr;
    return irr;
  }

  /** EOI: clears the highest in-service vector. */
  eoi(): void {
    const isr = this.#isr.highest();
    if (isr >= 0) this.#isr.clear(isr);
    this.#isrCache = -1;
    this.eois++;
  }

  /**
   * APIC reset: empty IRR/ISR, hardware-enabled, the software enable as at creation, xAPIC
   * mode kept as configured.
   */
  reset(): void {
    this.#irr.reset();
    this.#isr.reset();
    this.#isrCache = -1;
    this.nmiPending = false;
    this.hardwareEnabled = true;
    this.softwareEnabled = this.#softwareEnabledAtReset;
  }
}
