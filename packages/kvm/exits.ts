/**
 * `struct kvm_run` exits decoded into a discriminated union, {@linkcode VcpuExit}.
 *
 * {@linkcode decodeVcpuExit} reads the `kvm_run` mapping as KVM_RUN left it (exit_reason @8,
 * the exit union @32, spec §1.2). Exits that need an answer (an `in`, an MMIO read, an MSR
 * exit, a hypercall) carry methods that write the answer into `kvm_run`; KVM consumes it on the
 * next KVM_RUN. Pure code over bytes, so it is tested with synthetic `kvm_run` images.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/**
 * KVM exit reasons (`KVM_EXIT_*`), keyed by their C names.
 *
 * @example
 * ```ts
 * import { KVM_EXIT } from "@pvkit/kvm";
 * console.log(KVM_EXIT.KVM_EXIT_IO, KVM_EXIT.KVM_EXIT_X86_RDMSR); // 2 29
 * ```
 */
export const KVM_EXIT: KvmExitReasons = Object.freeze(
  {
    KVM_EXIT_UNKNOWN: 0,
    KVM_EXIT_EXCEPTION: 1,
    KVM_EXIT_IO: 2,
    KVM_EXIT_HYPERCALL: 3,
    KVM_EXIT_DEBUG: 4,
    KVM_EXIT_HLT: 5,
    KVM_EXIT_MMIO: 6,
    KVM_EXIT_IRQ_WINDOW_OPEN: 7,
    KVM_EXIT_SHUTDOWN: 8,
    KVM_EXIT_FAIL_ENTRY: 9,
    KVM_EXIT_INTR: 10,
    KVM_EXIT_SET_TPR: 11,
    KVM_EXIT_TPR_ACCESS: 12,
    KVM_EXIT_NMI: 16,
    KVM_EXIT_INTERNAL_ERROR: 17,
    KVM_EXIT_SYSTEM_EVENT: 24,
    KVM_EXIT_IOAPIC_EOI: 26,
    KVM_EXIT_HYPERV: 27,
    KVM_EXIT_X86_RDMSR: 29,
    KVM_EXIT_X86_WRMSR: 30,
    KVM_EXIT_DIRTY_RING_FULL: 31,
    KVM_EXIT_X86_BUS_LOCK: 33,
    KVM_EXIT_NOTIFY: 37,
    KVM_EXIT_MEMORY_FAULT: 39,
  } as const,
);

/**
 * The shape of {@linkcode KVM_EXIT}: `exit_reason` values by C name.
 *
 * @example
 * ```ts
 * import { KVM_EXIT, type KvmExitReasons } from "@pvkit/kvm";
 * const reasons: KvmExitReasons = KVM_EXIT;
 * console.log(reasons.KVM_EXIT_HLT); // 5
 * ```
 */
