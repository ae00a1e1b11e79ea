/**
 * The memory the main thread and the vCPU Workers of a booting VM share: control words (the
 * stop request and why, each vCPU's thread id and state), exit counters, the watched PV MSR
 * writes, and port-I/O counters. Plain `SharedArrayBuffer`s, so each Worker attaches its own
 * views and the hot path allocates nothing.
 *
 * @module
 */

import { WATCHED_PV_MSRS } from "./pv_msr_watch.ts";

/**
 * Why a VM stopped (the `reason` control word).
 *
 * @example
 * ```ts
 * import { STOP_REASON } from "@pvkit/vmm";
 * console.log(STOP_REASON.reset); // 1
 * ```
 */
export const STOP_REASON = {
  /** Still running. */
  none: 0,
  /** The guest pulsed the reset line (0xFE to i8042 port 0x64): Linux's reboot. */
  reset: 1,
  /** KVM_EXIT_SHUTDOWN: a triple fault. */
  tripleFault: 2,
  /** KVM_EXIT_SYSTEM_EVENT (detail: its type). */
  systemEvent: 3,
  /** An exit the VMM cannot continue from (detail: the exit reason, detail2: a sub-code). */
  fatalExit: 4,
  /** KVM_RUN failed (detail: errno). */
  runError: 5,
  /** The host's time limit ran out. */
  timeout: 6,
  /** The guest stopped making progress (no console output for the idle limit). */
  hang: 7,
  /** The host asked it to stop (e.g. Ctrl-C). */
  interrupted: 8,
} as const;

/** A {@linkcode STOP_REASON} value. */
export type StopReasonCode = (typeof STOP_REASON)[keyof typeof STOP_REASON];

/**
 * The vCPU thread states (the per-vCPU `state` control word).
 *
 * @example
 * ```ts
 * import { VCPU_STATE } from "@pvkit/vmm";
 * console.log(VCPU_STATE.exited); // 3
 * ```
 */
export const VCPU_STATE = { starting: 0, running: 1, stopping: 2, exited: 3 } as const;

// Control words: 0 stop requested, 1 reason, 2 vCPU, 3-4 detail, 5 start.
const START_WORD = 5;
/** Control words before the per-vCPU ones. */
const CONTROL_HEADER = 8;
/** Control words per vCPU: tid, state, spare, spare. */
const CONTROL_PER_VCPU = 4;
/** Exit counters per vCPU, indexed by `exit_reason` (KVM's reasons are below 64). */
export const EXIT_REASON_SLOTS = 64;
/** Words per watched MSR per vCPU: writes, last value, last non-zero value, refused writes. */
const MSR_WORDS = 4;

/** Watched MSR writes kept in order per vCPU (Linux writes about ten per CPU while booting). */
export const MSR_TRACE_ENTRIES = 256;
/** Words per vCPU in {@linkcode BootShared.msrTrace}: the count, then (msr, value) pairs. */
export const MSR_TRACE_WORDS: number = 1 + 2 * MSR_TRACE_ENTRIES;

/**
 * The words of one watched MSR's record, in {@linkcode BootShared.msrLog}.
 *
 * @example
 * ```ts
 * import { MSR_LOG } from "@pvkit/vmm";
 * console.log(MSR_LOG.lastNonZero); // 2
 * ```
 */
export const MSR_LOG = { writes: 0, last: 1, lastNonZero: 2, refused: 3 } as const;

/** The buffers, for posting to a Worker. */
export interface BootSharedBuffers {
  /** Number of vCPUs. */
  readonly vcpus: number;
  /** Control words (Int32). */
  readonly control: SharedArrayBuffer;
  /** Exit counters (Uint32, vCPU-major). */
  readonly exits: SharedArrayBuffer;
  /** Watched MSR writes (BigUint64, vCPU-major). */
  readonly msrs: SharedArrayBuffer;
  /** The watched MSR writes in order (BigUint64, vCPU-major: count, then msr/value pairs). */
  readonly msrTrace: SharedArrayBuffer;
  /** Accesses to ports no device claims (Uint32, by port). */
  readonly unclaimedPorts: SharedArrayBuffer;
  /** Exits to MMIO addresses no device claims (Uint32, one word). */
  readonly unclaimedMmio: SharedArrayBuffer;
}

// Waits until `words[at]` leaves `value` or `ms` pass. Deno 2.9's Atomics.waitAsync neither
// keeps the event loop alive nor reliably ends at its timeout, so a timer races it.
async function waitWord(words: Int32Array, at: number, value: number, ms: number): Promise<void> {
  const wait = Atomics.waitAsync(words, at, value, ms);
  if (!wait.async) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([wait.value, new Promise<void>((r) => timer = setTimeout(r, ms))]);
  clearTimeout(timer);
}

/**
 * Views over the shared buffers. {@linkcode BootShared.create} on the main thread,
 * {@linkcode BootShared.attach} in each Worker.
 *
 * @example
 * ```ts
 * import { BootShared, STOP_REASON } from "@pvkit/vmm";
 * const shared = BootShared.create(2);
 * const worker = BootShared.attach(shared.buffers);
 * worker.requestStop(STOP_REASON.reset, 1);
 * console.log(shared.stopReason, shared.stopVcpu); // 1 1
 * ```
 */
export class BootShared {
  /** The buffers. */
  readonly buffers: BootSharedBuffers;
  /** Control words. */
  readonly control: Int32Array;
  /** Exit counters: `exits[vcpu * EXIT_REASON_SLOTS + reason]`. */
  readonly exits: Uint32Array;
  /** Watched MSR records: `msrLog[(vcpu * WATCHED_PV_MSRS.length + slot) * 4 + word]`. */
  readonly msrLog: BigUint64Array;
  /**
   * The first {@linkcode MSR_TRACE_ENTRIES} watched MSR writes of each vCPU, in order: at
   * `vcpu * MSR_TRACE_WORDS` the count (including writes past the end), then (msr, value) pairs.
   */
  readonly msrTrace: BigUint64Array;
  /** Accesses to unclaimed ports, by port. */
  readonly unclaimedPorts: Uint32Array;
  /** Exits to unclaimed MMIO. */
  readonly unclaimedMmio: Uint32Array;

