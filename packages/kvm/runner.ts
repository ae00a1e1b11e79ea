/**
 * Running guest code without ever hanging the process: {@linkcode VcpuRunner} issues KVM_RUN
 * from a Worker (one OS thread per vCPU) under a watchdog, and {@linkcode runGuest} runs a
 * 64-bit program to completion with exits handled on the main thread.
 *
 * How a vCPU is kicked (measured on this project's nested, PVM-backed hosts, Deno 2.9.6):
 *
 * - The watchdog sets `kvm_run.immediate_exit` and sends **SIGUSR2** to the vCPU thread with
 *   `tgkill`. KVM_RUN returns EINTR, even from a VMCALL/VMMCALL hang in 64-bit mode.
 * - SIGUSR2's default action kills the process, so a no-op `Deno.addSignalListener` is
 *   installed once, from the main thread, and never removed: Deno restores the default
 *   action when the last listener goes (also when a Worker holding it terminates), and a late
 *   kick would then kill the process. Listeners do not keep the process alive.
 * - SIGUSR1 is not used: Deno reserves it to start the V8 inspector (it opens a debugger
 *   socket on 127.0.0.1:9229).
 * - `Worker.terminate()` cannot interrupt a thread inside KVM_RUN (nor any FFI call), and a
 *   thread stuck there keeps the process from exiting on its own; `Deno.exit()` still ends it.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import type { CpuidEntry } from "./cpuid2.ts";
import type { VcpuExit } from "./exits.ts";
import { libcGetpid, libcSchedYield, libcTgkill } from "./libc.ts";
import { type GuestCode, type IdtHandlers, setupLongMode } from "./long_mode.ts";
import type { KvmRegs } from "./structs.ts";
import type { KvmVcpu } from "./vcpu.ts";
import type { KvmVm } from "./vm.ts";
import { factory } from "./_internal.ts";
import {
  DONE,
  EXITED,
  QUIT,
  RESULT,
  RUN,
  type RunWorkerInit,
  type RunWorkerMessage,
  SLOTS,
  STATE,
} from "./_run_protocol.ts";

/**
 * The signal that kicks a vCPU thread out of KVM_RUN.
 *
 * @example
 * ```ts
 * import { VCPU_KICK_SIGNAL } from "@pvkit/kvm";
 * console.log(VCPU_KICK_SIGNAL); // "SIGUSR2"
 * ```
 */
export const VCPU_KICK_SIGNAL: Deno.Signal = "SIGUSR2";
const SIGUSR2 = 12;

let kickHandlerInstalled = false;
const ignoreKick = (): void => {};

/**
 * Installs the process-wide no-op handler for {@linkcode VCPU_KICK_SIGNAL} (once; later calls
 * do nothing), so a kick interrupts KVM_RUN instead of killing the process.
 * {@linkcode VcpuRunner.start} calls it; call it yourself before sending kicks of your own.
 * Call it from the main thread: the handler must outlive every Worker.
 *
 * @example
 * ```ts
 * import { installKickHandler } from "@pvkit/kvm";
 * installKickHandler();
 * ```
 */
export function installKickHandler(): void {
  if (kickHandlerInstalled) return;
  Deno.addSignalListener(VCPU_KICK_SIGNAL, ignoreKick);
  kickHandlerInstalled = true;
}

/**
 * A run that hit the watchdog: the guest did not exit within `ms`.
 *
 * @example
 * ```ts
 * import type { VcpuTimeout } from "@pvkit/kvm";
 * const t: VcpuTimeout = {
 *   kind: "timeout", ms: 2000, vcpuId: 0, interrupted: true,
 *   message: "vCPU 0 did not exit within 2000 ms",
 * };
 * console.log(t.message);
 * ```
 */
export interface VcpuTimeout {
  /** Discriminant. */
  readonly kind: "timeout";
  /** The watchdog budget that ran out. */
  readonly ms: number;
  /** The vCPU's id. */
  readonly vcpuId: number;
  /**
   * True when the kick got the thread out of KVM_RUN (the vCPU is usable again, e.g. to read
   * its registers); false when the thread is stuck in the kernel (the runner is then unusable,
   * and the process must end with `Deno.exit()`).
   */
  readonly interrupted: boolean;
  /** A sentence for people: `vCPU 0 did not exit within 2000 ms (...)`. */
  readonly message: string;
}