export interface KvmExitReasons {
  /** 0: the hardware exit code was not one KVM handles (`hardware_exit_reason`). */
  readonly KVM_EXIT_UNKNOWN: 0;
  /** 1: unused on x86. */
  readonly KVM_EXIT_EXCEPTION: 1;
  /** 2: port I/O. */
  readonly KVM_EXIT_IO: 2;
  /** 3: a hypercall opted in with KVM_CAP_EXIT_HYPERCALL. */
  readonly KVM_EXIT_HYPERCALL: 3;
  /** 4: a debug exception requested with KVM_SET_GUEST_DEBUG. */
  readonly KVM_EXIT_DEBUG: 4;
  /** 5: HLT, without an in-kernel LAPIC. */
  readonly KVM_EXIT_HLT: 5;
  /** 6: an access to guest-physical memory with no memory slot. */
  readonly KVM_EXIT_MMIO: 6;
  /** 7: the interrupt window opened (request_interrupt_window). */
  readonly KVM_EXIT_IRQ_WINDOW_OPEN: 7;
  /** 8: triple fault. */
  readonly KVM_EXIT_SHUTDOWN: 8;
  /** 9: VM entry failed. */
  readonly KVM_EXIT_FAIL_ENTRY: 9;
  /** 10: a signal interrupted KVM_RUN. */
  readonly KVM_EXIT_INTR: 10;
  /** 11: TPR write (unused on modern KVM). */
  readonly KVM_EXIT_SET_TPR: 11;
  /** 12: TPR access reporting. */
  readonly KVM_EXIT_TPR_ACCESS: 12;
  /** 16: NMI (s390/legacy). */
  readonly KVM_EXIT_NMI: 16;
  /** 17: KVM could not handle an exit. */
  readonly KVM_EXIT_INTERNAL_ERROR: 17;
  /** 24: guest shutdown, reset or crash request. */
  readonly KVM_EXIT_SYSTEM_EVENT: 24;
  /** 26: EOI of a level-triggered IOAPIC interrupt (split irqchip). */
  readonly KVM_EXIT_IOAPIC_EOI: 26;
  /** 27: Hyper-V SynIC/hypercall exit. */
  readonly KVM_EXIT_HYPERV: 27;
  /** 29: RDMSR sent to userspace (KVM_CAP_X86_USER_SPACE_MSR). */
  readonly KVM_EXIT_X86_RDMSR: 29;
  /** 30: WRMSR sent to userspace. */
  readonly KVM_EXIT_X86_WRMSR: 30;
  /** 31: the dirty ring is full. */
  readonly KVM_EXIT_DIRTY_RING_FULL: 31;
  /** 33: a split-lock access (KVM_CAP_X86_BUS_LOCK_EXIT). */
  readonly KVM_EXIT_X86_BUS_LOCK: 33;
  /** 37: the notify VM exit fired. */
  readonly KVM_EXIT_NOTIFY: 37;
  /** 39: a memory fault KVM could not resolve (guest_memfd, ...). */
  readonly KVM_EXIT_MEMORY_FAULT: 39;
}

const EXIT_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(KVM_EXIT).map(([name, value]) => [value, name]),
);

/**
 * The C name of an exit reason, or `KVM_EXIT_<n>` for one pvkit does not know.
 *
 * @example
 * ```ts
 * import { kvmExitName } from "@pvkit/kvm";
 * console.log(kvmExitName(8), kvmExitName(99)); // "KVM_EXIT_SHUTDOWN" "KVM_EXIT_99"
 * ```
 */
export function kvmExitName(reason: number): string {
  return EXIT_NAMES.get(reason) ?? `KVM_EXIT_${reason}`;
}

// struct kvm_run header (spec §1.2).
const RUN_EXIT_REASON = 8;
const U = 32; // the exit union

/**
 * `KVM_EXIT_IO`: the guest executed `in`/`out` (or `ins`/`outs`) on a port no in-kernel device
 * claims. `data` is a live view of the `count * size` bytes in the `kvm_run` mapping (valid
 * until the next KVM_RUN); for `in`, fill it with {@linkcode IoExit.setInput}.
 *
 * @example
 * ```ts
 * import type { IoExit } from "@pvkit/kvm";
 * function onPort(exit: IoExit): void {
 *   if (exit.direction === "out") console.log(`port 0x${exit.port.toString(16)} <- ${exit.value}`);
 *   else exit.setInput(0xff);
 * }
 * console.log(typeof onPort);
 * ```
 */
export interface IoExit {
  /** Discriminant. */
  readonly kind: "io";
  /** `exit_reason` (2). */
  readonly exitReason: number;
  /** `out` writes to the device, `in` reads from it. */
  readonly direction: "in" | "out";
  /** The port number. */
  readonly port: number;
  /** Access size in bytes. */
  readonly size: 1 | 2 | 4;
  /** Number of elements (more than 1 for `rep ins/outs`). */
  readonly count: number;
  /** The data bytes, live in `kvm_run`: what was written (`out`), or what to return (`in`). */
  readonly data: Uint8Array;
  /** The first element as an unsigned little-endian number (the `out` value). */
  readonly value: number;
  /** For `in`: stores `value` (or one value per element) as the data the guest reads. */
  setInput(value: number | readonly number[]): void;
}

/**
 * `KVM_EXIT_MMIO`: a guest access to a physical address with no memory slot. For reads, fill
 * `data` with {@linkcode MmioExit.setReadData} before the next KVM_RUN.
 *
 * @example
 * ```ts
 * import type { MmioExit } from "@pvkit/kvm";
 * const onMmio = (e: MmioExit) => e.isWrite || e.setReadData(0n);
 * console.log(typeof onMmio);
 * ```
 */
