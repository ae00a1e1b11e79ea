/**
 * The error for a malformed or impossible QEMU option. Its message is QEMU's own text (without
 * the `qemu-system-x86_64: ` prefix); `hint` carries pvkit's did-you-mean or fix.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/**
 * A QEMU option that QEMU itself would reject.
 *
 * @example
 * ```ts
 * import { QemuOptionError } from "@pvkit/qemu";
 * const e = new QemuOptionError("-cpu option cannot be empty");
 * console.log(e.message, e.code);
 * ```
 */
export class QemuOptionError extends PvkitError {
  /** Creates the error with QEMU's text and an optional pvkit hint. */
  constructor(message: string, hint?: string | (() => string | undefined)) {
    super("bad-qemu-option", message, hint);
    this.name = "QemuOptionError";
  }
}
