/**
 * The error a failing KVM or libc call raises.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { Errno, errnoDescription, errnoName } from "./errno.ts";

// What usually fixes each errno when a KVM ioctl fails; callers pass a sharper hint when they
// know more (e.g. `open(/dev/kvm)` failing with EACCES).
const DEFAULT_HINTS: Readonly<Record<number, string>> = {
  [Errno.EBADF]: "the file descriptor is closed; open a new one",
  [Errno.ENOTTY]: "this fd does not implement the ioctl: check it is the right kind of KVM fd " +
    "(system, VM or vCPU) and that KVM_CHECK_EXTENSION reports the capability",
  [Errno.E2BIG]: "the buffer was too small for the kernel's answer; retry with a larger one",
  [Errno.ENOMEM]: "the host is out of memory (or of the memory KVM may lock)",
  [Errno.EINTR]: "a signal interrupted the call; retry it",
};

/**
 * A KVM ioctl or libc call that failed: carries the operation, the errno and its name.
 *
 * The message reads like `KVM_GET_SUPPORTED_CPUID failed: E2BIG (7)`; `description` has
 * glibc's `strerror()` text and `hint`, when known, says how to fix it.
 *
 * @example
 * ```ts
 * import { KvmError } from "@pvkit/kvm";
 * const e = new KvmError("KVM_GET_SUPPORTED_CPUID", 7);
 * console.log(e.message); // "KVM_GET_SUPPORTED_CPUID failed: E2BIG (7)"
 * console.log(e.errnoName, e.errno, e.code); // "E2BIG" 7 "kvm-call-failed"
 * ```
 */
export class KvmError extends PvkitError {
  /** The ioctl name (e.g. `KVM_CREATE_VM`) or libc call (e.g. `open(/dev/kvm)`) that failed. */
  readonly operation: string;
  /** The errno value the call left (Linux x86-64 numbering). */
  readonly errno: number;
  /** The errno's symbolic name, e.g. `EINVAL`, or `E<n>` when pvkit does not know it. */
  readonly errnoName: string;
  /** glibc's `strerror()` text for the errno, e.g. `Invalid argument`. */
  readonly description: string;

  /** Creates the error for `operation` failing with `errno`; `hint` overrides the default. */
  constructor(operation: string, errno: number, hint?: string) {
    const name = errnoName(errno);
    super(
      "kvm-call-failed",
      `${operation} failed: ${name} (${errno})`,
      hint ?? DEFAULT_HINTS[errno],
    );
    this.name = "KvmError";
    this.operation = operation;
    this.errno = errno;
    this.errnoName = name;
    this.description = errnoDescription(errno);
  }
}

/**
 * libc could not be loaded through Deno FFI: FFI is not permitted, or the library is missing.
 *
 * @example
 * ```ts
 * import { FfiUnavailableError } from "@pvkit/kvm";
 * console.log(new FfiUnavailableError("Deno FFI is not permitted").code); // "ffi-unavailable"
 * ```
 */
export class FfiUnavailableError extends PvkitError {
  /** Creates the error; `message` says what is missing. */
  constructor(message: string, hint?: string) {
    super("ffi-unavailable", message, hint);
    this.name = "FfiUnavailableError";
  }
}