/**
 * Options of {@linkcode VcpuRunner.start}.
 *
 * @example
 * ```ts
 * import type { VcpuRunnerOptions } from "@pvkit/kvm";
 * const opts: VcpuRunnerOptions = { kickGraceMs: 500, syncWaitMs: 0 };
 * console.log(opts);
 * ```
 */
export interface VcpuRunnerOptions {
  /** How long KVM_RUN may take to return after a kick before the thread counts as stuck (default 1000). */
  kickGraceMs?: number;
  /** How long the Worker may take to start and report its thread id (default 10000). */
  startTimeoutMs?: number;
  /**
   * How long the main thread waits synchronously (`Atomics.wait`) for an exit before yielding
   * to the event loop (default 1 ms). Exits that come sooner skip a trip through the event
   * loop; 0 always yields.
   */
  syncWaitMs?: number;
  /**
   * How long each side polls shared memory (with `sched_yield`) before sleeping, in µs
   * (default 50): the main thread waiting for an exit, the Worker waiting for the next run.
   * On this project's nested 2-CPU hosts a port-I/O round trip took ~13 µs with polling and
   * ~35 µs without (waking a sleeping thread is slow under nesting); 0 never polls.
   */
  spinUs?: number;
}

const WORKER_URL = new URL("./run_worker.ts", import.meta.url);
// vCPUs with an open runner (a stuck one keeps its vCPU here for good).
const withRunner = new WeakSet<KvmVcpu>();
const DEFAULT_SPIN_US = 50;

/**
 * Runs one vCPU's KVM_RUN on a dedicated Worker thread, under a watchdog.
 *
 * {@linkcode VcpuRunner.run} starts one KVM_RUN and resolves with the decoded exit; the main
 * thread then reads and answers it in `kvm_run` (shared memory) before the next run. If the
 * guest does not exit within the budget, the runner kicks the thread (immediate_exit +
 * SIGUSR2) and resolves with a {@linkcode VcpuTimeout}. The Worker opens nothing: it uses the
 * vCPU fd number and holds no view of guest memory or `kvm_run`.
 *
 * While a run is pending, the vCPU's other ioctls throw (`kvm-vcpu-busy`) instead of blocking
 * this thread behind KVM_RUN. Closing the vCPU (or its VM) stops the runner; so does
 * {@linkcode VcpuRunner.close}. Needs `--allow-read` (to load the Worker) and `--allow-ffi`.
 *
 * @example
 * ```ts
 * import { KvmSystem, setupLongMode, VcpuRunner } from "@pvkit/kvm";
 * import { Assembler, HIMEM_START } from "@pvkit/x86";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const vcpu = vm.kvmCreateVcpu(0);
 * setupLongMode(vcpu, vm.mapGuestRam(2 << 20), {
 *   code: new Assembler(HIMEM_START).movImm("eax", 1).out(0x10, "al").label("spin").jmp("spin"),
 * });
 * using runner = await VcpuRunner.start(vcpu);
 * const first = await runner.run(1000); // the out
 * const second = await runner.run(100); // the endless loop: kicked after 100 ms
 * console.log(first.kind, second.kind); // "io" "timeout"
 * ```
 */
export class VcpuRunner implements Disposable {
  /** The vCPU this runner drives. */
  readonly vcpu: KvmVcpu;
  /** The OS thread id of the Worker that issues KVM_RUN (the kick's target). */
  readonly tid: number;
  readonly #worker: Worker;
  readonly #ctrl: Int32Array;
  readonly #kickGraceMs: number;
  readonly #syncWaitMs: number;
  readonly #spinMs: number;
  readonly #unhook: () => void;
  #running = false;
  #stuck = false;
  #closed = false;
  #workerError: string | undefined;

  private constructor(
    vcpu: KvmVcpu,
    worker: Worker,
    ctrl: Int32Array,
    tid: number,
    options: VcpuRunnerOptions,
  ) {
    this.vcpu = vcpu;
    this.#worker = worker;
    this.#ctrl = ctrl;
    this.tid = tid;
    this.#kickGraceMs = options.kickGraceMs ?? 1000;
    this.#syncWaitMs = options.syncWaitMs ?? 1;
    this.#spinMs = (options.spinUs ?? DEFAULT_SPIN_US) / 1000;
    this.#unhook = vcpu.addCloseHook(() => this.#shutdown());
    worker.onmessage = (e: MessageEvent<RunWorkerMessage>) => {
      if (e.data.type === "error") this.#workerError = e.data.message;
    };
  }

