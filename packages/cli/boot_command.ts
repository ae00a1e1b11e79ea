/**
 * `pvkit boot -kernel FILE [-initrd FILE] [-append STR] [-cpu ...] [-machine ...] [-smp N]
 * [-m SIZE] [--timeout S] [--idle-timeout S] [--report] [--json]`: boots a Linux kernel on
 * pvkit's own VMM (`@pvkit/vmm`) with the machine `pvkit describe` composes from the same
 * QEMU options, the guest's console on stdout. `--report` adds, after the guest ends, one row
 * per PV feature: offered, taken (with the evidence), predicted by `@pvkit/guest`, agreeing.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import {
  bootLinux,
  linuxBootReport,
  type LinuxBootResult,
  pvReportJson,
  renderPvReport,
} from "@pvkit/vmm";
import { callerPath } from "./caller_path.ts";
import { parseFlags } from "./cli_flags.ts";
import type { CliOutput } from "./cli_output.ts";
import { positiveIntegerOption } from "./integer_option.ts";
import { memorySizeMiB } from "./memory_size.ts";

/**
 * Exit statuses of `pvkit boot` besides 0 (the guest rebooted cleanly, and with `--report`
 * every feature agreed with the model) and 2 (a bad command line or file).
 *
 * @example
 * ```ts
 * import { BOOT_EXIT } from "@pvkit/cli";
 * console.log(BOOT_EXIT.timeout); // 124
 * ```
 */
export const BOOT_EXIT = {
  /** The guest crashed: kernel panic, triple fault, an exit the VMM cannot continue from. */
  guestFailed: 1,
  /** The report found a feature where the guest and the model disagree. */
  disagree: 3,
  /** The guest overran --timeout or hung (--idle-timeout). */
  timeout: 124,
} as const;

/** The help of `pvkit boot`. */
export const BOOT_HELP =
  `pvkit boot: boot a Linux kernel on pvkit's own VMM, and see which PV features it takes

usage: pvkit boot -kernel FILE [-initrd FILE] [-append CMDLINE] [-cpu M,FLAGS]
                  [-machine T,...] [-smp N] [-m SIZE] [--timeout S] [--idle-timeout S]
                  [--report] [--json] [--quiet]

The machine is the one \`pvkit describe\` composes from the same -cpu, -machine and -smp, on this
host's KVM (it needs a usable /dev/kvm: where there is none, run it inside \`pvkit nested\`). The
VMM loads the bzImage with Linux's 64-bit boot protocol and gives it an in-kernel irqchip and
PIT, a 16550 UART (ttyS0, the console: on stdout), an i8042 (its reset line ends the VM: boot
with reboot=k and let the guest run \`reboot\`), a CMOS clock and an MP table. \`deno task
linux-guest\` provides a Debian kernel and an initramfs whose /init prints what the report
needs and reboots.

options:
  -kernel FILE       the bzImage (boot protocol 2.12 or later, with a 64-bit entry)
  -initrd FILE       an initramfs
  -append CMDLINE    the kernel command line (default: console=ttyS0 reboot=k panic=1 pci=off
                     acpi=off nomodule and i8042 switches)
  -cpu M,FLAGS       as for pvkit describe, but the default model is host (the other leaves
                     come from KVM_GET_SUPPORTED_CPUID whatever the model)
  -machine, -smp     as for pvkit describe (kernel-irqchip must stay on)
  -m SIZE            guest RAM: MiB, or with a suffix M/G (default 512M)
  --timeout S        stop the guest after S seconds (default 600)
  --idle-timeout S   stop the guest when its console was silent for S seconds (a hang)
  --report           after the guest ends, print the PV-feature report
  --json             print the result as JSON on stdout (the console goes to stderr)
  --quiet            no progress lines on stderr

Exit status: 0 when the guest rebooted cleanly (and, with --report, every feature agreed with
the model); 1 when it crashed (kernel panic, triple fault); 3 when the report disagrees; 124
on --timeout or --idle-timeout; 2 for a bad command line, kernel or initrd.`;

/** `pvkit boot`'s parsed arguments. */
export interface BootArgs {
  /** `-kernel`, resolved against the caller's folder. */
  readonly kernel: string;
  /** `-initrd`, resolved against the caller's folder. */
  readonly initrd?: string;
  /** `-append`. */
  readonly append?: string;
  /** `-cpu`. */
  readonly cpu?: string;
  /** `-machine`. */
  readonly machine?: string;
  /** `-smp`. */
  readonly smp?: string;
  /** `-m`, in bytes. */
  readonly memoryBytes?: number;
  /** `--timeout`, in ms. */
  readonly timeoutMs?: number;
  /** `--idle-timeout`, in ms. */
  readonly idleTimeoutMs?: number;
  /** `--report`. */
  readonly report: boolean;
  /** `--json`. */
  readonly json: boolean;
  /** `--quiet`. */
  readonly quiet: boolean;
}

/**
 * Parses `pvkit boot`'s arguments (QEMU's single-dash spellings for the machine).
 *
 * @throws {PvkitError} (`bad-cli-option`) for an unknown option, a missing -kernel, bad sizes
 * @example
 * ```ts
 * import { parseBootArgs } from "@pvkit/cli";
 * const a = parseBootArgs(["-kernel", "/k/bzImage", "-smp", "2", "-m", "1G", "--report"]);
 * console.log(a.kernel, a.smp, a.memoryBytes, a.report); // /k/bzImage 2 1073741824 true
 * ```
 */
