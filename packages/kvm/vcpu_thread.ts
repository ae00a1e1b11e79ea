/**
 * {@linkcode VcpuThread}: one vCPU driven from the thread that owns it, for a VMM whose vCPU
 * Workers run KVM_RUN synchronously and handle exits themselves (as QEMU's and Firecracker's
 * vCPU threads do), without allocating per exit: `kvm_run` is read through typed arrays made
 * once, and the ioctls go through pre-bound FFI symbols with 32-bit integer arguments and
 * buffers allocated once.
 *
 * A Worker receives the vCPU and VM fd numbers (fds are process-wide) and maps `kvm_run`
 * itself; the main thread keeps its own {@linkcode KvmVcpu} for set-up and for kicks
 * (`immediateExit` + a signal, see {@linkcode VcpuRunner}).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { Errno } from "./errno.ts";
import { KVM_IOCTL } from "./ioctl_numbers.ts";
import {
  fast,
  fastErrno,
  type FastLibc,
  HostMapping,
  libcGetpid,
  libcGettid,
  libcTgkill,
} from "./libc.ts";
import { installKickHandler } from "./runner.ts";
import type { KvmVcpu } from "./vcpu.ts";

// struct kvm_run (include/uapi/linux/kvm.h): exit_reason u32 @8, the exit union @32.
const RUN_EXIT_REASON = 8;
/** Byte offset of the exit union in `kvm_run`. */
export const KVM_RUN_EXIT_UNION = 32;
const RUN_IMMEDIATE_EXIT = 1;

/**
 * One vCPU's `kvm_run` mapping and its hot ioctls, for the thread that runs it.
 *
 * @example
 * ```ts
 * import { KvmSystem, VcpuThread } from "@pvkit/kvm";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const vcpu = vm.kvmCreateVcpu(0);
 * using thread = VcpuThread.attach(vcpu.fd, vm.fd, vcpu.runSize);
 * thread.immediateExit = true; // KVM_RUN returns at once with EINTR
 * console.log(thread.run(), -thread.lastErrno); // -1 -4
 * ```
 */
export class VcpuThread implements Disposable {
  /** The vCPU fd. */
  readonly vcpuFd: number;
  /** The VM fd (for KVM_IRQ_LINE). */
  readonly vmFd: number;
  /** `kvm_run` as bytes (valid until {@linkcode VcpuThread.close}). */
  readonly bytes: Uint8Array;
  /** `kvm_run` as little-endian fields. */
  readonly view: DataView;
  /** errno of the last failed call on this thread (0 after a success). */
  lastErrno = 0;
  readonly #mapping: HostMapping;
  readonly #lib: FastLibc;
  readonly #msrs = new Uint8Array(8 + 16); // struct kvm_msrs with one kvm_msr_entry
  readonly #msrsView = new DataView(this.#msrs.buffer);
  readonly #irq = new Uint8Array(8); // struct kvm_irq_level
  readonly #irqView = new DataView(this.#irq.buffer);

  private constructor(vcpuFd: number, vmFd: number, mapping: HostMapping) {
    this.vcpuFd = vcpuFd;
    this.vmFd = vmFd;
    this.#mapping = mapping;
    this.bytes = new Uint8Array(mapping.buffer);
    this.view = new DataView(mapping.buffer);
    this.#lib = fast();
    this.#msrsView.setUint32(0, 1, true); // nmsrs
  }

  /**
   * Maps the `kvm_run` of vCPU fd `vcpuFd` (`mmapSize` from KVM_GET_VCPU_MMAP_SIZE, i.e.
   * {@linkcode KvmVcpu.runSize}). Throws {@linkcode KvmError} if the mapping fails.
   */
  static attach(vcpuFd: number, vmFd: number, mmapSize: number): VcpuThread {
    if (!Number.isInteger(vcpuFd) || vcpuFd < 0 || !Number.isInteger(vmFd) || vmFd < 0) {
      throw new PvkitError("kvm-bad-argument", `bad fd numbers: vCPU ${vcpuFd}, VM ${vmFd}`);
    }
    return new VcpuThread(
      vcpuFd,
      vmFd,
      HostMapping.shared(vcpuFd, mmapSize, 0, `kvm_run of vCPU fd ${vcpuFd}`),
    );
  }