export interface MmioExit {
  /** Discriminant. */
  readonly kind: "mmio";
  /** `exit_reason` (6). */
  readonly exitReason: number;
  /** Guest-physical address of the access. */
  readonly physAddr: bigint;
  /** Access length in bytes (1-8). */
  readonly len: number;
  /** True for a store. */
  readonly isWrite: boolean;
  /** The `len` data bytes, live in `kvm_run`. */
  readonly data: Uint8Array;
  /** For reads: stores the value (little-endian, `len` bytes) the guest will load. */
  setReadData(value: bigint | Uint8Array): void;
}

/**
 * `KVM_EXIT_HYPERCALL`: a VMCALL/VMMCALL KVM forwards to userspace (only the hypercalls opted
 * in with KVM_CAP_EXIT_HYPERCALL, i.e. KVM_HC_MAP_GPA_RANGE). {@linkcode HypercallExit.setRet}
 * sets the value the guest sees in RAX.
 *
 * @example
 * ```ts
 * import type { HypercallExit } from "@pvkit/kvm";
 * const onHypercall = (e: HypercallExit) => e.setRet(0n);
 * console.log(typeof onHypercall);
 * ```
 */
export interface HypercallExit {
  /** Discriminant. */
  readonly kind: "hypercall";
  /** `exit_reason` (3). */
  readonly exitReason: number;
  /** The hypercall number (RAX). */
  readonly nr: bigint;
  /** The six arguments (RBX, RCX, RDX, RSI, then two unused). */
  readonly args: readonly bigint[];
  /** True when the guest was in 64-bit mode (`flags` bit 0 / `longmode`). */
  readonly longMode: boolean;
  /** The return value currently in `kvm_run` (0 until set). */
  readonly ret: bigint;
  /** Sets the hypercall's return value (RAX after the next KVM_RUN). */
  setRet(value: bigint): void;
}

/**
 * `KVM_EXIT_X86_RDMSR`: a guest RDMSR that KVM_CAP_X86_USER_SPACE_MSR sends to userspace.
 * Answer with {@linkcode RdmsrExit.setData}, or {@linkcode RdmsrExit.injectGp} to fault.
 *
 * @example
 * ```ts
 * import type { RdmsrExit } from "@pvkit/kvm";
 * const onRdmsr = (e: RdmsrExit) => e.index === 0x10 ? e.setData(0n) : e.injectGp();
 * console.log(typeof onRdmsr);
 * ```
 */
export interface RdmsrExit {
  /** Discriminant. */
  readonly kind: "x86-rdmsr";
  /** `exit_reason` (29). */
  readonly exitReason: number;
  /** The MSR number (ECX). */
  readonly index: number;
  /** Why it exited: 1 INVAL (unknown to KVM), 2 UNKNOWN, 4 FILTER (denied by the MSR filter). */
  readonly reason: number;
  /** Sets the value the guest reads (EDX:EAX) and clears the error flag. */
  setData(value: bigint): void;
  /** Makes the RDMSR raise #GP in the guest. */
  injectGp(): void;
}

/**
 * `KVM_EXIT_X86_WRMSR`: a guest WRMSR that KVM_CAP_X86_USER_SPACE_MSR sends to userspace.
 * Leave it to accept the write, or {@linkcode WrmsrExit.injectGp} to fault.
 *
 * @example
 * ```ts
 * import type { WrmsrExit } from "@pvkit/kvm";
 * const onWrmsr = (e: WrmsrExit) => console.log(e.index.toString(16), e.data);
 * console.log(typeof onWrmsr);
 * ```
 */
export interface WrmsrExit {
  /** Discriminant. */
  readonly kind: "x86-wrmsr";
  /** `exit_reason` (30). */
  readonly exitReason: number;
  /** The MSR number (ECX). */
  readonly index: number;
  /** Why it exited (see {@linkcode RdmsrExit.reason}). */
  readonly reason: number;
  /** The value written (EDX:EAX). */
  readonly data: bigint;
  /** Makes the WRMSR raise #GP in the guest. */
  injectGp(): void;
}

