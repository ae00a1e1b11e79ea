// The vCPU thread: a Worker that issues KVM_RUN synchronously on its own OS thread, so a guest
// that never exits blocks only this thread, and a signal sent to it (tgkill, from the main
// thread's watchdog) interrupts KVM_RUN with EINTR.
//
// The worker opens nothing and maps nothing: it gets the vCPU fd number (fds are process-wide)
// and a SharedArrayBuffer of control words. The main thread reads and answers the exit in its
// own view of the kvm_run mapping (the same memory), so no view of guest or kvm_run memory
// exists in this thread, and closing the VM while this thread is stuck cannot make it touch
// unmapped memory. See _run_protocol.ts for the states.

import { KVM_IOCTL } from "./ioctl_numbers.ts";
import { libcGettid, libcIoctl, libcSchedYield } from "./libc.ts";
import {
  DONE,
  EXITED,
  QUIT,
  RESULT,
  RUN,
  type RunWorkerInit,
  type RunWorkerMessage,
  STATE,
  TID,
} from "./_run_protocol.ts";

interface WorkerScope {
  onmessage: ((e: MessageEvent<RunWorkerInit>) => void) | null;
  postMessage(message: RunWorkerMessage): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;

function runLoop(fd: number, ctrl: Int32Array, spinMs: number): void {
  const request = KVM_IOCTL.KVM_RUN;
  for (;;) {
    let state = Atomics.load(ctrl, STATE);
    if (spinMs > 0 && state !== RUN && state !== QUIT) {
      // Poll briefly before sleeping: waking a sleeping thread costs more than a whole exit
      // round trip on a nested host. sched_yield hands the CPU over when another thread (the
      // main thread, on a loaded host) needs it; without it, polling made loaded hosts slower.
      const until = performance.now() + spinMs;
      do {
        libcSchedYield();
        state = Atomics.load(ctrl, STATE);
      } while (state !== RUN && state !== QUIT && performance.now() < until);
    }
    if (state === QUIT) return;
    if (state === RUN) {
      const result = libcIoctl(fd, request, 0);
      Atomics.store(ctrl, RESULT, result);
      // QUIT may have been written while KVM_RUN ran: then stop without another ioctl.
      if (Atomics.compareExchange(ctrl, STATE, RUN, DONE) !== RUN) return;
      Atomics.notify(ctrl, STATE);
      continue;
    }
    Atomics.wait(ctrl, STATE, state);
  }
}

scope.onmessage = (e: MessageEvent<RunWorkerInit>) => {
  scope.onmessage = null;
  const { fd, control, spinMs } = e.data;
  const ctrl = new Int32Array(control);
  try {
    const tid = libcGettid();
    if (tid <= 0) throw new Error(`gettid() failed: ${tid}`);
    Atomics.store(ctrl, TID, tid);
    scope.postMessage({ type: "ready", tid });
    runLoop(fd, ctrl, spinMs);
  } catch (err) {
    scope.postMessage({ type: "error", message: err instanceof Error ? err.message : String(err) });
  } finally {
    Atomics.store(ctrl, STATE, EXITED);
    Atomics.notify(ctrl, STATE);
    scope.close();
  }
};
