/**
 * {@linkcode ScriptedGuestCpu}: a {@linkcode GuestCpu} with no host behind it. CPUID comes
 * from a table, MSRs are plain storage, hypercalls return what a handler says, and every
 * exit is logged in order. It is what the examples and tests drive the drivers with; a real
 * backend implements {@linkcode GuestCpu} itself.
 *
 * @module
 */

import type { CpuidRegisters } from "@pvkit/abi";
import { ArrayGuestMemory, type GuestMemory } from "@pvkit/machine";
import { type GuestCpu, GuestFault } from "./guest_cpu.ts";

/**
 * One VM exit (or RDTSC) a {@linkcode ScriptedGuestCpu} saw, in the order it happened.
 *
 * @example
 * ```ts
 * import type { GuestCpuEvent } from "@pvkit/guest";
 * const e: GuestCpuEvent = { kind: "wrmsr", msr: 0x4b564d03, value: 0x1001n, faulted: false };
 * console.log(e.kind);
 * ```
 */
export type GuestCpuEvent =
  | { readonly kind: "cpuid"; readonly leaf: number; readonly subleaf: number }
  | { readonly kind: "rdmsr"; readonly msr: number; readonly faulted: boolean }
  | {
    readonly kind: "wrmsr";
    readonly msr: number;
    readonly value: bigint;
    readonly faulted: boolean;
  }
  | {
    readonly kind: "hypercall";
    readonly nr: number;
    readonly args: readonly [bigint, bigint, bigint, bigint];
    readonly ret: bigint;
  }
  | { readonly kind: "eoi" }
  | { readonly kind: "ipi"; readonly dest: number; readonly vector: number; readonly nmi: boolean }
  | { readonly kind: "io-delay" };

/**
 * A hypercall handler: gets the number and the four argument registers, returns RAX as a
 * signed value. Throw a {@linkcode GuestFault} `"UD"` to fault.
 *
 * @example
 * ```ts
 * import type { HypercallHandler } from "@pvkit/guest";
 * const enosys: HypercallHandler = () => -1000n;
 * console.log(enosys(99, [0n, 0n, 0n, 0n]));
 * ```
 */
export type HypercallHandler = (
  nr: number,
  args: readonly [bigint, bigint, bigint, bigint],
) => bigint;

/**
 * How to build a {@linkcode ScriptedGuestCpu}; every field is optional.
 *
 * @example
 * ```ts
 * import type { ScriptedGuestCpuOptions } from "@pvkit/guest";
 * const opts: ScriptedGuestCpuOptions = { index: 1, apicId: 2, longMode: false };
 * console.log(opts.index);
 * ```
 */
export interface ScriptedGuestCpuOptions {
  /** vCPU index. Default 0. */
  readonly index?: number;
  /** APIC ID. Default: the index. */
  readonly apicId?: number;
  /** Guest RAM to share (several vCPUs of one guest share one), or a size. Default 64 KiB. */
  readonly memory?: GuestMemory | number;
  /** 64-bit caller. Default true. */
  readonly longMode?: boolean;
  /** CPUID leaves served, keyed by leaf (subleaf 0) or `"leaf:subleaf"`. Others read as 0. */
  readonly cpuid?: ReadonlyMap<number | string, CpuidRegisters>;
  /** MSRs whose RDMSR and WRMSR raise #GP. */
  readonly gpMsrs?: Iterable<number>;
  /** Hypercall handler. Default: every hypercall returns 0. */
  readonly onHypercall?: HypercallHandler;
  /** Initial TSC. Default 0. */
  readonly tsc?: bigint;
}

const ZERO_LEAF: CpuidRegisters = Object.freeze({ eax: 0, ebx: 0, ecx: 0, edx: 0 });

/**
 * A scripted vCPU: CPUID from a table, MSRs as storage (with chosen MSRs raising #GP), a
 * pluggable hypercall handler, a settable TSC, and a log of every exit.
 *
 * Hooks let a test play the host at the right instant: `onWrmsr` runs after a WRMSR is
 * stored (e.g. to fill the wall clock), `onRdtsc` runs before RDTSC returns (e.g. to update a
 * pvclock record in the middle of a guest read).
 *
 * @example
 * ```ts
 * import { ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals, assertThrows } from "@std/assert";
 * const cpu = new ScriptedGuestCpu({ gpMsrs: [0x4b564d08] });
 * cpu.wrmsr(0x4b564d03, 0x1001n);
 * assertEquals(cpu.rdmsr(0x4b564d03), 0x1001n);
 * assertThrows(() => cpu.wrmsr(0x4b564d08, 1n));
 * assertEquals(cpu.msrWrites, [{ msr: 0x4b564d03, value: 0x1001n }]);
 * ```
 */
