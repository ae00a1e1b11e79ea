// The shared-memory protocol between VcpuRunner (main thread) and run_worker.ts (one Worker per
// vCPU). An Int32Array over a SharedArrayBuffer; the main thread writes RUN or QUIT, the worker
// answers with DONE (and the KVM_RUN result) or EXITED. Not re-exported by mod.ts.

/** Index of the state word. */
export const STATE = 0;
/** Index of KVM_RUN's result: 0, or -errno. */
export const RESULT = 1;
/** Index of the worker's OS thread id (gettid). */
export const TID = 2;
/** Number of Int32 slots. */
export const SLOTS = 4;

/** No command yet. */
export const IDLE = 0;
/** Main → worker: issue one KVM_RUN. */
export const RUN = 1;
/** Worker → main: KVM_RUN returned; RESULT holds its result. */
export const DONE = 2;
/** Main → worker: leave the loop (issue no further ioctl on the fd). */
export const QUIT = 3;
/** Worker → main: the loop has ended; the worker touches nothing any more. */
export const EXITED = 4;

/** The one message the main thread posts to a new run worker. */
export interface RunWorkerInit {
  /** The vCPU fd (fds are process-wide, so the worker can ioctl it). */
  fd: number;
  /** The control words (SLOTS Int32s). */
  control: SharedArrayBuffer;
  /** How long to poll for the next command before sleeping in Atomics.wait, in ms. */
  spinMs: number;
}

/** What a run worker posts back. */
export type RunWorkerMessage =
  | { type: "ready"; tid: number }
  | { type: "error"; message: string };
