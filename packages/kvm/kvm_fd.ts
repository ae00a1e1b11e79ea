/**
 * The base of every KVM file descriptor wrapper (system, VM, vCPU): ownership, idempotent
 * close, and one typed ioctl helper per argument kind.
 *
 * @module
 */

import { Errno } from "./errno.ts";
import { KvmError } from "./errors.ts";
import { KVM_IOCTL, type KvmIoctlName } from "./ioctl_numbers.ts";
import { libcClose, libcIoctl, libcIoctlBuffer } from "./libc.ts";

/**
 * An owned KVM file descriptor. Subclasses add one method per ioctl, named after it, built on
 * the protected helpers here; {@linkcode close} is idempotent, and `using` closes it too.
 *
 * @example
 * ```ts
 * import { KvmSystem } from "@pvkit/kvm";
 * using kvm = KvmSystem.open(); // a KvmFd
 * console.log(kvm.label, kvm.closed); // "/dev/kvm" false
 * ```
 */
export abstract class KvmFd implements Disposable {
  /** What the fd is, for messages: `/dev/kvm`, `VM`, `vCPU 0`. */
  readonly label: string;
  #fd: number;

  /** Takes ownership of `fd`; it is closed by {@linkcode close}. */
  protected constructor(fd: number, label: string) {
    this.#fd = fd;
    this.label = label;
  }

  /** The fd number, or -1 once closed. Do not close it behind this object's back. */
  get fd(): number {
    return this.#fd;
  }

  /** True once {@linkcode close} has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Closes the fd. Calling it again does nothing, so the number (which the kernel may hand out
   * again) is never closed twice. Throws {@linkcode KvmError} if `close(2)` reports an error
   * other than EINTR; the fd is released either way.
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    const r = libcClose(fd);
    if (r < 0 && r !== -Errno.EINTR) throw new KvmError(`close(${this.label})`, -r);
  }

  /** Same as {@linkcode close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The open fd; throws {@linkcode KvmError} (EBADF) after {@linkcode close}. */
  protected liveFd(operation: string): number {
    if (this.#fd < 0) {
      throw new KvmError(operation, Errno.EBADF, `${this.label} was closed; open a new one`);
    }
    return this.#fd;
  }

  /** Issues ioctl `name` with an integer argument (0 if none); throws {@linkcode KvmError}. */
  protected ioctlValue(name: KvmIoctlName, arg: number | bigint = 0): number {
    const r = this.tryIoctlValue(name, arg);
    if (r < 0) throw new KvmError(name, -r);
    return r;
  }

  /** Issues ioctl `name` on the struct in `buf` (read and written in place); throws. */
  protected ioctlBuffer(name: KvmIoctlName, buf: BufferSource): number {
    const r = this.tryIoctlBuffer(name, buf);
    if (r < 0) throw new KvmError(name, -r);
    return r;
  }

  /** Like {@linkcode ioctlValue} but returns `-errno` instead of throwing (hot paths). */
  protected tryIoctlValue(name: KvmIoctlName, arg: number | bigint = 0): number {
    return libcIoctl(this.liveFd(name), KVM_IOCTL[name], arg);
  }

  /** Like {@linkcode ioctlBuffer} but returns `-errno` instead of throwing (E2BIG retries). */
  protected tryIoctlBuffer(name: KvmIoctlName, buf: BufferSource): number {
    return libcIoctlBuffer(this.liveFd(name), KVM_IOCTL[name], buf);
  }
}
