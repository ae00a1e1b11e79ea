/**
 * A small local APIC: ID, xAPIC/x2APIC mode, hardware enable (IA32_APIC_BASE bit 11) and
 * software enable (SVR bit 8), IRR/ISR/TMR, TPR, fixed and NMI delivery, EOI, and the register
 * reads and writes of KVM's kvm_lapic_reg_read/kvm_lapic_reg_write for those registers.
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
  /** Bits 32i..32i+31, as the register at offset base + 0x10·i reads. */
  word(i: number): number {
    return this.#words[i] >>> 0;
  }
}

/** Register offsets in the xAPIC page (Intel SDM table 10-1). */
const REG = {
  id: 0x20,
  version: 0x30,
  tpr: 0x80,
  eoi: 0xb0,
  svr: 0xf0,
  isr: 0x100,
  tmr: 0x180,
  irr: 0x200,
  esr: 0x280,
} as const;

/** KVM's reset SVR (kvm_lapic_reset: apic_set_spiv(apic, 0xff)). */
const SVR_AT_RESET = 0xff;
/** APIC_VERSION 0x14 with KVM_APIC_LVT_NUM - 1 = 5 LVT entries above the first (6.1). */
const APIC_LVR = 0x50014;

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
  get softwareEnabled(): boolean {
    return (this.#svr & 0x100) !== 0;
  }

  /** Sets SVR bit 8. */
  set softwareEnabled(on: boolean) {
    this.#svr = on ? this.#svr | 0x100 : this.#svr & ~0x100;
  }

  /** The SVR (spurious vector and software enable). */
  get svr(): number {
    return this.#svr;
  }

  /** The TPR. */
  tpr = 0;
  /** IA32_APIC_BASE bit 8: the bootstrap processor (vCPU 0 at RESET). */
  bsp = false;
  #svr = SVR_AT_RESET;
  readonly #softwareEnabledAtReset: boolean;
  /** x2APIC mode (IA32_APIC_BASE bit 10). */
  x2apic: boolean;
  /** A pending NMI. */
  nmiPending = false;
  /** EOIs performed (each one is an APIC write: a VM exit unless skipped by PV EOI). */
  eois = 0;
  readonly #irr = new VectorSet();
  readonly #isr = new VectorSet();
  readonly #tmr = new VectorSet();
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
  reset(kind: "reset" | "init" = "reset"): void {
    this.#irr.reset();
    this.#isr.reset();
    this.#tmr.reset();
    this.#isrCache = -1;
    this.nmiPending = false;
    this.tpr = 0;
    this.#svr = SVR_AT_RESET;
    this.softwareEnabled = this.#softwareEnabledAtReset;
    // kvm_lapic_reset: only RESET rewrites IA32_APIC_BASE (0xFEE00000, enabled, xAPIC).
    if (kind === "reset") {
      this.hardwareEnabled = true;
      this.x2apic = false;
    }
  }

  /**
   * IA32_APIC_BASE as RDMSR reads it: 0xFEE00000, bit 11 enabled, bit 10 x2APIC, bit 8 BSP.
   */
  get apicBase(): bigint {
    return 0xfee00000n | (this.hardwareEnabled ? 0x800n : 0n) | (this.x2apic ? 0x400n : 0n) |
      (this.bsp ? 0x100n : 0n);
  }

  /**
   * A register read (kvm_lapic_reg_read) at xAPIC offset `reg`, or undefined for a register
   * this model does not hold (the backends then #GP through the x2APIC MSR, as KVM does for a
   * register outside its valid mask, and read 0 through MMIO).
   */
  readRegister(reg: number): number | undefined {
    switch (reg) {
      case REG.id:
        return this.x2apic ? this.id : (this.id << 24) >>> 0;
      case REG.version:
        return APIC_LVR;
      case REG.tpr:
        return this.tpr;
      case REG.svr:
        return this.#svr;
      case REG.esr:
        return 0;
    }
    if (reg >= REG.isr && reg < REG.isr + 0x80) return this.#isr.word((reg - REG.isr) >> 4);
    if (reg >= REG.tmr && reg < REG.tmr + 0x80) return this.#tmr.word((reg - REG.tmr) >> 4);
    if (reg >= REG.irr && reg < REG.irr + 0x80) return this.#irr.word((reg - REG.irr) >> 4);
    return undefined;
  }

  /**
   * A register write (kvm_lapic_reg_write) of TPR, EOI or SVR (bits 0-9 kept); false for a
   * register that cannot be written (ID, version, ISR, TMR, IRR in x2APIC mode #GP on KVM).
   * The ICR is the vCPU's (it sends an IPI).
   */
  writeRegister(reg: number, value: number): boolean {
    switch (reg) {
      case REG.tpr:
        this.tpr = value & 0xff;
        return true;
      case REG.eoi:
        this.eoi();
        return true;
      case REG.svr:
        this.#svr = value & 0x3ff;
        return true;
      case REG.esr:
        return true;
      default:
        return !this.x2apic && this.readRegister(reg) !== undefined; // xAPIC ignores it
    }
  }
}
