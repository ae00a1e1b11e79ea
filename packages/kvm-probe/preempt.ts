/**
 * The host side of a `preempt` step: a busy thread pinned to the vCPU thread's CPU keeps the
 * runnable vCPU off it until the thread's `run_delay` (schedstat) has grown by the asked time,
 * which KVM then reports to the guest as steal time (the steal_time selftest's method).
 *
 * @module
 */

import { libc as lib } from "./_libc.ts";

const WORKER_URL = new URL("./_preempt_worker.ts", import.meta.url);

/**
 * What {@linkcode preemptThread} achieved.
 *
 * @example
 * ```ts
 * import type { PreemptResult } from "@pvkit/kvm-probe";
 * const r: PreemptResult = { ok: true, runDelayNs: 2_600_000, detail: "pinned to CPU 1" };
 * console.log(r.ok);
 * ```
 */
export interface PreemptResult {
  /** True when run_delay grew by at least the asked time. */
  readonly ok: boolean;
  /** How much the thread's run_delay grew, in ns. */
  readonly runDelayNs: number;
  /** What happened, for notes. */
  readonly detail: string;
}

/**
 * A thread's run_delay (time spent runnable but waiting for a CPU), in ns, from
 * `/proc/self/task/<tid>/schedstat`.
 *
 * @example
 * ```ts
 * import { readRunDelayNs } from "@pvkit/kvm-probe";
 * console.log(readRunDelayNs(Deno.pid) >= 0); // true (the main thread's tid is the pid)
 * ```
 */
export function readRunDelayNs(tid: number): number {
  const text = Deno.readTextFileSync(`/proc/self/task/${tid}/schedstat`);
  return Number(text.trim().split(/\s+/)[1]);
}

function lastCpu(tid: number): number {
  const stat = Deno.readTextFileSync(`/proc/self/task/${tid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[36]); // field 39 (processor), counted from field 3
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps thread `tid` (a vCPU thread that keeps running guest code) off its CPU until its
 * run_delay grew by `ns`, or `maxMs` passed (default max(200, ns/20 000) ms): pins it and a
 * busy Worker to the CPU it last ran on, then restores its affinity.
 *
 * @example
 * ```ts
 * import { preemptThread } from "@pvkit/kvm-probe";
 * console.log(typeof preemptThread); // "function"
 * ```
 */
export async function preemptThread(
  tid: number,
  ns: number,
  maxMs: number = Math.max(200, ns / 20_000),
): Promise<PreemptResult> {
  const libc = lib();
  const original = new Uint8Array(128);
  if (libc.sched_getaffinity(tid, 128n, original) !== 0) {
    return { ok: false, runDelayNs: 0, detail: `sched_getaffinity(${tid}) failed` };
  }
  const cpu = lastCpu(tid);
  const one = new Uint8Array(128);
  one[cpu >> 3] |= 1 << (cpu & 7);
  const start = readRunDelayNs(tid);
  const control = new SharedArrayBuffer(8);
  const ctrl = new Int32Array(control);
  const worker = new Worker(WORKER_URL, { type: "module" });
  const finished = new Promise<void>((resolve) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e) => {
      e.preventDefault();
      resolve();
    };
  });
  worker.postMessage({ cpu, control, maxMs: maxMs + 100 });
  let grown = 0;
  try {
    if (libc.sched_setaffinity(tid, 128n, one) !== 0) {
      return { ok: false, runDelayNs: 0, detail: `sched_setaffinity(${tid}) failed` };
    }
    const deadline = performance.now() + maxMs;
    while (performance.now() < deadline) {
      grown = readRunDelayNs(tid) - start;
      if (grown >= ns) break;
      await sleep(1);
    }
  } finally {
    Atomics.store(ctrl, 0, 1);
    libc.sched_setaffinity(tid, 128n, original);
    await Promise.race([finished, sleep(2000)]);
    worker.terminate();
  }
  const pinned = Atomics.load(ctrl, 1) !== 2;
  return {
    ok: grown >= ns,
    runDelayNs: grown,
    detail: `run_delay grew by ${grown} ns of ${ns} on CPU ${cpu}` +
      (pinned ? "" : " (the busy thread could not pin itself)"),
  };
}