/**
 * `KVM_EXIT_HLT`: the guest halted. Only without an in-kernel LAPIC (no KVM_CREATE_IRQCHIP);
 * with one, HLT blocks inside KVM until an interrupt.
 *
 * @example
 * ```ts
 * import type { HltExit } from "@pvkit/kvm";
 * const halted: HltExit = { kind: "hlt", exitReason: 5 };
 * console.log(halted.kind);
 * ```
 */
export interface HltExit {
  /** Discriminant. */
  readonly kind: "hlt";
  /** `exit_reason` (5). */
  readonly exitReason: number;
}

/**
 * `KVM_EXIT_SHUTDOWN`: a triple fault (e.g. an exception with no usable IDT gate).
 *
 * @example
 * ```ts
 * import type { ShutdownExit } from "@pvkit/kvm";
 * const e: ShutdownExit = { kind: "shutdown", exitReason: 8 };
 * console.log(e.kind);
 * ```
 */
export interface ShutdownExit {
  /** Discriminant. */
  readonly kind: "shutdown";
  /** `exit_reason` (8). */
  readonly exitReason: number;
}

/**
 * `KVM_EXIT_FAIL_ENTRY`: the hardware refused to enter the guest (bad register state).
 *
 * @example
 * ```ts
 * import type { FailEntryExit } from "@pvkit/kvm";
 * const e: FailEntryExit = {
 *   kind: "fail-entry", exitReason: 9, hardwareEntryFailureReason: 0x80000021n, cpu: 0,
 * };
 * console.log(e.hardwareEntryFailureReason.toString(16));
 * ```
 */
export interface FailEntryExit {
  /** Discriminant. */
  readonly kind: "fail-entry";
  /** `exit_reason` (9). */
  readonly exitReason: number;
  /** The vendor's entry-failure code. */
  readonly hardwareEntryFailureReason: bigint;
  /** The host CPU the entry failed on. */
  readonly cpu: number;
}

/**
 * `KVM_EXIT_INTERNAL_ERROR`: KVM could not handle an exit, typically an instruction its
 * emulator does not know (suberror 1).
 *
 * @example
 * ```ts
 * import type { InternalErrorExit } from "@pvkit/kvm";
 * const e: InternalErrorExit = {
 *   kind: "internal-error", exitReason: 17, suberror: 1, suberrorName: "emulation", data: [],
 * };
 * console.log(e.suberrorName);
 * ```
 */
export interface InternalErrorExit {
  /** Discriminant. */
  readonly kind: "internal-error";
  /** `exit_reason` (17). */
  readonly exitReason: number;
  /** `KVM_INTERNAL_ERROR_*`: 1 emulation, 2 simultaneous exceptions, 3 delivery, 4 unexpected exit. */
  readonly suberror: number;
  /** The suberror as a word: `emulation`, `simul-ex`, `delivery-ev`, `unexpected-exit-reason`. */
  readonly suberrorName: string;
  /** The `ndata` extra words KVM reported. */
  readonly data: readonly bigint[];
}

/**
 * KVM_RUN returned EINTR (or EAGAIN): a signal kicked the vCPU, or `immediate_exit` was set.
 * Nothing to answer; run again when ready.
 *
 * @example
 * ```ts
 * import type { IntrExit } from "@pvkit/kvm";
 * const e: IntrExit = { kind: "intr", exitReason: 10, errno: 4 };
 * console.log(e.errno);
 * ```
 */
export interface IntrExit {
  /** Discriminant. */
  readonly kind: "intr";
  /** `exit_reason` as `kvm_run` holds it (10 after a signal; stale after `immediate_exit`). */
  readonly exitReason: number;
  /** The errno KVM_RUN failed with: 4 (EINTR) or 11 (EAGAIN). */
  readonly errno: number;
}

/**
 * `KVM_EXIT_DEBUG`: a debug exception the VMM asked for with KVM_SET_GUEST_DEBUG.
 *
 * @example
 * ```ts
 * import type { DebugExit } from "@pvkit/kvm";
 * const e: DebugExit = { kind: "debug", exitReason: 4, exception: 1, pc: 0n, dr6: 0n, dr7: 0n };
 * console.log(e.exception);
 * ```
 */