export class ScriptedGuestCpu implements GuestCpu {
  /** The vCPU index. */
  readonly index: number;
  /** Guest RAM. */
  readonly memory: GuestMemory;
  /** 64-bit caller. */
  readonly longMode: boolean;
  /** Every exit, in order. */
  readonly log: GuestCpuEvent[] = [];
  /** MSR storage: what RDMSR returns (unset MSRs read as 0). */
  readonly msrs: Map<number, bigint> = new Map();
  /** MSRs whose RDMSR and WRMSR raise #GP. */
  readonly gpMsrs: Set<number>;
  /** The CPUID table (see {@linkcode ScriptedGuestCpuOptions.cpuid}). */
  readonly cpuidTable: Map<number | string, CpuidRegisters>;
  /** The hypercall handler. */
  onHypercall: HypercallHandler;
  /** Runs after every successful WRMSR. */
  onWrmsr?: (msr: number, value: bigint) => void;
  /** Runs before RDTSC returns. */
  onRdtsc?: () => void;
  /** The TSC RDTSC returns. */
  tsc: bigint;
  /** Added to `tsc` after each RDTSC. Default 0 (a frozen TSC). */
  tscStep = 0n;
  #apicId: number;

  /** Builds the vCPU from `options`. */
  constructor(options: ScriptedGuestCpuOptions = {}) {
    this.index = options.index ?? 0;
    this.#apicId = options.apicId ?? this.index;
    const mem = options.memory ?? 0x10000;
    this.memory = typeof mem === "number" ? new ArrayGuestMemory(mem) : mem;
    this.longMode = options.longMode ?? true;
    this.cpuidTable = new Map(options.cpuid ?? []);
    this.gpMsrs = new Set(options.gpMsrs ?? []);
    this.onHypercall = options.onHypercall ?? (() => 0n);
    this.tsc = options.tsc ?? 0n;
  }

  /** Serves CPUID from the table; a missing leaf reads as all zeros. */
  cpuid(leaf: number, subleaf = 0): CpuidRegisters {
    this.log.push({ kind: "cpuid", leaf, subleaf });
    const regs = this.cpuidTable.get(`${leaf >>> 0}:${subleaf}`) ??
      (subleaf === 0 ? this.cpuidTable.get(leaf >>> 0) : undefined) ?? ZERO_LEAF;
    return { ...regs };
  }

  /** Returns the stored value, or raises #GP for an MSR in `gpMsrs`. */
  rdmsr(msr: number): bigint {
    const faulted = this.gpMsrs.has(msr);
    this.log.push({ kind: "rdmsr", msr, faulted });
    if (faulted) throw new GuestFault("GP", `RDMSR 0x${msr.toString(16)} raised #GP`);
    return this.msrs.get(msr) ?? 0n;
  }

  /** Stores the value (u64), or raises #GP for an MSR in `gpMsrs`. */
  wrmsr(msr: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    const faulted = this.gpMsrs.has(msr);
    this.log.push({ kind: "wrmsr", msr, value: v, faulted });
    if (faulted) throw new GuestFault("GP", `WRMSR 0x${msr.toString(16)} raised #GP`);
    this.msrs.set(msr, v);
    this.onWrmsr?.(msr, v);
  }

  /** Calls the hypercall handler and logs the call with its result. */
  hypercall(nr: number, a0 = 0n, a1 = 0n, a2 = 0n, a3 = 0n): bigint {
    const args = [a0, a1, a2, a3] as const;
    const ret = this.onHypercall(nr, args);
    this.log.push({ kind: "hypercall", nr, args, ret });
    return ret;
  }

  /** Runs `onRdtsc`, returns `tsc`, then advances it by `tscStep`. */
  rdtsc(): bigint {
    this.onRdtsc?.();
    const t = this.tsc;
    this.tsc = BigInt.asUintN(64, this.tsc + this.tscStep);
    return t;
  }

  /** This vCPU's APIC ID. */
  apicId(): number {
    return this.#apicId;
  }

  /** Logs a native EOI. */
  apicEoi(): void {
    this.log.push({ kind: "eoi" });
  }

  /** Logs a native IPI. */
  sendIpi(destApicId: number, vector: number, nmi = false): void {
    this.log.push({ kind: "ipi", dest: destApicId, vector, nmi });
  }

  /** Logs a port-0x80 write. */
  ioDelay(): void {
    this.log.push({ kind: "io-delay" });
  }

  /** The successful WRMSRs, in order. */
  get msrWrites(): { msr: number; value: bigint }[] {
    return this.log.flatMap((e) =>
      e.kind === "wrmsr" && !e.faulted ? [{ msr: e.msr, value: e.value }] : []
    );
  }

  /** The hypercalls, in order. */
  get hypercalls(): { nr: number; args: readonly bigint[]; ret: bigint }[] {
    return this.log.flatMap((e) =>
      e.kind === "hypercall" ? [{ nr: e.nr, args: e.args, ret: e.ret }] : []
    );
  }

  /** The native IPIs, in order. */
  get ipis(): { dest: number; vector: number; nmi: boolean }[] {
    return this.log.flatMap((e) =>
      e.kind === "ipi" ? [{ dest: e.dest, vector: e.vector, nmi: e.nmi }] : []
    );
  }

  /** How many native EOIs were written. */
  get eoiCount(): number {
    return this.log.filter((e) => e.kind === "eoi").length;
  }

  /** Forgets the log (not the MSRs or memory). */
  clearLog(): void {
    this.log.length = 0;
  }
}
