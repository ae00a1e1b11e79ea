/**
 * `runNested`: runs a command inside a QEMU TCG guest whose Linux offers a real KVM (kvm_amd on
 * TCG's emulated AMD SVM), with the working folder shared read-write, and returns the command's
 * exit status and output. Provisioning (QEMU, a static busybox, a Debian kernel package) happens
 * on first use and is cached.
 *
 * @module
 */

import { readTextIfPresent } from "./_fs.ts";
import { join } from "./_path.ts";
import { nestedCacheDir } from "./cache_dir.ts";
import { NestedError } from "./errors.ts";
import { INIT_MARK } from "./guest_init.ts";
import { provisionInitramfs } from "./initramfs.ts";
import { JOB_FILES, jobScript } from "./job_script.ts";
import { provisionKernel } from "./kernel_package.ts";
import { type ProgressSink, provisionHostTools } from "./provision.ts";
import { nestedQemuArgs } from "./qemu_command.ts";
import { denoCacheDir, nestedShares, projectRoot } from "./shares.ts";
import { FileTail } from "./file_tail.ts";
import { guestFailure } from "./guest_failure.ts";
import { guestEnvironment } from "./guest_env.ts";

/** Options of {@linkcode runNested}. */
export interface NestedOptions {
  /** The command and its arguments, looked up on the guest's PATH. */
  command: readonly string[];
  /**
   * vCPUs of the TCG guest (default 1: with two, QEMU 7.2's multi-threaded TCG has left both
   * guest CPUs in soft lockups under KVM VM create/destroy churn; one vCPU never did).
   */
  smp?: number;
  /** Guest RAM in MiB (default 4096). */
  memoryMiB?: number;
  /** Kill the guest after this many ms (default 900 000). */
  timeoutMs?: number;
  /**
   * Kill the guest when neither the command nor the guest console printed anything for this many
   * ms (a hung guest; default: no such limit).
   */
  idleTimeoutMs?: number;
  /** The folder the command starts in (default: the current folder). */
  cwd?: string;
  /** The folder shared read-write (default: the project folder holding `cwd`). */
  workdir?: string;
  /** Variables added to the command's environment. */
  env?: Readonly<Record<string, string>>;
  /** The Debian kernel package (default: the cached one, else `linux-image-amd64`'s). */
  kernelPackage?: string;
  /** Told about slow steps (provisioning, boot). */
  progress?: ProgressSink;
  /** Receives the command's stdout as it comes; without it, stdout is returned. */
  stdout?: (chunk: Uint8Array) => void;
  /** Receives the command's stderr as it comes; without it, stderr is returned. */
  stderr?: (chunk: Uint8Array) => void;
  /** Receives the guest console (kernel and init messages), line by line. */
  console?: (line: string) => void;
  /** Aborting kills the guest; the promise then rejects. */
  signal?: AbortSignal;
}

/** What {@linkcode runNested} returns once the command ended and the guest powered off. */
export interface NestedResult {
  /** The command's exit status. */
  status: number;
  /** The command's stdout (empty when `options.stdout` received it). */
  stdout: Uint8Array;
  /** The command's stderr (empty when `options.stderr` received it). */
  stderr: Uint8Array;
  /** The kernel release the guest ran, e.g. `6.1.0-57-amd64`. */
  kernel: string;
  /** ms from starting QEMU to the command starting. */
  bootMs: number;
  /** ms from starting QEMU to its end. */
  totalMs: number;
}

const DEFAULT_TIMEOUT_MS = 900_000;
const DEFAULT_MEMORY_MIB = 4096;
const DEFAULT_SMP = 1;
const POLL_MS = 25;
const CONSOLE_TAIL_LINES = 30;

/**
 * Runs `options.command` in a nested KVM guest. Resolves with its status (whatever it is);
 * rejects with a {@linkcode NestedError} when the guest cannot run it: QEMU or the kernel
 * package cannot be provisioned, a module fails to load (with its dmesg lines), the command is not
 * found, the guest stops early, or the time limit passes (the guest is killed first).
 *
 * @example
 * ```ts ignore
 * import { runNested } from "@pvkit/nested";
 * const r = await runNested({ command: ["deno", "task", "pvkit", "doctor"], timeoutMs: 120_000 });
 * console.log(r.status, new TextDecoder().decode(r.stdout));
 * ```
 */
