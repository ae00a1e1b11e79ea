// What the main thread posts to a vCPU Worker (vcpu_worker.ts) and what it posts back. Not
// re-exported by mod.ts.

import type { BootSharedBuffers } from "./boot_shared.ts";
import type { LegacyDeviceBuffers } from "./legacy_devices.ts";

/** The one message the main thread posts to a new vCPU Worker. */
export interface VcpuWorkerInit {
  /** The vCPU's index. */
  readonly index: number;
  /** The vCPU fd (fds are process-wide). */
  readonly vcpuFd: number;
  /** The VM fd (KVM_IRQ_LINE). */
  readonly vmFd: number;
  /** KVM_GET_VCPU_MMAP_SIZE. */
  readonly mmapSize: number;
  /** The VM's shared control and counters. */
  readonly shared: BootSharedBuffers;
  /** The legacy devices' shared state. */
  readonly devices: LegacyDeviceBuffers;
}

/** What a vCPU Worker posts back. */
export type VcpuWorkerMessage = { type: "ready" } | { type: "error"; message: string };