export interface DebugExit {
  /** Discriminant. */
  readonly kind: "debug";
  /** `exit_reason` (4). */
  readonly exitReason: number;
  /** The exception vector (1 #DB, 3 #BP). */
  readonly exception: number;
  /** The guest RIP. */
  readonly pc: bigint;
  /** DR6. */
  readonly dr6: bigint;
  /** DR7. */
  readonly dr7: bigint;
}

/**
 * `KVM_EXIT_SYSTEM_EVENT`: the guest asked for a shutdown (1), reset (2) or reported a crash (3).
 *
 * @example
 * ```ts
 * import type { SystemEventExit } from "@pvkit/kvm";
 * const e: SystemEventExit = { kind: "system-event", exitReason: 24, type: 2, data: [] };
 * console.log(e.type);
 * ```
 */
export interface SystemEventExit {
  /** Discriminant. */
  readonly kind: "system-event";
  /** `exit_reason` (24). */
  readonly exitReason: number;
  /** `KVM_SYSTEM_EVENT_*`: 1 shutdown, 2 reset, 3 crash. */
  readonly type: number;
  /** The `ndata` extra words. */
  readonly data: readonly bigint[];
}

/**
 * Any other exit: `KVM_EXIT_UNKNOWN` (with the vendor's exit code) or a reason pvkit does not
 * decode (IRQ window, NMI, IOAPIC EOI, ...).
 *
 * @example
 * ```ts
 * import type { UnknownExit } from "@pvkit/kvm";
 * const e: UnknownExit = { kind: "unknown", exitReason: 7, name: "KVM_EXIT_IRQ_WINDOW_OPEN" };
 * console.log(e.name);
 * ```
 */
export interface UnknownExit {
  /** Discriminant. */
  readonly kind: "unknown";
  /** `exit_reason`. */
  readonly exitReason: number;
  /** Its C name (`KVM_EXIT_<n>` when unknown to pvkit). */
  readonly name: string;
  /** For `KVM_EXIT_UNKNOWN` (0): the hardware exit reason. */
  readonly hardwareExitReason?: bigint;
}

/**
 * What one KVM_RUN ended with, by `kind`.
 *
 * @example
 * ```ts
 * import type { VcpuExit } from "@pvkit/kvm";
 * function handle(exit: VcpuExit): "continue" | "stop" {
 *   switch (exit.kind) {
 *     case "io":
 *       return "continue";
 *     case "x86-rdmsr":
 *       exit.injectGp();
 *       return "continue";
 *     default:
 *       return "stop";
 *   }
 * }
 * console.log(handle({ kind: "shutdown", exitReason: 8 })); // "stop"
 * ```
 */
export type VcpuExit =
  | IoExit
  | MmioExit
  | HypercallExit
  | RdmsrExit
  | WrmsrExit
  | HltExit
  | ShutdownExit
  | FailEntryExit
  | InternalErrorExit
  | IntrExit
  | DebugExit
  | SystemEventExit
  | UnknownExit;

const INTERNAL_SUBERRORS: Readonly<Record<number, string>> = {
  1: "emulation",
  2: "simul-ex",
  3: "delivery-ev",
  4: "unexpected-exit-reason",
};

function readUint(bytes: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[at + i];
  return v;
}

function writeUint(bytes: Uint8Array, at: number, size: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * size)) {
    throw new PvkitError(
      "kvm-bad-exit-answer",
      `${value} does not fit in ${size} byte${size > 1 ? "s" : ""}`,
    );
  }
  for (let i = 0; i < size; i++) {
    bytes[at + i] = value % 256;
    value = Math.floor(value / 256);
  }
}

function words(v: DataView, at: number, n: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(v.getBigUint64(at + i * 8, true));
  return out;
}