export async function runNested(options: NestedOptions): Promise<NestedResult> {
  if (options.command.length === 0) {
    throw new NestedError(
      "bad-option",
      "no command to run in the nested guest",
      "pass it after `--`",
    );
  }
  const progress = options.progress ?? (() => {});
  const cacheDir = nestedCacheDir();
  const tools = await provisionHostTools(progress);
  const kernel = await provisionKernel(cacheDir, progress, options.kernelPackage);
  const initramfs = await provisionInitramfs(cacheDir, kernel, tools.busybox);
  const cwd = options.cwd ?? Deno.cwd();
  const workdir = options.workdir ?? projectRoot(cwd);
  const shares = nestedShares(workdir, Deno.execPath(), denoCacheDir());
  const runDir = Deno.makeTempDirSync({ prefix: "pvkit-nested-" });
  try {
    Deno.writeTextFileSync(
      join(runDir, "job.sh"),
      jobScript({
        shares,
        env: guestEnvironment(options.env ?? {}),
        cwd,
        command: options.command,
      }),
    );
    for (const f of Object.values(JOB_FILES)) Deno.writeFileSync(join(runDir, f), new Uint8Array());
    const smp = options.smp ?? DEFAULT_SMP;
    const memoryMiB = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
    progress(
      `booting a QEMU TCG guest with KVM (kernel ${kernel.release}, ${smp} vCPUs, ${memoryMiB} MiB)`,
    );
    return await runGuest(
      tools.qemu,
      nestedQemuArgs({ kernel: kernel.vmlinuz, initramfs, runDir, shares, smp, memoryMiB }),
      runDir,
      kernel.release,
      options,
    );
  } finally {
    Deno.removeSync(runDir, { recursive: true });
  }
}

async function runGuest(
  qemu: string,
  args: string[],
  runDir: string,
  kernel: string,
  options: NestedOptions,
): Promise<NestedResult> {
  const started = performance.now();
  const child = new Deno.Command(qemu, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  let killedFor: "timeout" | "idle" | "abort" | undefined;
  const kill = (why: "timeout" | "idle" | "abort") => {
    killedFor ??= why;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = setTimeout(() => kill("timeout"), timeoutMs);
  const onAbort = () => kill("abort");
  options.signal?.addEventListener("abort", onAbort);
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) Deno.addSignalListener(s, onAbort);

  const consoleLines: string[] = [];
  const marks: string[] = [];
  let bootMs = 0;
  let lastOutput = performance.now();
  const consoleDone = readLines(child.stdout, (line) => {
    lastOutput = performance.now();
    if (line.startsWith(INIT_MARK)) {
      const mark = line.slice(INIT_MARK.length).trim();
      marks.push(mark);
      if (mark === "job-start") bootMs = performance.now() - started;
    }
    consoleLines.push(line);
    if (consoleLines.length > CONSOLE_TAIL_LINES) consoleLines.shift();
    options.console?.(line);
  });
  const qemuErr = new Response(child.stderr).text();

  const out = new FileTail(join(runDir, JOB_FILES.stdout), options.stdout);
  const err = new FileTail(join(runDir, JOB_FILES.stderr), options.stderr);
  const idleMs = options.idleTimeoutMs;
  const poll = setInterval(() => {
    if (out.poll() + err.poll() > 0) lastOutput = performance.now();
    if (idleMs !== undefined && performance.now() - lastOutput > idleMs) kill("idle");
  }, POLL_MS);
  let status: Deno.CommandStatus;
  try {
    status = await child.status;
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    options.signal?.removeEventListener("abort", onAbort);
    for (const s of signals) Deno.removeSignalListener(s, onAbort);
  }
  await consoleDone;
  const qemuStderr = (await qemuErr).trim();
  out.poll();
  err.poll();
  const totalMs = performance.now() - started;

  if (killedFor === "timeout") {
    throw new NestedError(
      "timeout",
      `the nested job ran longer than ${timeoutMs / 1000} s; the guest was killed`,
      "raise --timeout",
    );
  }
  if (killedFor === "idle") {
    throw new NestedError(
      "timeout",
      `the nested job printed nothing for ${idleMs! / 1000} s (a hung guest?); the guest was ` +
        `killed. The console's last lines:\n  ${consoleLines.slice(-8).join("\n  ")}`,
      "run again with --console to follow the guest kernel's messages",
    );
  }
  if (killedFor === "abort") {
    throw new NestedError("guest-failed", "interrupted; the guest was killed");
  }
  const statusText = readTextIfPresent(join(runDir, JOB_FILES.status)) ?? "";
  if (statusText !== "") {
    return {
      status: Number(statusText),
      stdout: out.collected(),
      stderr: err.collected(),
      kernel,
      bootMs,
      totalMs,
    };
  }
  throw guestFailure(marks, consoleLines, qemuStderr, status.code);
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) onLine(p.replace(/\r$/, ""));
  }
  if (rest) onLine(rest);
}
