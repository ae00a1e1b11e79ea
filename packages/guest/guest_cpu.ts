/**
 * The vCPU interface the guest drivers run on: CPUID, MSRs, hypercalls, the TSC, the local
 * APIC's EOI and IPI registers and the port-0x80 delay, each as one typed call. A backend (the
 * emulated machine, or {@linkcode ScriptedGuestCpu} in tests) implements it.
 *
 * @module
 */

import type { CpuidRegisters } from "@pvkit/abi";
import { type GuestMemory, PvkitError } from "@pvkit/machine";

/**
 * The exceptions a guest instruction can raise in this model: #GP (RDMSR/WRMSR of an MSR the
 * host refuses), #UD (a hypercall the host does not handle) and #PF.
 *
 * @example
 * ```ts
 * import type { GuestFaultVector } from "@pvkit/guest";
 * const v: GuestFaultVector = "GP";
 * console.log(v);
 * ```
 */
export type GuestFaultVector = "GP" | "UD" | "PF";

/**
 * An exception raised by a guest instruction (code `"guest-fault"`); `vector` says which.
 *
 * @example
 * ```ts
 * import { GuestFault } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const e = new GuestFault("GP", "WRMSR 0x4b564d08: not emulated");
 * assertEquals([e.code, e.vector], ["guest-fault", "GP"]);
 * ```
 */
export class GuestFault extends PvkitError {
  /** The exception vector: `"GP"`, `"UD"` or `"PF"`. */
  readonly vector: GuestFaultVector;

  /** Creates the fault for `vector`, with a message saying which instruction raised it. */
  constructor(vector: GuestFaultVector, message?: string) {
    super(
      "guest-fault",
      message ?? `the guest instruction raised #${vector}`,
      "a guest driver that can survive it catches it, as Linux's exception fixups do",
    );
    this.name = "GuestFault";
    this.vector = vector;
  }
}

/**
 * One vCPU as a guest driver sees it. Every call that is a VM exit on real hardware (WRMSR,
 * a hypercall, an APIC write, port I/O) is one call here, so a backend can count exits.
 *
 * @example
 * ```ts
 * import { type GuestCpu, ScriptedGuestCpu } from "@pvkit/guest";
 * const cpu: GuestCpu = new ScriptedGuestCpu({ index: 0 });
 * console.log(cpu.longMode, cpu.apicId()); // true 0
 * ```
 */
export interface GuestCpu {
  /** The vCPU index (Linux's CPU number). */
  readonly index: number;
  /** Guest RAM, identity-mapped: a guest-physical address is the address the driver uses. */
  readonly memory: GuestMemory;
  /** True for a 64-bit caller: hypercall argument/return width and the PV IPI cluster size. */
  readonly longMode: boolean;
  /** Executes CPUID for `leaf` (and `subleaf`, default 0). */
  cpuid(leaf: number, subleaf?: number): CpuidRegisters;
  /** Executes RDMSR; throws {@linkcode GuestFault} `"GP"` when the host refuses it. */
  rdmsr(msr: number): bigint;
  /** Executes WRMSR; throws {@linkcode GuestFault} `"GP"` when the host refuses it. */
  wrmsr(msr: number, value: bigint): void;
  /**
   * Executes VMCALL/VMMCALL with RAX = `nr` and RBX, RCX, RDX, RSI = `a0`..`a3` (default 0);
   * returns RAX as the guest's signed `long` (e.g. `-1000n`). Throws {@linkcode GuestFault}
   * `"UD"` when the instruction faults.
   */
  hypercall(nr: number, a0?: bigint, a1?: bigint, a2?: bigint, a3?: bigint): bigint;
  /** Executes RDTSC: the guest TSC (u64). */
  rdtsc(): bigint;
  /** This vCPU's local APIC ID. */
  apicId(): number;
  /** Writes the local APIC's EOI register (a VM exit). */
  apicEoi(): void;
  /** Writes the ICR: one IPI to `destApicId` (physical), fixed `vector` or NMI. One exit each. */
  sendIpi(destApicId: number, vector: number, nmi?: boolean): void;
  /** Writes port 0x80, the legacy I/O delay (a VM exit). */
  ioDelay(): void;
}

/**
 * What a driver asks the vCPU's scheduler to do when it must block: halt until an interrupt
 * or a kick, spin for `ns`, or execute one PAUSE.
 *
 * @example
 * ```ts
 * import type { GuestBlock } from "@pvkit/guest";
 * const block: GuestBlock = { kind: "hlt" };
 * console.log(block.kind);
 * ```
 */
export type GuestBlock = { kind: "hlt" } | { kind: "spin"; ns: number } | { kind: "pause" };
