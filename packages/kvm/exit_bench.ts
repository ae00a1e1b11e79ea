/**
 * Port-I/O exit round trips, measured: {@linkcode runExitLoop} runs a 64-bit guest loop of
 * `out dx, al` exits answered by this process, and {@linkcode runCExitBaseline} runs the same
 * loop from a small C program (built with `gcc -O2` at run time) for a baseline.
 *
 * The Deno loop is the fastest correct path this package has: a synchronous KVM_RUN on the
 * calling thread through a pre-bound FFI symbol (`ioctl(i32, u32, u32)`; no BigInt, no
 * allocation and no decoding per exit; `kvm_run` read through persistent typed arrays). It is
 * guarded by a watchdog that needs no second thread: a POSIX per-thread timer
 * (`timer_create` with `SIGEV_THREAD_ID`) sends {@linkcode VCPU_KICK_SIGNAL} to this thread
 * every few tens of ms, so a KVM_RUN that never returns (a hypercall on this project's nested
 * hosts) comes back with EINTR, and a loop that has made no progress for `timeoutMs` ends as a
 * timeout instead of hanging the process. {@linkcode VcpuRunner} (KVM_RUN on a Worker) costs
 * about twice as much per exit here, because every exit crosses threads.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { Assembler, HIMEM_START } from "@pvkit/x86";
import { Errno } from "./errno.ts";
import { KVM_EXIT } from "./exits.ts";
import { KVM_IOCTL } from "./ioctl_numbers.ts";
import { fast, fastErrno, HostMapping } from "./libc.ts";
import { setupLongMode } from "./long_mode.ts";
import { installKickHandler } from "./runner.ts";
import { KvmSystem } from "./system.ts";

/**
 * The port each iteration of the exit loop writes to.
 *
 * @example
 * ```ts
 * import { EXIT_BENCH_LOOP_PORT } from "@pvkit/kvm";
 * console.log(EXIT_BENCH_LOOP_PORT); // 16
 * ```
 */
export const EXIT_BENCH_LOOP_PORT = 0x10;
/**
 * The port the exit loop's guest writes to once it is done.
 *
 * @example
 * ```ts
 * import { EXIT_BENCH_DONE_PORT } from "@pvkit/kvm";
 * console.log(EXIT_BENCH_DONE_PORT); // 17
 * ```
 */
export const EXIT_BENCH_DONE_PORT = 0x11;

/**
 * The Deno path {@linkcode runExitLoop} uses, for reports.
 *
 * @example
 * ```ts
 * import { EXIT_LOOP_PATH } from "@pvkit/kvm";
 * console.log(EXIT_LOOP_PATH);
 * ```
 */
export const EXIT_LOOP_PATH: string =
  "synchronous KVM_RUN on the main thread (pre-bound FFI ioctl, typed-array kvm_run), " +
  "watchdog: per-thread POSIX timer sending SIGUSR2";

const SIGUSR2 = 12;
const SIGEV_THREAD_ID = 4;
const CLOCK_MONOTONIC = 1;

/**
 * A running per-thread watchdog timer: every `periodMs` it sends SIGUSR2 to the thread that
 * armed it, which makes a blocked KVM_RUN return EINTR.
 */
class KickTimer implements Disposable {
  readonly #id: bigint;
  #armed = true;