/**
 * Decodes the exit KVM_RUN left in `kvm_run`. `run` is the whole vCPU mapping (the I/O data
 * page follows `struct kvm_run`); the returned object's live views and answer methods write
 * into it.
 *
 * @example
 * ```ts
 * import { decodeVcpuExit } from "@pvkit/kvm";
 * // A synthetic kvm_run: exit_reason 2 (IO), out, size 1, port 0x10, count 1, data at 4096.
 * const run = new Uint8Array(8192);
 * const v = new DataView(run.buffer);
 * v.setUint32(8, 2, true);
 * v.setUint8(32, 1);
 * v.setUint8(33, 1);
 * v.setUint16(34, 0x10, true);
 * v.setUint32(36, 1, true);
 * v.setBigUint64(40, 4096n, true);
 * run[4096] = 0x42;
 * const exit = decodeVcpuExit(run);
 * if (exit.kind === "io") console.log(exit.port, exit.value); // 16 66
 * ```
 */
export function decodeVcpuExit(run: Uint8Array): VcpuExit {
  const v = new DataView(run.buffer, run.byteOffset, run.byteLength);
  const exitReason = v.getUint32(RUN_EXIT_REASON, true);
  switch (exitReason) {
    case KVM_EXIT.KVM_EXIT_IO: {
      const size = v.getUint8(U + 1);
      const count = v.getUint32(U + 4, true);
      const dataOffset = Number(v.getBigUint64(U + 8, true));
      const length = size * count;
      if (
        (size !== 1 && size !== 2 && size !== 4) || dataOffset + length > run.byteLength ||
        dataOffset < 0
      ) {
        throw new PvkitError(
          "kvm-bad-exit",
          `KVM_EXIT_IO with size ${size}, count ${count}, data_offset ${dataOffset} does not fit ` +
            `the ${run.byteLength}-byte kvm_run mapping`,
        );
      }
      const data = run.subarray(dataOffset, dataOffset + length);
      return {
        kind: "io",
        exitReason,
        direction: v.getUint8(U) === 1 ? "out" : "in",
        size,
        port: v.getUint16(U + 2, true),
        count,
        data,
        value: count > 0 ? readUint(data, 0, size) : 0,
        setInput(value: number | readonly number[]): void {
          const values = typeof value === "number" ? new Array<number>(count).fill(value) : value;
          if (values.length !== count) {
            throw new PvkitError(
              "kvm-bad-exit-answer",
              `port 0x${
                this.port.toString(16)
              } input needs ${count} value(s), got ${values.length}`,
            );
          }
          values.forEach((x, i) => writeUint(data, i * size, size, x));
        },
      };
    }
    case KVM_EXIT.KVM_EXIT_MMIO: {
      const len = Math.min(v.getUint32(U + 16, true), 8);
      const data = run.subarray(U + 8, U + 8 + len);
      return {
        kind: "mmio",
        exitReason,
        physAddr: v.getBigUint64(U, true),
        len,
        isWrite: v.getUint8(U + 20) !== 0,
        data,
        setReadData(value: bigint | Uint8Array): void {
          if (typeof value === "bigint") {
            const b = BigInt.asUintN(64, value);
            for (let i = 0; i < len; i++) data[i] = Number((b >> BigInt(8 * i)) & 0xffn);
          } else {
            data.fill(0);
            data.set(value.subarray(0, len));
          }
        },
      };
    }
    case KVM_EXIT.KVM_EXIT_HYPERCALL:
      return {
        kind: "hypercall",
        exitReason,
        nr: v.getBigUint64(U, true),
        args: words(v, U + 8, 6),
        get ret(): bigint {
          return v.getBigUint64(U + 56, true);
        },
        longMode: (v.getUint32(U + 64, true) & 1) !== 0,
        setRet(value: bigint): void {
          v.setBigUint64(U + 56, BigInt.asUintN(64, value), true);
        },
      };
    case KVM_EXIT.KVM_EXIT_X86_RDMSR:
      return {
        kind: "x86-rdmsr",
        exitReason,
        reason: v.getUint32(U + 8, true),
        index: v.getUint32(U + 12, true),
        setData(value: bigint): void {
          v.setUint8(U, 0);
          v.setBigUint64(U + 16, BigInt.asUintN(64, value), true);
        },
        injectGp(): void {
          v.setUint8(U, 1);
        },
      };
    case KVM_EXIT.KVM_EXIT_X86_WRMSR:
      return {
        kind: "x86-wrmsr",
        exitReason,
        reason: v.getUint32(U + 8, true),
        index: v.getUint32(U + 12, true),
        data: v.getBigUint64(U + 16, true),
        injectGp(): void {
          v.setUint8(U, 1);
        },
      };
    case KVM_EXIT.KVM_EXIT_HLT:
      return { kind: "hlt", exitReason };
    case KVM_EXIT.KVM_EXIT_SHUTDOWN:
      return { kind: "shutdown", exitReason };
    case KVM_EXIT.KVM_EXIT_FAIL_ENTRY:
      return {
        kind: "fail-entry",
        exitReason,
        hardwareEntryFailureReason: v.getBigUint64(U, true),
        cpu: v.getUint32(U + 8, true),
      };
    case KVM_EXIT.KVM_EXIT_INTERNAL_ERROR: {
      const suberror = v.getUint32(U, true);
      return {
        kind: "internal-error",
        exitReason,
        suberror,
        suberrorName: INTERNAL_SUBERRORS[suberror] ?? `suberror-${suberror}`,
        data: words(v, U + 8, Math.min(v.getUint32(U + 4, true), 16)),
      };
    }
    case KVM_EXIT.KVM_EXIT_INTR:
      return { kind: "intr", exitReason, errno: 4 };
    case KVM_EXIT.KVM_EXIT_DEBUG:
      return {
        kind: "debug",
        exitReason,
        exception: v.getUint32(U, true),
        pc: v.getBigUint64(U + 8, true),
        dr6: v.getBigUint64(U + 16, true),
        dr7: v.getBigUint64(U + 24, true),
      };
    case KVM_EXIT.KVM_EXIT_SYSTEM_EVENT:
      return {
        kind: "system-event",
        exitReason,
        type: v.getUint32(U, true),
        data: words(v, U + 8, Math.min(v.getUint32(U + 4, true), 16)),
      };
    case KVM_EXIT.KVM_EXIT_UNKNOWN:
      return {
        kind: "unknown",
        exitReason,
        name: kvmExitName(exitReason),
        hardwareExitReason: v.getBigUint64(U, true),
      };
    default:
      return { kind: "unknown", exitReason, name: kvmExitName(exitReason) };
  }
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/**
 * A one-line description of an exit, for logs and error messages.
 *
 * @example
 * ```ts
 * import { describeVcpuExit } from "@pvkit/kvm";
 * console.log(describeVcpuExit({ kind: "shutdown", exitReason: 8 })); // "shutdown (triple fault)"
 * ```
 */
export function describeVcpuExit(exit: VcpuExit): string {
  switch (exit.kind) {
    case "io":
      return exit.direction === "out"
        ? `io out port ${hex(exit.port)} size ${exit.size} value ${hex(exit.value)}` +
          (exit.count > 1 ? ` (x${exit.count})` : "")
        : `io in port ${hex(exit.port)} size ${exit.size}` +
          (exit.count > 1 ? ` (x${exit.count})` : "");
    case "mmio":
      return `mmio ${exit.isWrite ? "write" : "read"} ${hex(exit.physAddr)} len ${exit.len}`;
    case "hypercall":
      return `hypercall nr ${exit.nr} (${exit.longMode ? "64-bit" : "32-bit"})`;
    case "x86-rdmsr":
      return `rdmsr ${hex(exit.index)} (reason ${exit.reason})`;
    case "x86-wrmsr":
      return `wrmsr ${hex(exit.index)} = ${hex(exit.data)} (reason ${exit.reason})`;
    case "hlt":
      return "hlt";
    case "shutdown":
      return "shutdown (triple fault)";
    case "fail-entry":
      return `fail-entry: hardware reason ${
        hex(exit.hardwareEntryFailureReason)
      } on cpu ${exit.cpu}`;
    case "internal-error":
      return `internal-error: ${exit.suberrorName}` +
        (exit.data.length ? ` [${exit.data.map(hex).join(", ")}]` : "");
    case "intr":
      return `intr (errno ${exit.errno})`;
    case "debug":
      return `debug: exception ${exit.exception} at ${hex(exit.pc)}`;
    case "system-event":
      return `system-event type ${exit.type}`;
    case "unknown":
      return exit.hardwareExitReason === undefined
        ? `unhandled exit ${exit.name}`
        : `${exit.name}: hardware exit reason ${hex(exit.hardwareExitReason)}`;
  }
}