  /**
   * Starts the vCPU's Worker and waits until it reports its thread id. Installs the kick
   * handler ({@linkcode installKickHandler}) first. Throws {@linkcode PvkitError}
   * (`kvm-runner-failed`) if the Worker cannot start.
   *
   * @example
   * ```ts
   * import { KvmSystem, VcpuRunner } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using runner = await VcpuRunner.start(vm.kvmCreateVcpu(0));
   * console.log(runner.tid > 0); // true
   * ```
   */
  static async start(vcpu: KvmVcpu, options: VcpuRunnerOptions = {}): Promise<VcpuRunner> {
    if (vcpu.closed) {
      throw new PvkitError("kvm-runner-failed", `${vcpu.label} is closed; cannot run it`);
    }
    if (withRunner.has(vcpu)) {
      throw new PvkitError(
        "kvm-runner-failed",
        `${vcpu.label} already has a runner`,
        "close it first: two threads in KVM_RUN on one vCPU would block each other",
      );
    }
    installKickHandler();
    const control = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const worker = new Worker(WORKER_URL, { type: "module" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const tid = await new Promise<number>((resolve, reject) => {
        const fail = (why: string) =>
          reject(
            new PvkitError(
              "kvm-runner-failed",
              `the Worker for ${vcpu.label} did not start: ${why}`,
              "run with --allow-read (to load the Worker module) and --allow-ffi",
            ),
          );
        worker.onmessage = (e: MessageEvent<RunWorkerMessage>) => {
          if (e.data.type === "ready") resolve(e.data.tid);
          else fail(e.data.message);
        };
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          fail(e.message);
        };
        timer = setTimeout(
          () => fail(`no answer within ${options.startTimeoutMs ?? 10_000} ms`),
          options.startTimeoutMs ?? 10_000,
        );
        const init: RunWorkerInit = {
          fd: vcpu.fd,
          control,
          spinMs: (options.spinUs ?? DEFAULT_SPIN_US) / 1000,
        };
        worker.postMessage(init);
      });
      worker.onerror = (e: ErrorEvent) => e.preventDefault();
      const runner = new VcpuRunner(vcpu, worker, new Int32Array(control), tid, options);
      withRunner.add(vcpu);
      return runner;
    } catch (e) {
      // Nothing was running yet: the worker cannot be inside KVM_RUN.
      Atomics.store(new Int32Array(control), STATE, QUIT);
      Atomics.notify(new Int32Array(control), STATE);
      worker.terminate();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True while a {@linkcode VcpuRunner.run} is pending. */
  get running(): boolean {
    return this.#running;
  }

  /** True after a kick failed to get the thread out of KVM_RUN; the runner is then unusable. */
  get stuck(): boolean {
    return this.#stuck;
  }

  /** True after {@linkcode VcpuRunner.close} (or the vCPU's close). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs the vCPU once (one KVM_RUN on the Worker) and resolves with the exit it returned, or
   * with a {@linkcode VcpuTimeout} if it did not exit within `timeoutMs` (the runner then kicks
   * it; an exit that races the kick is returned as that exit). Answer the exit (e.g.
   * `exit.setInput(...)`) before the next run. Throws {@linkcode PvkitError}
   * (`kvm-runner-closed`, `kvm-vcpu-stuck`, `kvm-runner-busy`), or {@linkcode KvmError} when
   * KVM_RUN fails with an errno other than EINTR/EAGAIN.
   *
   * @example
   * ```ts
   * import { KvmSystem, setupLongMode, VcpuRunner } from "@pvkit/kvm";
   * import { Assembler, HIMEM_START } from "@pvkit/x86";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * setupLongMode(vcpu, vm.mapGuestRam(2 << 20), {
   *   code: new Assembler(HIMEM_START).in("al", 0x20).out(0x21, "al").hlt(),
   * });
   * using runner = await VcpuRunner.start(vcpu);
   * const read = await runner.run(1000);
   * if (read.kind === "io") read.setInput(0x5a); // the value `in` returns
   * const echo = await runner.run(1000);
   * if (echo.kind === "io") console.log(echo.port, echo.value); // 33 90
   * ```
   */
  async run(timeoutMs: number): Promise<VcpuExit | VcpuTimeout> {
    if (this.#closed) {
      throw new PvkitError(
        "kvm-runner-closed",
        `the runner of ${this.vcpu.label} was closed`,
        this.#workerError,
      );
    }
    if (this.#stuck) {
      throw new PvkitError(
        "kvm-vcpu-stuck",
        `${this.vcpu.label} is stuck in KVM_RUN on thread ${this.tid}`,
        "end the process with Deno.exit()",
      );
    }
    if (this.#running) {
      throw new PvkitError("kvm-runner-busy", `${this.vcpu.label} is already running`);
    }
    if (!(timeoutMs > 0)) {
      throw new PvkitError("kvm-bad-timeout", `timeoutMs must be positive, not ${timeoutMs}`);
    }
    const ctrl = this.#ctrl;
    if (Atomics.load(ctrl, STATE) === EXITED) {
      this.#shutdown();
      throw new PvkitError(
        "kvm-runner-failed",
        `the Worker of ${this.vcpu.label} has exited${
          this.#workerError ? `: ${this.#workerError}` : ""
        }`,
      );
    }
    this.vcpu.immediateExit = false;
    this.#running = true;
    const setBusy = factory("setVcpuBusy");
    setBusy(this.vcpu, `thread ${this.tid}`);
    try {
      Atomics.store(ctrl, STATE, RUN);
      Atomics.notify(ctrl, STATE);
      const start = performance.now();
      if (this.#spinMs > 0) {
        const until = start + Math.min(this.#spinMs, timeoutMs);
        while (Atomics.load(ctrl, STATE) === RUN && performance.now() < until) libcSchedYield();
      }
      if (this.#syncWaitMs > 0 && Atomics.load(ctrl, STATE) === RUN) {
        Atomics.wait(ctrl, STATE, RUN, Math.min(this.#syncWaitMs, timeoutMs));
      }
      let done = await this.#waitWhileRunning(timeoutMs - (performance.now() - start));
      if (done) return this.#result();
      this.#kick();
      done = await this.#waitWhileRunning(this.#kickGraceMs);
      const base = `${this.vcpu.label} did not exit within ${timeoutMs} ms`;
      if (!done) {
        this.#stuck = true;
        return {
          kind: "timeout",
          ms: timeoutMs,
          vcpuId: this.vcpu.id,
          interrupted: false,
          message:
            `${base}, and a kick did not interrupt KVM_RUN within ${this.#kickGraceMs} ms: ` +
            `thread ${this.tid} is stuck in the kernel; end the process with Deno.exit()`,
        };
      }
      const exit = this.#result();
      if (exit.kind !== "intr") return exit; // a real exit raced the watchdog
      return {
        kind: "timeout",
        ms: timeoutMs,
        vcpuId: this.vcpu.id,
        interrupted: true,
        message: base,
      };
    } finally {
      this.#running = false;
      if (!this.#stuck) setBusy(this.vcpu, undefined);
    }
  }

  #result(): VcpuExit {
    const state = Atomics.load(this.#ctrl, STATE);
    if (state !== DONE) {
      throw new PvkitError(
        "kvm-runner-closed",
        `${this.vcpu.label} was closed while it ran`,
        this.#workerError,
      );
    }
    return this.vcpu.decodeRunResult(Atomics.load(this.#ctrl, RESULT));
  }

  // Resolves true once the state has left RUN, false after `ms`.
  async #waitWhileRunning(ms: number): Promise<boolean> {
    const ctrl = this.#ctrl;
    const deadline = performance.now() + ms;
    for (;;) {
      if (Atomics.load(ctrl, STATE) !== RUN) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const wait = Atomics.waitAsync(ctrl, STATE, RUN, left);
      if (wait.async) await wait.value;
    }
  }

  /**
   * Kicks the vCPU: sets `immediate_exit` and sends {@linkcode VCPU_KICK_SIGNAL} to its
   * thread, so a pending KVM_RUN returns EINTR (a `run` then resolves with `{ kind: "intr" }`)
   * and the next one returns at once unless {@linkcode VcpuRunner.run} starts it (which clears
   * the flag). Does nothing once closed.
   *
   * @example
   * ```ts
   * import { KvmSystem, VcpuRunner } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using runner = await VcpuRunner.start(vm.kvmCreateVcpu(0));
   * runner.kick(); // idle: only the signal handler runs
   * ```
   */
  kick(): void {
    if (!this.#closed) this.#kick();
  }

  #kick(): void {
    if (this.vcpu.closed) return;
    this.vcpu.immediateExit = true;
    libcTgkill(libcGetpid(), this.tid, SIGUSR2);
  }

  // Stops the Worker. Synchronous, because the vCPU's close hook calls it right before the fd
  // is closed: after this returns the Worker issues no ioctl on the fd number, which the
  // kernel may hand out again.
  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unhook();
    if (!this.#stuck) withRunner.delete(this.vcpu);
    const ctrl = this.#ctrl;
    if (!this.#stuck && Atomics.load(ctrl, STATE) === RUN) {
      this.#kick();
      Atomics.wait(ctrl, STATE, RUN, this.#kickGraceMs);
      if (Atomics.load(ctrl, STATE) === RUN) this.#stuck = true;
    }
    // Storing QUIT over RUN makes a stuck worker leave without another ioctl if it ever returns.
    if (Atomics.load(ctrl, STATE) !== EXITED) {
      Atomics.store(ctrl, STATE, QUIT);
      Atomics.notify(ctrl, STATE);
    }
    if (!this.#stuck) Atomics.wait(ctrl, STATE, QUIT, this.#kickGraceMs);
    this.#worker.terminate();
  }

  /**
   * Stops the Worker (kicking a pending run first) and releases it. Idempotent; the vCPU stays
   * open. If the thread is stuck in KVM_RUN it stays so, and the process needs `Deno.exit()`.
   *
   * @example
   * ```ts
   * import { KvmSystem, VcpuRunner } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const runner = await VcpuRunner.start(vm.kvmCreateVcpu(0));
   * runner.close();
   * console.log(runner.closed); // true
   * ```
   */
  close(): void {
    this.#shutdown();
  }

  /** Same as {@linkcode VcpuRunner.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

// ---------------------------------------------------------------------------------------------
// runGuest

/**
 * What an exit handler tells {@linkcode runGuest}: resume the guest, or stop.
 *
 * @example
 * ```ts
 * import type { ExitAction } from "@pvkit/kvm";
 * const next: ExitAction = "continue";
 * console.log(next);
 * ```
 */
export type ExitAction = "continue" | "stop";

/**
 * Options of {@linkcode runGuest}.
 *
 * @example
 * ```ts
 * import type { RunGuestOptions } from "@pvkit/kvm";
 * import { Assembler, HIMEM_START } from "@pvkit/x86";
 * const opts: RunGuestOptions = {
 *   code: new Assembler(HIMEM_START).out(0x10, "al").hlt(),
 *   timeoutMs: 1000,
 *   onExit: (exit) => exit.kind === "io" ? "continue" : "stop",
 * };
 * console.log(opts.timeoutMs);
 * ```
 */
export interface RunGuestOptions {
  /** The program: an `Assembler` (loaded at its origin), a `GuestChunk`, or bytes. */
  code: GuestCode;
  /** RIP at entry (default: the code's address). */
  entry?: bigint;
  /** Watchdog budget of each KVM_RUN, in ms: the longest the guest may run without an exit (default 2000). */
  timeoutMs?: number;
  /**
   * Handles each exit on the main thread (answer it, record it) and says whether to resume.
   * Returning nothing applies the default policy: resume after port I/O (an `in` reads all
   * ones), MMIO (reads return zeros), userspace MSR exits (#GP), hypercalls (-KVM_ENOSYS) and
   * kicks; stop on anything else (`hlt`, `shutdown`, `fail-entry`, `internal-error`, ...).
   */
  onExit?: (exit: VcpuExit, vcpu: KvmVcpu) => ExitAction | void | Promise<ExitAction | void>;
  /** The vCPU to run (default: the VM's vCPU 0, created if needed). */
  vcpu?: KvmVcpu;
  /** CPUID to set first (KVM_SET_CPUID2); default: leave the vCPU's CPUID as it is. */
  cpuid?: readonly CpuidEntry[];
  /** IDT handlers by vector (see {@linkcode LongModeOptions.idt}). */
  idt?: IdtHandlers;
  /** Initial general registers besides RIP, RSP, RBP and RFLAGS. */
  regs?: Partial<KvmRegs>;
  /** Stop after this many exits (default 1 000 000). */
  maxExits?: number;
  /** Options of the vCPU's {@linkcode VcpuRunner}. */
  runner?: VcpuRunnerOptions;
}

/**
 * {@linkcode runGuest} ended because the handler (or the default policy) said stop.
 *
 * @example
 * ```ts
 * import type { GuestStopped } from "@pvkit/kvm";
 * const r: GuestStopped = { kind: "stopped", exit: { kind: "hlt", exitReason: 5 }, exits: 3, elapsedMs: 1 };
 * console.log(r.exit.kind);
 * ```
 */
export interface GuestStopped {
  /** Discriminant. */
  readonly kind: "stopped";
  /** The exit it stopped on. */
  readonly exit: VcpuExit;
  /** Exits handled, this one included. */
  readonly exits: number;
  /** Wall time of the run loop. */
  readonly elapsedMs: number;
}

/**
 * {@linkcode runGuest} ended on the watchdog. When the kick worked, `rip` says where the guest
 * was and `hypercall` whether it sat on a VMCALL/VMMCALL (which hangs on nested hosts like
 * this project's).
 *
 * @example
 * ```ts
 * import type { GuestTimeout } from "@pvkit/kvm";
 * function explain(r: GuestTimeout): string {
 *   return r.hypercall ? `hypercalls unavailable on this host (${r.hypercall})` : r.message;
 * }
 * console.log(typeof explain);
 * ```
 */
export interface GuestTimeout extends VcpuTimeout {
  /** Exits handled before the timeout. */
  readonly exits: number;
  /** Wall time of the run loop. */
  readonly elapsedMs: number;
  /** The guest RIP after the kick (absent when the thread is stuck). */
  readonly rip?: bigint;
  /**
   * The hypercall instruction at `rip`, if any, as it is in guest memory now. On this project's
   * hosts both VMCALL and VMMCALL read back as `vmcall`: KVM's hypercall-patching quirk
   * (KVM_X86_QUIRK_FIX_HYPERCALL_INSN) rewrites a VMMCALL into the VMCALL the PVM backend
   * treats as native, then the vCPU hangs.
   */
  readonly hypercall?: "vmcall" | "vmmcall";
}

/**
 * {@linkcode runGuest} ended after `maxExits` exits.
 *
 * @example
 * ```ts
 * import type { GuestExitLimit } from "@pvkit/kvm";
 * const r: GuestExitLimit = { kind: "exit-limit", exit: { kind: "hlt", exitReason: 5 }, exits: 10, elapsedMs: 1 };
 * console.log(r.exits);
 * ```
 */
export interface GuestExitLimit {
  /** Discriminant. */
  readonly kind: "exit-limit";
  /** The last exit. */
  readonly exit: VcpuExit;
  /** Exits handled (= maxExits). */
  readonly exits: number;
  /** Wall time of the run loop. */
  readonly elapsedMs: number;
}

/**
 * How {@linkcode runGuest} ended.
 *
 * @example
 * ```ts
 * import type { RunGuestResult } from "@pvkit/kvm";
 * const show = (r: RunGuestResult) => r.kind === "timeout" ? r.message : `${r.kind} after ${r.exits} exits`;
 * console.log(typeof show);
 * ```
 */
export type RunGuestResult = GuestStopped | GuestTimeout | GuestExitLimit;

const KVM_ENOSYS = 1000n;

/**
 * The default policy of {@linkcode runGuest}: answers exits that need an answer and says
 * whether to resume (see {@linkcode RunGuestOptions.onExit}).
 *
 * @example
 * ```ts
 * import { defaultExitAction } from "@pvkit/kvm";
 * console.log(defaultExitAction({ kind: "shutdown", exitReason: 8 })); // "stop"
 * ```
 */
export function defaultExitAction(exit: VcpuExit): ExitAction {
  switch (exit.kind) {
    case "io":
      if (exit.direction === "in") exit.data.fill(0xff);
      return "continue";
    case "mmio":
      if (!exit.isWrite) exit.data.fill(0);
      return "continue";
    case "x86-rdmsr":
    case "x86-wrmsr":
      exit.injectGp();
      return "continue";
    case "hypercall":
      exit.setRet(-KVM_ENOSYS);
      return "continue";
    case "intr":
      return "continue";
    default:
      return "stop";
  }
}

function hypercallAt(vm: KvmVm, rip: bigint): "vmcall" | "vmmcall" | undefined {
  try {
    const mem = vm.memory;
    if (!mem.contains(rip, 3)) return undefined;
    const [a, b, c] = mem.readBytes(rip, 3);
    if (a !== 0x0f || b !== 0x01) return undefined;
    return c === 0xc1 ? "vmcall" : c === 0xd9 ? "vmmcall" : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a 64-bit program on a VM that has guest RAM ({@linkcode KvmVm.mapGuestRam}): sets up
 * the vCPU ({@linkcode setupLongMode}, CPUID if given), writes the code, then runs it on a
 * {@linkcode VcpuRunner}, handing every exit to `onExit` on the main thread, until it says
 * stop, `maxExits` is reached, or one KVM_RUN exceeds `timeoutMs`. Never hangs the process:
 * a timeout resolves as `{ kind: "timeout" }` with a message such as
 * `vCPU 0 did not exit within 2000 ms (hypercalls hang on this nested host)`.
 * The runner is closed at the end; the VM and vCPU stay open.
 *
 * @example
 * ```ts
 * import { KvmSystem, runGuest } from "@pvkit/kvm";
 * import { Assembler, HIMEM_START } from "@pvkit/x86";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * vm.mapGuestRam(2 << 20);
 * const code = new Assembler(HIMEM_START)
 *   .movImm("eax", 1).out(0x10, "al")
 *   .movImm("eax", 2).out(0x10, "al")
 *   .out(0x11, "al"); // "done"
 * const seen: number[] = [];
 * const result = await runGuest(vm, {
 *   code,
 *   timeoutMs: 1000,
 *   onExit: (exit) => {
 *     if (exit.kind !== "io") return "stop";
 *     if (exit.port === 0x11) return "stop";
 *     seen.push(exit.value);
 *     return "continue";
 *   },
 * });
 * console.log(result.kind, seen); // "stopped" [ 1, 2 ]
 * ```
 */
export async function runGuest(vm: KvmVm, options: RunGuestOptions): Promise<RunGuestResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const maxExits = options.maxExits ?? 1_000_000;
  const vcpu = options.vcpu ?? vm.vcpus.find((v) => v.id === 0 && !v.closed) ??
    vm.kvmCreateVcpu(0);
  if (options.cpuid) vcpu.kvmSetCpuid2(options.cpuid);
  setupLongMode(vcpu, vm.memory, {
    code: options.code,
    entry: options.entry,
    idt: options.idt,
    regs: options.regs,
  });
  const runner = await VcpuRunner.start(vcpu, options.runner);
  const started = performance.now();
  let exits = 0;
  try {
    for (;;) {
      const exit = await runner.run(timeoutMs);
      if (exit.kind === "timeout") {
        const elapsedMs = performance.now() - started;
        if (!exit.interrupted) return { ...exit, exits, elapsedMs };
        const rip = vcpu.kvmGetRegs().rip;
        const hypercall = hypercallAt(vm, rip);
        const why = hypercall
          ? "hypercalls hang on this nested host"
          : `still running at RIP 0x${rip.toString(16)}`;
        return { ...exit, message: `${exit.message} (${why})`, exits, elapsedMs, rip, hypercall };
      }
      exits++;
      const action = (await options.onExit?.(exit, vcpu)) ?? defaultExitAction(exit);
      if (action === "stop") {
        return { kind: "stopped", exit, exits, elapsedMs: performance.now() - started };
      }
      if (exits >= maxExits) {
        return { kind: "exit-limit", exit, exits, elapsedMs: performance.now() - started };
      }
    }
  } finally {
    runner.close();
  }
}
