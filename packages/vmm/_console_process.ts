// A child process whose stdout is a guest's console (QEMU with `-serial stdio`, or `pvkit boot`):
// spawned, its console followed and timed to pvkit's /init line, ended by its own exit, by a
// time limit, by console silence (a hang), by an abort, or (for benchmarks) as soon as /init
// printed its first line. A process the host ends is killed and awaited: none is left behind.
// Shared by qemu_reference_boot.ts and boot_bench.ts; not exported from mod.ts.

import { BOOT_MARK } from "./boot_init.ts";

/** Why the host ended the process (absent: it ended on its own). */
export type ConsoleProcessKill = "timeout" | "hang" | "interrupted" | "init";

/** How to run a console process. */
export interface ConsoleProcessOptions {
  /** Kill it after this long. */
  readonly timeoutMs: number;
  /** Kill it when its stdout has been silent this long (default: no limit). */
  readonly idleTimeoutMs?: number;
  /** Gets stdout as it comes. */
  readonly console?: (bytes: Uint8Array) => void;
  /** Kills it when aborted. */
  readonly signal?: AbortSignal;
  /** Kill it as soon as pvkit's /init printed its first line (a boot-time benchmark). */
  readonly stopAtInit?: boolean;
}

/** How a console process ended. */
export interface ConsoleProcessResult {
  /** Its exit status. */
  readonly status: Deno.CommandStatus;
  /** Why the host killed it, if it did. */
  readonly killedFor?: ConsoleProcessKill;
  /** Its whole stdout. */
  readonly console: string;
  /** Its whole stderr. */
  readonly stderr: string;
  /** ms from the spawn to the `pvkit-boot: init` line, if it came. */
  readonly toInitMs?: number;
  /** ms from the spawn to its end. */
  readonly runMs: number;
}

/** The console line pvkit's /init prints first (`pvkit-boot: init <uptime>`, boot_init.ts). */
export const INIT_LINE_MARK = `${BOOT_MARK} init `;
const IDLE_POLL_MS = 100;

/** Runs `program args...` and follows its console; see the module comment. */
export async function runConsoleProcess(
  program: string,
  args: readonly string[],
  options: ConsoleProcessOptions,
): Promise<ConsoleProcessResult> {
  const started = performance.now();
  const child = new Deno.Command(program, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killedFor: ConsoleProcessKill | undefined;
  const kill = (why: ConsoleProcessKill) => {
    killedFor ??= why;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  let lastOutput = performance.now();
  let text = "";
  let toInitMs: number | undefined;
  const stderr = new Response(child.stderr).text();
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const bytes of child.stdout) {
      lastOutput = performance.now();
      options.console?.(bytes);
      const from = Math.max(0, text.length - INIT_LINE_MARK.length);
      text += decoder.decode(bytes, { stream: true });
      if (toInitMs === undefined && text.indexOf(INIT_LINE_MARK, from) >= 0) {
        toInitMs = performance.now() - started;
        if (options.stopAtInit) kill("init");
      }
    }
    text += decoder.decode();
  })();
  const timer = setTimeout(() => kill("timeout"), options.timeoutMs);
  const idleMs = options.idleTimeoutMs;
  const idle = idleMs === undefined ? undefined : setInterval(() => {
    if (performance.now() - lastOutput >= idleMs) kill("hang");
  }, IDLE_POLL_MS);
  const onAbort = () => kill("interrupted");
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort);
  let status: Deno.CommandStatus;
  try {
    status = await child.status;
    await reading;
  } finally {
    clearTimeout(timer);
    if (idle !== undefined) clearInterval(idle);
    options.signal?.removeEventListener("abort", onAbort);
  }
  return {
    status,
    ...(killedFor !== undefined ? { killedFor } : {}),
    console: text,
    stderr: await stderr,
    ...(toInitMs !== undefined ? { toInitMs } : {}),
    runMs: performance.now() - started,
  };
}