export function parseBootArgs(argv: readonly string[]): BootArgs {
  const flags = parseFlags("boot", argv, {
    booleans: ["--report", "--json", "--quiet", "-enable-kvm"],
    values: [
      "-kernel",
      "-initrd",
      "-append",
      "-cpu",
      "-machine",
      "-M",
      "-smp",
      "-m",
      "-accel",
      "--timeout",
      "--idle-timeout",
    ],
  });
  if (flags.positional.length > 0) {
    throw new PvkitError(
      "bad-cli-option",
      `pvkit boot: unexpected argument "${flags.positional[0]}"`,
      "name the kernel with -kernel FILE",
    );
  }
  const v = (k: string) => flags.values.get(k);
  const kernel = v("-kernel");
  if (kernel === undefined) {
    throw new PvkitError(
      "bad-cli-option",
      "pvkit boot needs -kernel FILE (a bzImage)",
      "deno task linux-guest prints a Debian kernel and an initramfs to boot",
    );
  }
  const accel = v("-accel");
  if (accel !== undefined && accel.split(",")[0] !== "kvm") {
    throw new PvkitError(
      "bad-cli-option",
      `pvkit boot runs on KVM only, not -accel ${accel}`,
      "drop -accel, or use -accel kvm",
    );
  }
  const initrd = v("-initrd");
  const machine = v("-machine") ?? v("-M");
  const memory = v("-m");
  const timeout = v("--timeout");
  const idle = v("--idle-timeout");
  return {
    kernel: callerPath(kernel),
    ...(initrd !== undefined ? { initrd: callerPath(initrd) } : {}),
    ...(v("-append") !== undefined ? { append: v("-append") } : {}),
    ...(v("-cpu") !== undefined ? { cpu: v("-cpu") } : {}),
    ...(machine !== undefined ? { machine } : {}),
    ...(v("-smp") !== undefined ? { smp: v("-smp") } : {}),
    ...(memory !== undefined ? { memoryBytes: memorySizeMiB("-m", memory, 16) * 1024 * 1024 } : {}),
    ...(timeout !== undefined
      ? { timeoutMs: positiveIntegerOption("--timeout", timeout) * 1000 }
      : {}),
    ...(idle !== undefined
      ? { idleTimeoutMs: positiveIntegerOption("--idle-timeout", idle) * 1000 }
      : {}),
    report: flags.on.has("--report"),
    json: flags.on.has("--json"),
    quiet: flags.on.has("--quiet"),
  };
}

/** The status `pvkit boot` exits with for a result (and whether its report agreed). */
export function bootExitStatus(result: LinuxBootResult, agree: boolean): number {
  if (result.stop.kind === "timeout" || result.stop.kind === "hang") return BOOT_EXIT.timeout;
  if (!result.stop.clean) return BOOT_EXIT.guestFailed;
  return agree ? 0 : BOOT_EXIT.disagree;
}

/**
 * Runs `pvkit boot`. The guest's console is written to stdout as it comes (stderr with
 * `--json`). A vCPU thread that cannot be stopped (stuck in KVM_RUN) ends the process.
 *
 * @example
 * ```ts ignore
 * import { bootCommand } from "@pvkit/cli";
 * const status = await bootCommand(["-kernel", "bzImage", "-initrd", "initrd.cpio", "--report"], {
 *   out: console.log,
 *   err: console.error,
 * });
 * ```
 */
export async function bootCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const args = parseBootArgs(argv);
  const sink = args.json ? Deno.stderr : Deno.stdout;
  const abort = new AbortController();
  const onInterrupt = () => abort.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  let result: LinuxBootResult;
  try {
    result = await bootLinux({
      kernel: args.kernel,
      ...(args.initrd !== undefined ? { initrd: args.initrd } : {}),
      ...(args.append !== undefined ? { append: args.append } : {}),
      ...(args.cpu !== undefined ? { cpu: args.cpu } : {}),
      ...(args.machine !== undefined ? { machine: args.machine } : {}),
      ...(args.smp !== undefined ? { smp: args.smp } : {}),
      ...(args.memoryBytes !== undefined ? { memoryBytes: args.memoryBytes } : {}),
      ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
      ...(args.idleTimeoutMs !== undefined ? { idleTimeoutMs: args.idleTimeoutMs } : {}),
      console: (bytes) => sink.writeSync(bytes),
      ...(args.quiet ? {} : { progress: (message: string) => io.err(`pvkit boot: ${message}`) }),
      signal: abort.signal,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  const { report, summary } = linuxBootReport(result);
  const agree = !args.report || report.rows.every((r) => r.agree !== false);
  if (args.json) {
    io.out(JSON.stringify({
      stop: result.stop,
      report: pvReportJson(report, summary),
      observations: result.observations,
    }, (_k, value) => typeof value === "bigint" ? `0x${value.toString(16)}` : value));
  } else if (args.report) {
    io.out(`\n${renderPvReport(report, summary)}`);
  }
  const line = `pvkit boot: ${result.stop.message}` +
    (result.toInitMs !== undefined ? `; /init after ${(result.toInitMs / 1000).toFixed(2)} s` : "");
  if (!args.quiet || !result.stop.clean) io.err(line);
  const status = bootExitStatus(result, agree);
  if (result.stuck) {
    io.err("pvkit boot: a vCPU thread is stuck in KVM_RUN; ending the process");
    Deno.exit(status || BOOT_EXIT.guestFailed);
  }
  return status;
}
