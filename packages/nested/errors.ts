/**
 * The error `pvkit nested` raises when it cannot provide the nested KVM or run the job in it.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/**
 * What went wrong, as a stable identifier:
 * - `qemu-missing`: `qemu-system-x86_64` is not installed and could not be installed;
 * - `package-missing`: another host tool (busybox, dpkg-deb, apt-get) is missing;
 * - `kernel-not-found`: no Debian kernel package could be found or downloaded;
 * - `module-failed`: a kernel module did not load in the guest (the message has its dmesg line);
 * - `guest-failed`: the guest stopped before the job ran (the message has the console's tail);
 * - `timeout`: the job overran its time limit and the guest was killed;
 * - `command-not-found`: the job's command does not exist in the guest;
 * - `bad-option`: an option value is malformed.
 */
export type NestedErrorKind =
  | "qemu-missing"
  | "package-missing"
  | "kernel-not-found"
  | "module-failed"
  | "guest-failed"
  | "timeout"
  | "command-not-found"
  | "bad-option";

/**
 * An error of the nested-KVM runner; `kind` says which, `hint` how to fix it.
 *
 * @example
 * ```ts
 * import { NestedError } from "@pvkit/nested";
 * const e = new NestedError("timeout", "the job ran longer than 5 s; the guest was killed");
 * console.log(e.code, e.kind); // "nested-timeout" "timeout"
 * ```
 */
export class NestedError extends PvkitError {
  /** Which step failed. */
  readonly kind: NestedErrorKind;

  /** Creates the error; its `code` is `nested-<kind>`. */
  constructor(kind: NestedErrorKind, message: string, hint?: string) {
    super(`nested-${kind}`, message, hint);
    this.name = "NestedError";
    this.kind = kind;
  }
}
