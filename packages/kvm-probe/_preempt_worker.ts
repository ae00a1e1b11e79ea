// The busy host thread of a `preempt` step (internal): pins itself to one CPU and spins until
// the main thread sets the stop word, or its own deadline passes.

interface PreemptWorkerInit {
  readonly cpu: number;
  readonly control: SharedArrayBuffer;
  readonly maxMs: number;
}

interface WorkerScope {
  onmessage: ((e: MessageEvent<PreemptWorkerInit>) => void) | null;
  postMessage(message: string): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e: MessageEvent<PreemptWorkerInit>) => {
  const { cpu, control, maxMs } = e.data;
  const ctrl = new Int32Array(control);
  let pinned = false;
  try {
    const lib = Deno.dlopen(
      "libc.so.6",
      {
        sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
      } as const,
    );
    const mask = new Uint8Array(128);
    mask[cpu >> 3] |= 1 << (cpu & 7);
    pinned = lib.symbols.sched_setaffinity(0, BigInt(mask.length), mask) === 0;
    lib.close();
  } catch {
    pinned = false;
  }
  Atomics.store(ctrl, 1, pinned ? 1 : 2); // started
  Atomics.notify(ctrl, 1);
  const until = performance.now() + maxMs;
  let x = 0;
  while (Atomics.load(ctrl, 0) === 0 && performance.now() < until) x = (x + 1) | 0;
  Atomics.store(ctrl, 1, 3); // finished
  scope.postMessage(x === -1 ? "x" : "done");
  scope.close();
};