  constructor(periodMs: number) {
    installKickHandler(); // SIGUSR2 would otherwise kill the process
    const lib = fast();
    const sigevent = new Uint8Array(64);
    const view = new DataView(sigevent.buffer);
    view.setInt32(8, SIGUSR2, true); // sigev_signo
    view.setInt32(12, SIGEV_THREAD_ID, true); // sigev_notify
    view.setInt32(16, lib.gettid(), true); // sigev_notify_thread_id
    const id = new BigUint64Array(1);
    if (lib.timer_create(CLOCK_MONOTONIC, sigevent, id) !== 0) {
      throw new PvkitError(
        "kvm-watchdog-failed",
        `timer_create failed (errno ${fastErrno(lib)}): cannot guard KVM_RUN`,
        "the exit loop needs POSIX timers (glibc >= 2.34 exports them from libc.so.6)",
      );
    }
    this.#id = id[0];
    const ns = BigInt(Math.max(1, Math.round(periodMs * 1e6)));
    const spec = new BigInt64Array([ns / 1_000_000_000n, ns % 1_000_000_000n, 0n, 0n]);
    spec[2] = spec[0];
    spec[3] = spec[1];
    if (lib.timer_settime(this.#id, 0, spec, null) !== 0) {
      const e = fastErrno(lib);
      lib.timer_delete(this.#id);
      throw new PvkitError("kvm-watchdog-failed", `timer_settime failed (errno ${e})`);
    }
  }

  [Symbol.dispose](): void {
    if (!this.#armed) return;
    this.#armed = false;
    fast().timer_delete(this.#id);
  }
}

/**
 * Options of {@linkcode runExitLoop}.
 *
 * @example
 * ```ts
 * import type { ExitLoopOptions } from "@pvkit/kvm";
 * const opts: ExitLoopOptions = { count: 10_000, timeoutMs: 1000 };
 * console.log(opts.count);
 * ```
 */
export interface ExitLoopOptions {
  /** Loop iterations (port-I/O exits before the final "done" exit); 1 to 2^31-1. */
  count: number;
  /** The longest the guest may go without an exit before the loop ends as a timeout (default 2000). */
  timeoutMs?: number;
  /** Create an in-kernel irqchip first, as pvkit's VMs do (default true). */
  irqchip?: boolean;
}

/**
 * What {@linkcode runExitLoop} measured.
 *
 * @example
 * ```ts
 * import type { ExitLoopResult } from "@pvkit/kvm";
 * const r: ExitLoopResult = { kind: "done", exits: 10, elapsedMs: 0.07, usPerExit: 7, path: "" };
 * console.log(r.usPerExit);
 * ```
 */
export type ExitLoopResult =
  | {
    /** The guest wrote the done port. */
    readonly kind: "done";
    /** Exits timed: every loop exit plus the done exit (the first exit is not timed). */
    readonly exits: number;
    /** Wall time from the first exit to the done exit. */
    readonly elapsedMs: number;
    /** `elapsedMs * 1000 / exits`. */
    readonly usPerExit: number;
    /** How the exits were handled ({@linkcode EXIT_LOOP_PATH}). */
    readonly path: string;
  }
  | {
    /** The guest made no progress within `timeoutMs` (the watchdog got KVM_RUN back). */
    readonly kind: "timeout";
    /** Exits seen before. */
    readonly exits: number;
    /** A sentence for people. */
    readonly message: string;
  };

/**
 * The guest program of the exit loop: `count` × `out dx, al` to port 0x10, then one `out` to
 * port 0x11, then `hlt` (64-bit code at 0x100000). The C baseline runs the same bytes.
 *
 * @example
 * ```ts
 * import { exitLoopProgram } from "@pvkit/kvm";
 * console.log(exitLoopProgram(3).length); // 22
 * ```
 */
export function exitLoopProgram(count: number): Uint8Array {
  checkCount(count);
  return new Assembler(HIMEM_START)
    .movImm("ecx", count).movImm("dx", EXIT_BENCH_LOOP_PORT)
    .label("loop").out("dx", "al").dec("ecx").jccShort("nz", "loop")
    .movImm("dx", EXIT_BENCH_DONE_PORT).out("dx", "al")
    .label("end").hlt().jmpShort("end")
    .bytes();
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1 || count > 0x7fff_ffff) {
    throw new PvkitError(
      "kvm-bad-exit-count",
      `exit count must be an integer from 1 to 2147483647, not ${count}`,
      "pass e.g. --count 100000",
    );
  }
}

/**
 * Runs {@linkcode exitLoopProgram} on a fresh VM and answers every exit on this thread with a
 * synchronous KVM_RUN (see the module notes: guarded by a per-thread timer, never hangs).
 * Needs unscoped `--allow-ffi` and a usable `/dev/kvm`; throws {@linkcode PvkitError}
 * (`kvm-exit-loop-failed`) on an unexpected exit, {@linkcode KvmError} when KVM fails.
 *
 * @example
 * ```ts
 * import { runExitLoop } from "@pvkit/kvm";
 * const r = runExitLoop({ count: 10_000 });
 * if (r.kind === "done") console.log(`${r.usPerExit.toFixed(2)} µs per exit`);
 * ```
 */
export function runExitLoop(options: ExitLoopOptions): ExitLoopResult {
  const count = options.count;
  checkCount(count);
  const timeoutMs = options.timeoutMs ?? 2000;
  const lib = fast();
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  if (options.irqchip ?? true) vm.kvmCreateIrqchip();
  vm.mapGuestRam(2 << 20);
  const vcpu = vm.kvmCreateVcpu(0);
  setupLongMode(vcpu, vm.memory, {
    code: { gpa: HIMEM_START, bytes: exitLoopProgram(count) },
  });
  // A second view of this vCPU's kvm_run (same pages as the vCPU's own mapping).
  using run = HostMapping.shared(vcpu.fd, vcpu.runSize, 0, "kvm_run (exit loop)");
  const u32 = new Uint32Array(run.buffer, 0, 64);
  const u16 = new Uint16Array(run.buffer, 0, 128);
  const fd = vcpu.fd;
  const KVM_RUN = KVM_IOCTL.KVM_RUN;
  const EXIT_IO = KVM_EXIT.KVM_EXIT_IO;
  const tickMs = Math.max(5, Math.min(100, timeoutMs / 4));
  using _watchdog = new KickTimer(tickMs);

  let exits = 0;
  let started = 0;
  let lastSeen = -1;
  let lastProgressAt = performance.now();
  for (;;) {
    if (lib.ioctl(fd, KVM_RUN, 0) !== 0) {
      const e = fastErrno(lib);
      if (e !== Errno.EINTR && e !== Errno.EAGAIN) {
        throw new PvkitError(
          "kvm-exit-loop-failed",
          `KVM_RUN failed with errno ${e} after ${exits} exits`,
        );
      }
      const now = performance.now();
      if (exits !== lastSeen) {
        lastSeen = exits;
        lastProgressAt = now;
      } else if (now - lastProgressAt >= timeoutMs) {
        return {
          kind: "timeout",
          exits,
          message: `vCPU 0 made no exit for ${timeoutMs} ms after ${exits} exits`,
        };
      }
      continue;
    }
    if (u32[2] !== EXIT_IO) {
      throw new PvkitError(
        "kvm-exit-loop-failed",
        `unexpected exit reason ${u32[2]} after ${exits} exits (expected port I/O)`,
        "the exit loop's guest only writes ports 0x10 and 0x11",
      );
    }
    if (exits === 0) started = performance.now();
    exits++;
    if (u16[17] === EXIT_BENCH_DONE_PORT) break;
  }
  const elapsedMs = performance.now() - started;
  const timed = exits - 1; // the first exit starts the clock
  return {
    kind: "done",
    exits: timed,
    elapsedMs,
    usPerExit: (elapsedMs * 1000) / timed,
    path: EXIT_LOOP_PATH,
  };
}

// ---------------------------------------------------------------------------------------------
// The C baseline

/**
 * The C program of the baseline: opens `/dev/kvm`, builds a VM like {@linkcode runExitLoop}'s
 * (in-kernel irqchip, 2 MiB at GPA 0, identity-mapped 2 MiB page, 64-bit code segment), loads
 * the same loop at 0x100000 and prints `exits N ns T` for the exits after the first. Usage:
 * `exit_loop COUNT [real]` (`real`: the same loop in real mode at 0x1000, for comparison).
 *
 * @example
 * ```ts
 * import { C_EXIT_LOOP_SOURCE } from "@pvkit/kvm";
 * console.log(C_EXIT_LOOP_SOURCE.includes("KVM_RUN")); // true
 * ```
 */
export const C_EXIT_LOOP_SOURCE =
  `// pvkit exit-loop baseline (generated by @pvkit/kvm exit_bench.ts)
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what) {
  printf("error %s: %s\\n", what, strerror(errno));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) { printf("error usage: exit_loop COUNT [real]\\n"); return 2; }
  long count = atol(argv[1]);
  int real = argc > 2 && strcmp(argv[2], "real") == 0;
  if (count < 1 || count > 0x7fffffffL) { printf("error bad count\\n"); return 2; }
  alarm(120); /* never hang: SIGALRM ends the process */
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return fail("open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) return fail("KVM_CREATE_VM");
  if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) return fail("KVM_CREATE_IRQCHIP");
  size_t size = 2 << 20;
  uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return fail("mmap guest RAM");
  struct kvm_userspace_memory_region region = {
    .slot = 0, .guest_phys_addr = 0, .memory_size = size, .userspace_addr = (uint64_t)mem,
  };
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return fail("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) return fail("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) return fail("mmap kvm_run");
  struct kvm_sregs s;
  if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) return fail("KVM_GET_SREGS");
  struct kvm_regs regs;
  memset(&regs, 0, sizeof regs);
  regs.rflags = 2;
  uint32_t n = (uint32_t)count;
  if (real) {
    /* mov ecx, n; mov dx, 0x10; l: out dx, al; dec ecx; jnz l; mov dx, 0x11; out dx, al; hlt */
    uint8_t code[] = {0x66, 0xb9, n, n >> 8, n >> 16, n >> 24, 0xba, 0x10, 0x00, 0xee,
                      0x66, 0x49, 0x75, 0xfb, 0xba, 0x11, 0x00, 0xee, 0xf4, 0xeb, 0xfe};
    memcpy(mem + 0x1000, code, sizeof code);
    s.cs.base = 0;
    s.cs.selector = 0;
    regs.rip = 0x1000;
  } else {
    uint64_t *pml4 = (uint64_t *)(mem + 0x9000), *pdpt = (uint64_t *)(mem + 0xa000),
             *pd = (uint64_t *)(mem + 0xb000), *gdt = (uint64_t *)(mem + 0x500);
    pml4[0] = 0xa000 | 3;
    pdpt[0] = 0xb000 | 3;
    pd[0] = 0x83; /* 2 MiB page at 0: present, writable, PS */
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffULL; /* 0x08: 64-bit code */
    gdt[2] = 0x00cf93000000ffffULL; /* 0x10: data */
    struct kvm_segment cs = {.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
                             .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
    struct kvm_segment ds = cs;
    ds.selector = 0x10;
    ds.type = 3;
    ds.l = 0;
    ds.db = 1;
    s.cs = cs;
    s.ds = s.es = s.fs = s.gs = s.ss = ds;
    s.gdt.base = 0x500;
    s.gdt.limit = 23;
    s.cr3 = 0x9000;
    s.cr4 = 0x20;                     /* PAE */
    s.cr0 = 0x80000001 | 0x10 | 0x20; /* PG | PE | ET | NE */
    s.efer = 0x500;                   /* LME | LMA */
    /* mov ecx, n; mov dx, 0x10; l: out dx, al; dec ecx; jnz l; mov dx, 0x11; out dx, al; hlt */
    uint8_t code[] = {0xb9, n, n >> 8, n >> 16, n >> 24, 0x66, 0xba, 0x10, 0x00, 0xee,
                      0xff, 0xc9, 0x75, 0xfb, 0x66, 0xba, 0x11, 0x00, 0xee, 0xf4, 0xeb, 0xfe};
    memcpy(mem + 0x100000, code, sizeof code);
    regs.rip = 0x100000;
    regs.rsp = 0x8ff0;
  }
  if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) return fail("KVM_SET_SREGS");
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS");
  long exits = 0;
  struct timespec t0 = {0, 0}, t1;
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return fail("KVM_RUN");
    }
    if (run->exit_reason != KVM_EXIT_IO) {
      printf("error unexpected exit reason %u after %ld exits\\n", run->exit_reason, exits);
      return 1;
    }
    if (exits == 0) clock_gettime(CLOCK_MONOTONIC, &t0);
    exits++;
    if (run->io.port == 0x11) break;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  printf("exits %ld ns %lld\\n", exits - 1, ns);
  return 0;
}
`;

/**
 * What {@linkcode runCExitBaseline} got: the C loop's figure, or why there is none.
 *
 * @example
 * ```ts
 * import type { CBaselineResult } from "@pvkit/kvm";
 * const r: CBaselineResult = { kind: "unavailable", reason: "gcc not found on PATH" };
 * console.log(r.kind);
 * ```
 */
export type CBaselineResult =
  | {
    /** The C program ran. */
    readonly kind: "done";
    /** Exits it timed. */
    readonly exits: number;
    /** Wall time of those exits. */
    readonly elapsedMs: number;
    /** Microseconds per exit. */
    readonly usPerExit: number;
  }
  | {
    /** No figure: gcc is missing, or the program failed. */
    readonly kind: "unavailable";
    /** Why, for people. */
    readonly reason: string;
  };

/**
 * Options of {@linkcode compileCExitLoop} and {@linkcode runCExitBaseline}.
 *
 * @example
 * ```ts
 * import type { CBaselineOptions } from "@pvkit/kvm";
 * const opts: CBaselineOptions = { gcc: "gcc", timeoutMs: 60_000 };
 * console.log(opts.gcc);
 * ```
 */
export interface CBaselineOptions {
  /** The compiler (default `gcc`, looked up on PATH). */
  gcc?: string;
  /** Kill the C program after this long (default 120 000 ms). */
  timeoutMs?: number;
  /** Run the loop in real mode instead of 64-bit mode (default false). */
  realMode?: boolean;
}

/**
 * Writes {@linkcode C_EXIT_LOOP_SOURCE} into a new temporary directory and compiles it with
 * `gcc -O2`. Resolves with the executable's path (the caller removes `dir`), or
 * `{ error }` when gcc is missing or fails. Needs `--allow-write`, `--allow-run`.
 *
 * @example
 * ```ts
 * import { compileCExitLoop } from "@pvkit/kvm";
 * const built = await compileCExitLoop();
 * if ("error" in built) console.log(built.error);
 * else await Deno.remove(built.dir, { recursive: true });
 * ```
 */
export async function compileCExitLoop(
  options: CBaselineOptions = {},
): Promise<{ dir: string; exe: string } | { error: string }> {
  const gcc = options.gcc ?? "gcc";
  const dir = await Deno.makeTempDir({ prefix: "pvkit-exit-loop-" });
  const src = `${dir}/exit_loop.c`;
  const exe = `${dir}/exit_loop`;
  await Deno.writeTextFile(src, C_EXIT_LOOP_SOURCE);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(gcc, { args: ["-O2", "-o", exe, src], stdin: "null" }).output();
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    if (e instanceof Deno.errors.NotFound) return { error: `${gcc} not found on PATH` };
    return { error: `could not run ${gcc}: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!out.success) {
    await Deno.remove(dir, { recursive: true });
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 5).join("\n");
    return { error: `${gcc} -O2 failed: ${text}` };
  }
  return { dir, exe };
}

/**
 * Runs a C exit loop built by {@linkcode compileCExitLoop} for `count` exits and parses its
 * output. Never throws for a failing program: that resolves as `unavailable` with the reason.
 * The program is killed after `timeoutMs` (it also ends itself with `alarm(120)`).
 *
 * @example
 * ```ts
 * import { compileCExitLoop, runCExitLoop } from "@pvkit/kvm";
 * const built = await compileCExitLoop();
 * if (!("error" in built)) {
 *   const c = await runCExitLoop(built.exe, 10_000);
 *   console.log(c.kind === "done" ? c.usPerExit : c.reason);
 *   await Deno.remove(built.dir, { recursive: true });
 * }
 * ```
 */
export async function runCExitLoop(
  exe: string,
  count: number,
  options: CBaselineOptions = {},
): Promise<CBaselineResult> {
  checkCount(count);
  const args = [String(count), ...(options.realMode ? ["real"] : [])];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(exe, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .spawn();
  } catch (e) {
    return {
      kind: "unavailable",
      reason: `could not start the C baseline: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 120_000);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout).trim();
  const m = /^exits (\d+) ns (\d+)$/m.exec(text);
  if (!out.success || !m) {
    const why = text.startsWith("error ")
      ? text.slice(6)
      : out.signal
      ? `killed by ${out.signal}`
      : `exit code ${out.code}`;
    return { kind: "unavailable", reason: `the C baseline failed: ${why}` };
  }
  const exits = Number(m[1]);
  const elapsedMs = Number(m[2]) / 1e6;
  return { kind: "done", exits, elapsedMs, usPerExit: (elapsedMs * 1000) / exits };
}

/**
 * Builds the C baseline ({@linkcode compileCExitLoop}), runs it once for `count` exits
 * ({@linkcode runCExitLoop}) and removes it. Never throws for a missing compiler or a failing
 * program: those resolve as `unavailable` with the reason.
 *
 * @example
 * ```ts
 * import { runCExitBaseline } from "@pvkit/kvm";
 * const c = await runCExitBaseline(10_000);
 * console.log(c.kind === "done" ? c.usPerExit : c.reason);
 * ```
 */
export async function runCExitBaseline(
  count: number,
  options: CBaselineOptions = {},
): Promise<CBaselineResult> {
  checkCount(count);
  const built = await compileCExitLoop(options);
  if ("error" in built) return { kind: "unavailable", reason: built.error };
  try {
    return await runCExitLoop(built.exe, count, options);
  } finally {
    await Deno.remove(built.dir, { recursive: true });
  }
}

/**
 * Options of {@linkcode benchExits}.
 *
 * @example
 * ```ts
 * import type { BenchExitsOptions } from "@pvkit/kvm";
 * const opts: BenchExitsOptions = { count: 100_000, rounds: 3 };
 * console.log(opts.rounds);
 * ```
 */
export interface BenchExitsOptions extends CBaselineOptions {
  /** Port-I/O exits per round. */
  count: number;
  /** Rounds of each loop, interleaved Deno/C; the figures are medians (default 5). */
  rounds?: number;
  /** Watchdog budget of the Deno loop (see {@linkcode ExitLoopOptions.timeoutMs}). */
  timeoutMs?: number;
}

/**
 * The figures of {@linkcode benchExits}.
 *
 * @example
 * ```ts
 * import type { BenchExitsResult } from "@pvkit/kvm";
 * const r: BenchExitsResult = {
 *   exits: 100000, usPerExit: 7.4, baselineUsPerExit: 7.1, ratio: 1.04,
 *   path: "", rounds: 3, samplesUs: [7.4], baselineSamplesUs: [7.1],
 * };
 * console.log(r.ratio);
 * ```
 */
export interface BenchExitsResult {
  /** Exits per round. */
  readonly exits: number;
  /** Median µs per exit of the Deno loop. */
  readonly usPerExit: number;
  /** Median µs per exit of the C loop, or null when there is none. */
  readonly baselineUsPerExit: number | null;
  /**
   * Median of the per-round ratios Deno/C ({@linkcode pairedRatio}: both loops of a round share
   * the host's drift), or null.
   */
  readonly ratio: number | null;
  /** How the Deno loop handles exits ({@linkcode EXIT_LOOP_PATH}). */
  readonly path: string;
  /** Rounds run. */
  readonly rounds: number;
  /** Every Deno round, in µs per exit. */
  readonly samplesUs: readonly number[];
  /** Every C round, in µs per exit (empty without a baseline). */
  readonly baselineSamplesUs: readonly number[];
  /** Why there is no baseline (gcc missing, the program failed). */
  readonly baselineUnavailable?: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The median of the per-round ratios `samples[i] / baseline[i]`: the Deno/C ratio of
 * {@linkcode benchExits}, robust to the host's drift between rounds.
 *
 * @example
 * ```ts
 * import { pairedRatio } from "@pvkit/kvm";
 * console.log(pairedRatio([8, 7, 9], [8, 7, 9])); // 1
 * ```
 */
export function pairedRatio(samples: readonly number[], baseline: readonly number[]): number {
  if (samples.length === 0 || samples.length !== baseline.length) {
    throw new RangeError(`paired rounds differ: ${samples.length} vs ${baseline.length}`);
  }
  return median(samples.map((us, i) => us / baseline[i]));
}

/**
 * Measures port-I/O exit round trips: a warm-up, then `rounds` interleaved runs of
 * {@linkcode runExitLoop} and of the C baseline ({@linkcode runCExitLoop}, built once with
 * gcc), alternating which goes first, reporting medians and the median per-round ratio (this
 * project's hosts are noisy 2-CPU VMs). Without gcc the baseline is null and
 * `baselineUnavailable` says why. Throws {@linkcode PvkitError} when the Deno loop times out or
 * KVM fails.
 *
 * @example
 * ```ts
 * import { benchExits } from "@pvkit/kvm";
 * const r = await benchExits({ count: 20_000, rounds: 1 });
 * console.log(r.usPerExit, r.baselineUsPerExit, r.ratio);
 * ```
 */
export async function benchExits(options: BenchExitsOptions): Promise<BenchExitsResult> {
  const count = options.count;
  checkCount(count);
  const rounds = options.rounds ?? 5;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
    throw new PvkitError("kvm-bad-exit-count", `rounds must be 1 to 100, not ${rounds}`);
  }
  const deno = (n: number): number => {
    const r = runExitLoop({ count: n, timeoutMs: options.timeoutMs });
    if (r.kind === "timeout") {
      throw new PvkitError(
        "kvm-exit-loop-timeout",
        r.message,
        "the exit loop's guest should exit every few µs; is the host overloaded?",
      );
    }
    return r.usPerExit;
  };
  const built = await compileCExitLoop(options);
  let unavailable = "error" in built ? built.error : undefined;
  const samplesUs: number[] = [];
  const baselineSamplesUs: number[] = [];
  const baselineRound = async (): Promise<number | undefined> => {
    if (unavailable !== undefined || "error" in built) return undefined;
    const c = await runCExitLoop(built.exe, count, options);
    if (c.kind === "done") return c.usPerExit;
    unavailable = c.reason;
    return undefined;
  };
  try {
    const warm = Math.min(count, 10_000);
    deno(warm); // JIT warm-up
    if (!("error" in built)) await runCExitLoop(built.exe, warm, options);
    for (let i = 0; i < rounds; i++) {
      // Alternate which loop goes first (ABBA), so a drift inside a round favours neither.
      const cFirst = i % 2 === 1;
      let c: number | undefined;
      if (cFirst) c = await baselineRound();
      samplesUs.push(deno(count));
      if (!cFirst) c = await baselineRound();
      if (c !== undefined) baselineSamplesUs.push(c);
    }
  } finally {
    if (!("error" in built)) await Deno.remove(built.dir, { recursive: true });
  }
  const usPerExit = median(samplesUs);
  const baseline = unavailable === undefined && baselineSamplesUs.length > 0
    ? median(baselineSamplesUs)
    : null;
  // The host's exit cost drifts between rounds by more than the Deno/C difference: the ratio
  // is the median of the per-round ratios, not the ratio of the medians.
  const ratio = baseline === null ? null : pairedRatio(samplesUs, baselineSamplesUs);
  return {
    exits: count,
    usPerExit,
    baselineUsPerExit: baseline,
    ratio,
    path: EXIT_LOOP_PATH,
    rounds,
    samplesUs,
    baselineSamplesUs: unavailable === undefined ? baselineSamplesUs : [],
    ...(unavailable !== undefined ? { baselineUnavailable: unavailable } : {}),
  };
}
