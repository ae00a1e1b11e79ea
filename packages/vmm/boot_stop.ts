/**
 * How a booted guest ended, for people and programs: {@linkcode describeStop} turns the stop
 * words the vCPU threads and the host wrote into a {@linkcode BootStop}, and recognises a
 * kernel panic on the console (with `panic=N` Linux reboots after it, which would otherwise
 * look like a clean end).
 *
 * @module
 */

import { type BootShared, STOP_REASON } from "./boot_shared.ts";

/** The ways a boot ends. */
export type BootStopKind =
  | "reset"
  | "panic"
  | "triple-fault"
  | "system-event"
  | "fatal-exit"
  | "run-error"
  | "timeout"
  | "hang"
  | "interrupted";

/** How a booted guest ended. */
export interface BootStop {
  /** What ended it. */
  readonly kind: BootStopKind;
  /** True for the guest's own reboot with no kernel panic before it. */
  readonly clean: boolean;
  /** The vCPU that ended it, or -1 for the host (timeout, hang, interrupt). */
  readonly vcpu: number;
  /** A sentence for people. */
  readonly message: string;
}

/** What {@linkcode describeStop} needs besides the stop words. */
export interface StopContext {
  /** The time limit that applied. */
  readonly timeoutMs: number;
  /** The console-silence limit that applied, if any. */
  readonly idleTimeoutMs?: number;
  /** Errors the vCPU threads reported. */
  readonly errors: readonly string[];
  /** The console output. */
  readonly console: string;
}

// KVM_EXIT_* names for messages (include/uapi/linux/kvm.h).
const EXIT_NAMES: Readonly<Record<number, string>> = {
  0: "KVM_EXIT_UNKNOWN",
  5: "KVM_EXIT_HLT",
  7: "KVM_EXIT_IRQ_WINDOW_OPEN",
  9: "KVM_EXIT_FAIL_ENTRY",
  17: "KVM_EXIT_INTERNAL_ERROR",
  27: "KVM_EXIT_HYPERV",
};

// KVM_SYSTEM_EVENT_* (include/uapi/linux/kvm.h).
const SYSTEM_EVENTS: Readonly<Record<number, string>> = {
  1: "shutdown",
  2: "reset",
  3: "crash",
  4: "wakeup",
  5: "suspend",
  6: "SEV termination",
};

/** What Linux prints when it restarts on request (`kernel_restart`, kernel/reboot.c). */
const RESTART_LINE = "reboot: Restarting system";

/** The last non-empty console lines, for messages. */
function lastLines(text: string, n: number): string {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.length > 0);
  return lines.slice(-n).join(" | ");
}

/**
 * The kernel's panic line on the console (`Kernel panic - not syncing: ...`), if any.
 *
 * @example
 * ```ts
 * import { kernelPanicLine } from "@pvkit/vmm";
 * console.log(kernelPanicLine("[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n"));
 * // "Kernel panic - not syncing: VFS: Unable to mount root fs"
 * ```
 */
export function kernelPanicLine(console: string): string | undefined {
  const m = /Kernel panic - not syncing:[^\r\n]*/.exec(console);
  return m?.[0].trimEnd();
}

/**
 * The {@linkcode BootStop} for a VM's stop words.
 *
 * @example
 * ```ts
 * import { BootShared, describeStop, STOP_REASON } from "@pvkit/vmm";
 * const shared = BootShared.create(1);
 * shared.requestStop(STOP_REASON.reset, 0);
 * const text = "reboot: Restarting system\n";
 * const stop = describeStop(shared, { timeoutMs: 60_000, errors: [], console: text });
 * console.log(stop.kind, stop.clean); // reset true
 * ```
 */
export function describeStop(shared: BootShared, context: StopContext): BootStop {
  const vcpu = shared.stopVcpu;
  const panic = kernelPanicLine(context.console);
  const detail = shared.stopDetail(0);
  const detail2 = shared.stopDetail(1);
  const on = vcpu >= 0 ? ` on vCPU ${vcpu}` : "";
  const stop = (kind: BootStopKind, message: string, clean = false): BootStop => ({
    kind,
    clean,
    vcpu,
    message,
  });
  switch (shared.stopReason) {
    case STOP_REASON.reset:
      if (panic) return stop("panic", `the guest kernel panicked (${panic}), then reset`);
      // kernel_restart() prints "reboot: Restarting system" at KERN_EMERG (kernel/reboot.c),
      // so it shows even with `quiet`; an emergency restart (after a panic, or a watchdog)
      // does not print it.
      if (context.console.trim() !== "" && !context.console.includes(RESTART_LINE)) {
        return stop(
          "reset",
          `the guest reset the machine${on} without the kernel's "${RESTART_LINE}": an ` +
            "emergency restart, e.g. after a crash whose message did not reach the console" +
            ` (last console lines: ${lastLines(context.console, 2)})`,
        );
      }
      return stop("reset", `the guest reset the machine (i8042 reset line)${on}`, true);
    case STOP_REASON.tripleFault:
      return stop(
        panic ? "panic" : "triple-fault",
        `the guest triple-faulted (KVM_EXIT_SHUTDOWN)${on}${panic ? ` after: ${panic}` : ""}`,
      );
    case STOP_REASON.systemEvent:
      return stop(
        "system-event",
        `KVM reported a system event${on}: ${SYSTEM_EVENTS[detail] ?? `type ${detail}`}`,
        detail === 2 && !panic,
      );
    case STOP_REASON.fatalExit: {
      if (detail === -1) {
        return stop(
          "fatal-exit",
          `the thread of vCPU ${vcpu} failed: ${context.errors.join("; ")}`,
        );
      }
      const name = EXIT_NAMES[detail] ?? `exit reason ${detail}`;
      const sub = detail === 9
        ? ` (hardware_entry_failure_reason 0x${(detail2 >>> 0).toString(16)})`
        : detail === 17
        ? ` (suberror ${detail2})`
        : "";
      return stop("fatal-exit", `the VMM cannot continue after ${name}${sub}${on}`);
    }
    case STOP_REASON.runError:
      return stop("run-error", `KVM_RUN failed${on}: errno ${detail}`);
    case STOP_REASON.timeout:
      return stop(
        "timeout",
        `the guest did not end within ${context.timeoutMs / 1000} s` +
          (context.console ? ` (last console lines: ${lastLines(context.console, 2)})` : ""),
      );
    case STOP_REASON.hang:
      return stop(
        "hang",
        `the guest hung: no console output for ${(context.idleTimeoutMs ?? 0) / 1000} s` +
          (panic ? ` after ${panic}` : "") +
          (context.console ? ` (last console lines: ${lastLines(context.console, 2)})` : ""),
      );
    default:
      return stop("interrupted", "the boot was interrupted");
  }
}
