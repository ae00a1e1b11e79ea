/**
 * One emulated vCPU: KVM's host side of it (the {@linkcode VcpuContext} plugins see) and the
 * guest instructions that reach the host (CPUID, RDMSR/WRMSR, hypercalls, port I/O, APIC
 * writes), each counted as the VM exit it would be on KVM.
 *
 * @module
 */

import {
  type CpuidRegisters,
  type DeliveryMode,
  GuestMemoryError,
  type InterruptRequest,
  type MsrReadResult,
  type MsrWriteResult,
  PvkitError,
  type SharedKey,
  type VcpuContext,
} from "@pvkit/machine";
import { pvUnhaltState } from "@pvkit/abi";
import type { EmuMachine } from "./emu_machine.ts";
import { type ExitCounts, newExitCounts } from "./exits.ts";
import { LocalApic } from "./local_apic.ts";

/** Where a vCPU is in its life. */
export type VcpuState = "runnable" | "halted" | "held" | "barrier" | "wait-irq" | "done";

/** A fault delivered to the guest by an instruction. */
export type GuestFaultKind = "GP" | "UD";

/** An exception injected by the host (async PF 'page not present'). */
export interface InjectedPageFault {
  /** CR2: the async PF token. */
  readonly cr2: bigint;
  /** When it was injected (vCPU time). */
  readonly atNs: bigint;
}

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;

function leafKey(leaf: number, subleaf: number): number {
  return leaf * 0x100 + (subleaf & 0xff);
}

/**
 * An emulated vCPU.
 */
export class EmuVcpu implements VcpuContext {
  /** The vCPU index. */
  readonly index: number;
  /** The APIC ID. */
  readonly apicId: number;
  /** The VM. */
  readonly vm: EmuMachine;
  /** The local APIC (absent with kernel-irqchip=off). */
  readonly apic: LocalApic | undefined;
  /** VM exits by reason. */
  readonly exits: ExitCounts = newExitCounts();
  /** 64-bit mode (hypercall argument and return widths, PV IPI cluster size). */
  longMode = true;
  /** Current privilege level. */
  cpl = 0;
  /** RFLAGS.IF. */
  interruptsEnabled = false;
  /** The vCPU's virtual time: ns since VM creation. */
  clock = 0n;
  /** Total time runnable but not running (the thread's run_delay). */
  runDelay = 0n;
  /** Where the scheduler has the vCPU. */
  state: VcpuState = "runnable";
  /** Guest TLB flushes the host performed for this vCPU. */
  tlbFlushes = 0;
  /** Vectors delivered to the guest (IRR → ISR) since creation, in order. */
  readonly delivered: number[] = [];
  /** Async PF 'page not present' faults injected, in order. */
  readonly pageFaults: InjectedPageFault[] = [];
  /** The interrupt command register as last written (x2APIC ICR, or xAPIC ICR2:ICR). */
  icr = 0n;
  /** Set after an exit or a schedule-in: KVM runs its entry work before the next instruction. */
  needsEntry = true;
  #preempted = false;
  #inApicMap = false;
  readonly #cpuid = new Map<number, CpuidRegisters>();
  #pvFeatures = 0;
  #enforce = false;
  readonly #shared = new Map<string, unknown>();
  readonly #slots: unknown[] = [];

  /**
   * Creates vCPU `index` with its APIC ID; `lapic` is an in-kernel LAPIC, created software-
   * enabled or not (see {@linkcode LocalApic}).
   */
  constructor(
    vm: EmuMachine,
    index: number,
    apicId: number,
    x2apic: boolean,
    lapic: boolean,
    apicSoftwareEnabledAtReset = true,
  ) {
    this.vm = vm;
    this.index = index;
    this.apicId = apicId;
    this.apic = lapic ? new LocalApic(apicId, x2apic, apicSoftwareEnabledAtReset) : undefined;
    // kvm_lapic_reset: IA32_APIC_BASE.BSP on the reset BSP (vCPU 0).
    if (this.apic) this.apic.bsp = index === 0;
  }

