/**
 * Turning what a failed nested guest left (its init script's marks, its console, QEMU's stderr)
 * into a {@linkcode NestedError} that says what went wrong.
 *
 * @module
 */

import { NestedError } from "./errors.ts";

/**
 * The error for a guest that ended without writing the job's status, from the init script's
 * `pvkit-init:` marks (without the prefix), the console's last lines, QEMU's stderr and its exit
 * code: a module that failed to load (with its dmesg lines), no /dev/kvm, a missing command, a
 * share that did not mount, or an early stop.
 *
 * @example
 * ```ts
 * import { guestFailure } from "@pvkit/nested";
 * const e = guestFailure(["module-failed kvm_amd", "dmesg kvm: no hardware support"], [], "", 0);
 * console.log(e.kind, e.message);
 * // "module-failed" "kernel module kvm_amd failed to load in the guest: kvm: no hardware support"
 * ```
 */
export function guestFailure(
  marks: readonly string[],
  consoleLines: readonly string[],
  qemuStderr: string,
  code: number,
): NestedError {
  const dmesg = marks.filter((m) => m.startsWith("dmesg ")).map((m) => m.slice(6));
  const failed = marks.find((m) =>
    !m.startsWith("dmesg ") && m !== "job-start" && !m.startsWith("uptime")
  );
  const tail = `\n  ${consoleLines.slice(-8).join("\n  ")}`;
  if (failed?.startsWith("module-failed")) {
    return new NestedError(
      "module-failed",
      `kernel module ${failed.split(" ")[1]} failed to load in the guest: ${
        dmesg.join(" / ") || "(no dmesg line)"
      }`,
      "check that QEMU's TCG offers SVM (-cpu EPYC,+svm) and that the kernel package matches its modules",
    );
  }
  if (failed === "no-kvm") {
    return new NestedError(
      "module-failed",
      `kvm_amd loaded but the guest has no /dev/kvm: ${dmesg.join(" / ")}`,
    );
  }
  if (failed === "command-not-found") {
    return new NestedError(
      "command-not-found",
      "the command was not found in the guest (its PATH: Deno's folder, /usr/local/bin, /usr/bin, /usr/sbin)",
      "the guest sees the host's /usr, Deno and the working folder only: run `deno ...` rather than `npx ...`",
    );
  }
  if (failed?.startsWith("mount-failed")) {
    return new NestedError(
      "guest-failed",
      `the guest could not mount a shared folder (${failed})${tail}`,
    );
  }
  return new NestedError(
    "guest-failed",
    `the nested guest stopped before the job ended (QEMU exit ${code})${
      qemuStderr ? `: ${qemuStderr}` : ""
    }${tail}`,
  );
}