  /** The calling thread's OS thread id (the target of a kick). */
  static currentTid(): number {
    return libcGettid();
  }

  /** `kvm_run.exit_reason` of the last KVM_RUN. */
  get exitReason(): number {
    return this.view.getUint32(RUN_EXIT_REASON, true);
  }

  /** `kvm_run.immediate_exit`. */
  get immediateExit(): boolean {
    return this.bytes[RUN_IMMEDIATE_EXIT] !== 0;
  }
  set immediateExit(value: boolean) {
    this.bytes[RUN_IMMEDIATE_EXIT] = value ? 1 : 0;
  }

  /**
   * One KVM_RUN: 0 when the guest exited (read {@linkcode VcpuThread.exitReason}), -1 on
   * error ({@linkcode VcpuThread.lastErrno}: EINTR after a kick, EAGAIN).
   */
  run(): number {
    const r = this.#lib.ioctl(this.vcpuFd, KVM_IOCTL.KVM_RUN, 0);
    this.lastErrno = r < 0 ? fastErrno(this.#lib) : 0;
    return r < 0 ? -1 : 0;
  }

  /**
   * KVM_SET_MSRS of one MSR on this vCPU, as the host (KVM applies its usual checks, except the
   * MSR filter, which only filters the guest): true when KVM took the value.
   */
  setMsr(index: number, value: bigint): boolean {
    const v = this.#msrsView;
    v.setUint32(8, index, true);
    v.setUint32(12, 0, true);
    v.setBigUint64(16, value, true);
    const r = this.#lib.ioctlBuffer(this.vcpuFd, KVM_IOCTL.KVM_SET_MSRS, this.#msrs);
    this.lastErrno = r < 0 ? fastErrno(this.#lib) : 0;
    return r === 1;
  }

  /** KVM_IRQ_LINE on the VM: GSI `irq` to `level`. False (and lastErrno) on failure. */
  irqLine(irq: number, level: number): boolean {
    const v = this.#irqView;
    v.setUint32(0, irq, true);
    v.setUint32(4, level, true);
    const r = this.#lib.ioctlBuffer(this.vmFd, KVM_IOCTL.KVM_IRQ_LINE, this.#irq);
    this.lastErrno = r < 0 ? fastErrno(this.#lib) : 0;
    return r === 0;
  }

  /** True when the last failure was a kick (EINTR) or a retry request (EAGAIN). */
  get interrupted(): boolean {
    return this.lastErrno === Errno.EINTR || this.lastErrno === Errno.EAGAIN;
  }

  /** Unmaps `kvm_run` (the fds stay open: they belong to the main thread). Idempotent. */
  close(): void {
    this.#mapping.unmap();
  }

  /** Same as {@linkcode VcpuThread.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Kicks the thread `tid` that runs `vcpu` out of KVM_RUN: sets `immediate_exit` (so a kick
 * that lands just before KVM_RUN is not lost) and sends {@linkcode VCPU_KICK_SIGNAL} with
 * `tgkill`; KVM_RUN then returns EINTR. Installs the no-op signal handler first
 * ({@linkcode installKickHandler}); call this from the main thread.
 *
 * @example
 * ```ts
 * import { KvmSystem, kickVcpuThread, VcpuThread } from "@pvkit/kvm";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const vcpu = vm.kvmCreateVcpu(0);
 * kickVcpuThread(vcpu, VcpuThread.currentTid()); // this thread: only the handler runs
 * console.log(vcpu.immediateExit); // true
 * ```
 */
export function kickVcpuThread(vcpu: KvmVcpu, tid: number): void {
  installKickHandler();
  if (vcpu.closed) return;
  vcpu.immediateExit = true;
  if (tid > 0) libcTgkill(libcGetpid(), tid, SIGUSR2);
}

const SIGUSR2 = 12; // VCPU_KICK_SIGNAL