  /** The CPUID entry the guest would read, without executing CPUID (no exit). */
  cpuidEntry(leaf: number, subleaf = 0): CpuidRegisters {
    const regs = this.#cpuid.get(leafKey(leaf >>> 0, subleaf >>> 0)) ??
      this.#cpuid.get(leafKey(leaf >>> 0, 0));
    return regs ? { ...regs } : { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  }

  /** Guest RAM. */
  get memory(): EmuMachine["memory"] {
    return this.vm.memory;
  }

  /**
   * In KVM's APIC map: the vCPU has run or had its LAPIC set (nested-kvm.md: KVM's map holds
   * only those), so KICK_CPU, SEND_IPI, SCHED_YIELD and IPIs can find it by APIC ID.
   */
  get inApicMap(): boolean {
    return this.#inApicMap;
  }

  /** Puts the vCPU in KVM's APIC map (its first run, or KVM_SET_LAPIC). */
  joinApicMap(): void {
    if (this.#inApicMap) return;
    this.#inApicMap = true;
    this.vm.apicMap.invalidate();
  }

  /**
   * KVM_SET_CPUID2: installs the vCPU's CPUID and captures the PV features KVM enforces (EAX of
   * the KVM leaf located by its signature, 0 without one; kvm-pv-abi.md §7).
   */
  setCpuid(entries: readonly { leaf: number; subleaf: number; regs: CpuidRegisters }[]): void {
    this.#cpuid.clear();
    for (const e of entries) this.#cpuid.set(leafKey(e.leaf, e.subleaf), { ...e.regs });
    this.#pvFeatures = 0;
    for (let base = 0x40000000; base <= 0x4000ff00; base += 0x100) {
      const sig = this.#cpuid.get(leafKey(base, 0));
      if (sig && sig.ebx === 0x4b4d564b && sig.ecx === 0x564b4d56 && sig.edx === 0x4d) {
        this.#pvFeatures = this.#cpuid.get(leafKey(base + 1, 0))?.eax ?? 0;
        break;
      }
    }
  }

  /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID for this vCPU. */
  setEnforcePvCpuid(enforce: boolean): void {
    this.#enforce = enforce;
  }

  /** KVM's guest_pv_has(bit). */
  pvHas(bit: number): boolean {
    return !this.#enforce || ((this.#pvFeatures >>> bit) & 1) === 1;
  }

  /** The guest TSC now. */
  guestTsc(): bigint {
    return this.vm.tscAt(this.clock);
  }

  /** run_delay so far. */
  runDelayNs(): bigint {
    return this.runDelay;
  }

  /** Descheduled while runnable. */
  isPreempted(): boolean {
    return this.#preempted;
  }

  /** Halted in HLT. */
  isHalted(): boolean {
    return this.state === "halted";
  }

  /** Makes a blocked vCPU runnable (kvm_vcpu_kick wakes a vCPU blocked in HLT or held off). */
  kick(): void {
    if (this.state === "halted" || this.state === "held" || this.state === "wait-irq") {
      this.vm.scheduler.wake(this, this.vm.now);
    }
  }

  /** Delivers an interrupt to this vCPU's APIC; wakes it if it can take it. */
  requestInterrupt(request: InterruptRequest): boolean {
    if (!this.apic) return false;
    if (request.deliveryMode === "remote-read") {
      // APIC_DM_REMRD (KICK_CPU): the LAPIC sets pv_unhalted and kicks (kvm-pv-abi.md §5).
      pvUnhaltState(this).pvUnhalted = true;
      this.kick();
      return true;
    }
    const accepted = this.apic.accept(
      request.deliveryMode,
      request.vector,
      request.level,
      request.levelTriggered,
    );
    if (accepted && (request.deliveryMode === "nmi" || this.interruptsEnabled)) {
      this.vm.scheduler.wake(this, this.vm.now);
    }
    return accepted;
  }

  /** Injects an async PF 'page not present' #PF. */
  injectPageFault(cr2: bigint): void {
    this.pageFaults.push({ cr2, atNs: this.clock });
  }

  /** The host flushes this vCPU's TLB. */
  flushTlb(): void {
    this.tlbFlushes++;
  }

  /** Per-vCPU state kept for plugins (by key slot, or by name). Small, so it inlines. */
  shared<T>(key: SharedKey<T> | string, create?: () => T): T {
    if (typeof key === "string") return this.#sharedByName(key, create);
    return (this.#slots[key.slot] as T | undefined) ?? this.#createSlot(key);
  }

  #createSlot<T>(key: SharedKey<T>): T {
    const value = key.create(this);
    this.#slots[key.slot] = value;
    return value;
  }

  #sharedByName<T>(key: string, create: (() => T) | undefined): T {
    let value = this.#shared.get(key) as T | undefined;
    if (value === undefined) {
      if (!create) throw new PvkitError("no-shared-state", `no per-vCPU state named "${key}"`);
      value = create();
      this.#shared.set(key, value);
    }
    return value;
  }

  /** Records a deschedule (vcpu_put) and runs the plugins' onPut. */
  put(preempted: boolean): void {
    this.#preempted = preempted;
    for (const hook of this.vm.hooks.lifecycle) hook.onPut?.(this, preempted);
  }

  /** Records a schedule-in (vcpu_load). */
  load(): void {
    this.#preempted = false;
    this.needsEntry = true;
    for (const hook of this.vm.hooks.lifecycle) hook.onLoad?.(this);
  }

  /**
   * KVM's way into the guest (vcpu_enter_guest): requests first (the plugins' onEntry), then
   * interrupt injection, then the last sync before guest mode (beforeGuest: PV EOI arming).
   */
  enter(): void {
    if (!this.needsEntry) return;
    this.needsEntry = false;
    this.vm.now = this.clock;
    const hooks = this.vm.hooks.lifecycle;
    for (const hook of hooks) hook.onEntry?.(this);
    if (this.apic && this.interruptsEnabled) {
      const vector = this.apic.acknowledge();
      if (vector >= 0) this.delivered.push(vector);
    }
    for (const hook of hooks) hook.beforeGuest?.(this);
  }

  /**
   * Accounts one VM exit (`reason` undefined: a host interrupt, which KVM handles without
   * a PV exit reason) and its cost, then the plugins' onExit.
   */
  exit(reason?: keyof ExitCounts): void {
    if (reason !== undefined) {
      this.exits[reason]++;
      this.clock += this.vm.options.exitCostNs;
    }
    this.vm.now = this.clock;
    this.needsEntry = true;
    for (const hook of this.vm.hooks.lifecycle) hook.onExit?.(this);
  }

  /**
   * An exit that KVM hands to userspace (port I/O, KVM_EXIT_HYPERCALL): KVM_RUN returns, so
   * the vCPU is put, and loaded again by the next KVM_RUN.
   */
  userspaceRoundTrip(): void {
    this.put(false);
    this.load();
  }

  /** Time spent in the guest without exiting. */
  advance(ns: bigint): void {
    this.clock += ns;
    this.vm.now = this.clock;
  }

  // ---- guest instructions ----

  /** CPUID (an exit on KVM). Unknown leaves read as zeros. */
  cpuid(leaf: number, subleaf = 0): CpuidRegisters {
    this.enter();
    const regs = this.cpuidEntry(leaf, subleaf);
    this.exit("cpuid"); // CPUID always exits under KVM
    return regs;
  }

  /** RDMSR: the value, or #GP. */
  rdmsr(msr: number): MsrReadResult {
    this.enter();
    const result = this.vm.readMsr(this, msr >>> 0, "guest");
    this.exit("msr-read");
    return result;
  }

  /** WRMSR: ok, or #GP. */
  wrmsr(msr: number, value: bigint): MsrWriteResult {
    this.enter();
    const result = this.vm.writeMsr(this, msr >>> 0, value & U64, "guest");
    this.exit("msr-write");
    return result;
  }

  /**
   * VMCALL/VMMCALL (KVM's ____kvm_emulate_hypercall, kvm-pv-abi.md §5): 32-bit callers get
   * their arguments and the result masked to 32 bits; CPL ≠ 0 gets -KVM_EPERM whatever the
   * number; VAPIC_POLL_IRQ returns 0; unknown numbers return -KVM_ENOSYS. Returns RAX as an
   * unsigned 64-bit value.
   */
  hypercall(nr: bigint, a0 = 0n, a1 = 0n, a2 = 0n, a3 = 0n): bigint {
    this.enter();
    const mask = this.longMode ? U64 : U32;
    const number = Number(nr & U32);
    const args = [a0 & mask, a1 & mask, a2 & mask, a3 & mask] as const;
    let ret: bigint;
    if (this.cpl !== 0) ret = -1n; // -KVM_EPERM
    else if (this.longMode && nr > U32) ret = -1000n; // no hypercall number needs 64 bits
    else if (number === 1) ret = 0n; // KVM_HC_VAPIC_POLL_IRQ
    else {
      const hook = this.vm.hooks.hypercalls.get(number);
      ret = hook ? hook.call(this, { nr: number, args }) : -1000n; // -KVM_ENOSYS
    }
    this.exit("hypercall");
    return ret & mask;
  }

  /** RDTSC (does not exit). */
  rdtsc(): bigint {
    this.enter();
    this.advance(this.vm.options.instructionCostNs);
    return this.guestTsc();
  }

  /** OUT to a port (an exit; port 0x80 is the I/O delay port). */
  out(port: number, size: 1 | 2 | 4, value: number): void {
    this.enter();
    for (const hook of this.vm.hooks.ioPorts) {
      if (port >= hook.first && port <= hook.last) hook.write(this, port, size, value);
    }
    this.exit("io");
    this.userspaceRoundTrip();
  }

  /** IN from a port (an exit). Unclaimed ports read all ones. */
  in(port: number, size: 1 | 2 | 4): number {
    this.enter();
    let value = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    for (const hook of this.vm.hooks.ioPorts) {
      if (port >= hook.first && port <= hook.last) value = hook.read(this, port, size);
    }
    this.exit("io");
    this.userspaceRoundTrip();
    return value >>> 0;
  }

  /** A guest memory load (no exit). */
  load64(gpa: bigint, size: 1 | 2 | 4 | 8): bigint {
    this.enter();
    this.advance(this.vm.options.instructionCostNs);
    const m = this.memory;
    switch (size) {
      case 1:
        return BigInt(m.readU8(gpa));
      case 2:
        return BigInt(m.readU16(gpa));
      case 4:
        return BigInt(m.readU32(gpa));
      default:
        return m.readU64(gpa);
    }
  }

  /** A guest memory store (no exit). */
  store64(gpa: bigint, size: 1 | 2 | 4 | 8, value: bigint): void {
    this.enter();
    this.advance(this.vm.options.instructionCostNs);
    const m = this.memory;
    const v = value & U64;
    switch (size) {
      case 1:
        return m.writeU8(gpa, Number(v & 0xffn));
      case 2:
        return m.writeU16(gpa, Number(v & 0xffffn));
      case 4:
        return m.writeU32(gpa, Number(v & U32));
      default:
        return m.writeU64(gpa, v);
    }
  }

  /** Zeroes guest memory (no exit). */
  zero(gpa: bigint, length: number): void {
    this.enter();
    if (!this.memory.contains(gpa, length)) {
      throw new GuestMemoryError(gpa, length, this.memory.size);
    }
    const at = Number(gpa);
    this.memory.bytes.fill(0, at, at + length); // in place: no temporary as large as the range
    this.advance(this.vm.options.instructionCostNs);
  }

  /** STI. */
  sti(): void {
    this.interruptsEnabled = true;
    this.needsEntry = true; // a pending interrupt can now be taken at the next boundary
  }

  /** CLI. */
  cli(): void {
    this.interruptsEnabled = false;
  }

  /** The native APIC EOI write (an exit). */
  apicEoi(): void {
    this.enter();
    this.apic?.eoi();
    this.exit("eoi");
  }

  /**
   * A native ICR write: one IPI, one exit (physical destination; kvm_apic_send_ipi →
   * kvm_irq_delivery_to_apic with this vCPU's APIC as the source, so 0xff or 0xffffffff may
   * be a broadcast). True when some APIC accepted it.
   */
  sendIpi(apicId: number, vector: number, mode: DeliveryMode = "fixed"): boolean {
    this.enter();
    const accepted = this.vm.deliverToApic(this, {
      destination: apicId,
      vector,
      deliveryMode: mode,
      level: true,
      levelTriggered: false,
    });
    this.exit("ipi");
    return accepted > 0;
  }
}
