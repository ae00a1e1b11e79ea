// A vCPU thread of a booting VM: a Worker that maps its vCPU's kvm_run, attaches the shared
// device state, and runs the exit loop (vcpu_exit_loop.ts) until the VM stops. The main thread
// keeps the fds, sets the vCPU up before this starts, and kicks this thread to stop it.
//
// Protocol: the main thread posts one VcpuWorkerInit; this thread records its thread id and
// sets its state to `running` (BootShared), waits for the start word, runs, and sets `exited`
// when the loop returns. An error is posted as { type: "error" } and stops the VM.

import { VcpuThread } from "@pvkit/kvm";
import { BootShared, STOP_REASON, VCPU_STATE } from "./boot_shared.ts";
import { attachLegacyDevices } from "./legacy_devices.ts";
import type { VcpuWorkerInit, VcpuWorkerMessage } from "./_vcpu_worker_protocol.ts";
import { runExitLoop } from "./vcpu_exit_loop.ts";

interface WorkerScope {
  onmessage: ((e: MessageEvent<VcpuWorkerInit>) => void) | null;
  postMessage(message: VcpuWorkerMessage): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e: MessageEvent<VcpuWorkerInit>) => {
  scope.onmessage = null;
  const init = e.data;
  const shared = BootShared.attach(init.shared);
  let thread: VcpuThread | undefined;
  try {
    thread = VcpuThread.attach(init.vcpuFd, init.vmFd, init.mmapSize);
    const irqThread = thread;
    const ports = attachLegacyDevices(init.devices, {
      setIrq: (irq, level) => {
        irqThread.irqLine(irq, level);
      },
      requestReset: () => {
        shared.requestStop(STOP_REASON.reset, init.index);
      },
    });
    shared.setTid(init.index, VcpuThread.currentTid());
    shared.setVcpuState(init.index, VCPU_STATE.running);
    scope.postMessage({ type: "ready" });
    if (shared.awaitStart()) runExitLoop(thread, init.index, shared, ports);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    shared.requestStop(STOP_REASON.fatalExit, init.index, -1);
    scope.postMessage({ type: "error", message });
  } finally {
    thread?.close();
    shared.setVcpuState(init.index, VCPU_STATE.exited);
    scope.close();
  }
};