  private constructor(buffers: BootSharedBuffers) {
    this.buffers = buffers;
    this.control = new Int32Array(buffers.control);
    this.exits = new Uint32Array(buffers.exits);
    this.msrLog = new BigUint64Array(buffers.msrs);
    this.msrTrace = new BigUint64Array(buffers.msrTrace);
    this.unclaimedPorts = new Uint32Array(buffers.unclaimedPorts);
    this.unclaimedMmio = new Uint32Array(buffers.unclaimedMmio);
  }

  /** Allocates the buffers for `vcpus` vCPUs. */
  static create(vcpus: number): BootShared {
    const sab = (bytes: number) => new SharedArrayBuffer(bytes);
    return new BootShared({
      vcpus,
      control: sab(4 * (CONTROL_HEADER + CONTROL_PER_VCPU * vcpus)),
      exits: sab(4 * EXIT_REASON_SLOTS * vcpus),
      msrs: sab(8 * MSR_WORDS * WATCHED_PV_MSRS.length * vcpus),
      msrTrace: sab(8 * MSR_TRACE_WORDS * vcpus),
      unclaimedPorts: sab(4 * 0x10000),
      unclaimedMmio: sab(4),
    });
  }

  /** Views over buffers another thread created. */
  static attach(buffers: BootSharedBuffers): BootShared {
    return new BootShared(buffers);
  }

  /** Number of vCPUs. */
  get vcpus(): number {
    return this.buffers.vcpus;
  }

  /** True once a stop was requested. */
  get stopping(): boolean {
    return Atomics.load(this.control, 0) !== 0;
  }

  /** The first stop request's reason ({@linkcode STOP_REASON}). */
  get stopReason(): StopReasonCode {
    return Atomics.load(this.control, 1) as StopReasonCode;
  }

  /** The vCPU that asked to stop (-1 for the host). */
  get stopVcpu(): number {
    return Atomics.load(this.control, 2);
  }

  /** The stop's detail words (exit reason, errno, event type, sub-codes). */
  stopDetail(i: 0 | 1): number {
    return Atomics.load(this.control, 3 + i);
  }

  /**
   * Requests a stop; the first request wins (later ones are ignored). Wakes whoever waits in
   * {@linkcode BootShared.waitForStop}. Returns true for the winning request.
   */
  requestStop(reason: StopReasonCode, vcpu: number, detail = 0, detail2 = 0): boolean {
    if (Atomics.compareExchange(this.control, 0, 0, 1) !== 0) return false;
    Atomics.store(this.control, 1, reason);
    Atomics.store(this.control, 2, vcpu);
    Atomics.store(this.control, 3, detail);
    Atomics.store(this.control, 4, detail2);
    Atomics.notify(this.control, 0);
    return true;
  }

  /** Resolves true once a stop is requested, false after `ms`. */
  async waitForStop(ms: number): Promise<boolean> {
    await waitWord(this.control, 0, 0, ms);
    return this.stopping;
  }

  /** Lets every vCPU thread enter the guest (they wait for this after their set-up). */
  start(): void {
    Atomics.store(this.control, START_WORD, 1);
    Atomics.notify(this.control, START_WORD);
  }

  /**
   * Blocks the calling (vCPU) thread until {@linkcode BootShared.start} or a stop; true when
   * started.
   */
  awaitStart(): boolean {
    while (Atomics.load(this.control, START_WORD) === 0 && !this.stopping) {
      Atomics.wait(this.control, START_WORD, 0, 100);
    }
    return !this.stopping;
  }

  /** vCPU `i`'s thread id (0 until its Worker started). */
  tid(i: number): number {
    return Atomics.load(this.control, CONTROL_HEADER + CONTROL_PER_VCPU * i);
  }

  /** Records vCPU `i`'s thread id. */
  setTid(i: number, tid: number): void {
    Atomics.store(this.control, CONTROL_HEADER + CONTROL_PER_VCPU * i, tid);
  }

  /** vCPU `i`'s {@linkcode VCPU_STATE}. */
  vcpuState(i: number): number {
    return Atomics.load(this.control, CONTROL_HEADER + CONTROL_PER_VCPU * i + 1);
  }

  /** Sets vCPU `i`'s state and wakes waiters on it. */
  setVcpuState(i: number, state: number): void {
    const at = CONTROL_HEADER + CONTROL_PER_VCPU * i + 1;
    Atomics.store(this.control, at, state);
    Atomics.notify(this.control, at);
  }

  /** Resolves true once vCPU `i` reached `state` (or a later one), false after `ms`. */
  async waitVcpuState(i: number, state: number, ms: number): Promise<boolean> {
    const at = CONTROL_HEADER + CONTROL_PER_VCPU * i + 1;
    const deadline = performance.now() + ms;
    for (;;) {
      const now = Atomics.load(this.control, at);
      if (now >= state) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await waitWord(this.control, at, now, left);
    }
  }

  /** Index of a watched MSR record's first word. */
  msrRecord(vcpu: number, slot: number): number {
    return (vcpu * WATCHED_PV_MSRS.length + slot) * MSR_WORDS;
  }

  /** Exits of `reason` on vCPU `vcpu`. */
  exitCount(vcpu: number, reason: number): number {
    return this.exits[vcpu * EXIT_REASON_SLOTS + reason];
  }
}
