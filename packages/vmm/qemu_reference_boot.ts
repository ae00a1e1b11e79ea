/**
 * {@linkcode bootWithQemu}: the reference boot. The same kernel, initramfs, command line and
 * `-cpu`/`-machine`/`-smp`/`-m` that `pvkit boot` takes, booted by Debian's
 * `qemu-system-x86_64 -accel kvm` on the same KVM, with the console on QEMU's stdout
 * (`-serial stdio`) and the guest's reboot ending QEMU (`-no-reboot`), so the PV features the
 * kernel takes under pvkit's VMM can be compared with QEMU's ({@link ./vmm_comparison.ts}).
 *
 * QEMU's options (QEMU's manual, "Invocation": https://www.qemu.org/docs/master/system/invocation.html):
 * `-nodefaults` (no default NIC, VGA, floppy, CD-ROM: the devices pvkit's VMM lacks anyway),
 * `-no-user-config`, `-display none`, `-monitor none`, `-serial stdio`, `-no-reboot`. `-cpu` is
 * passed with pvkit's spelling as is (pvkit takes QEMU's), always explicitly: QEMU's default
 * model is `qemu64`, `pvkit boot`'s is `host`. `-machine` is `pc` unless one is given, with
 * `kernel-irqchip=on` unless one is given (pvkit's VMM always has the in-kernel irqchip).
 *
 * @module
 */

import { type CpuidEntry, KvmSystem, probeKvm } from "@pvkit/kvm";
import { PvkitError } from "@pvkit/machine";
import { findExecutable, lastLine } from "@pvkit/nested";
import { parseGuestConsole } from "./boot_console.ts";
import { bootCpuid } from "./boot_cpuid.ts";
import { BOOT_DEFAULT_CPU, composeBootMachine } from "./boot_machine.ts";
import { pvOfferFromCpuid } from "./boot_report.ts";
import type { LinuxBootReport } from "./boot_report.ts";
import { BootShared, STOP_REASON, type StopReasonCode } from "./boot_shared.ts";
import { type BootStop, describeStop } from "./boot_stop.ts";
import { parseBzImage } from "./bzimage.ts";
import { DEFAULT_BOOT_CMDLINE } from "./linux_vm.ts";
import { buildPvReport } from "./pv_report.ts";
import { type ConsoleProcessResult, runConsoleProcess } from "./_console_process.ts";

/**
 * The QEMU binary {@linkcode bootWithQemu} runs, and the Debian package that has it.
 *
 * @example
 * ```ts
 * import { QEMU_REFERENCE } from "@pvkit/vmm";
 * console.log(QEMU_REFERENCE.program, QEMU_REFERENCE.debianPackage);
 * // qemu-system-x86_64 qemu-system-x86
 * ```
 */
export const QEMU_REFERENCE = {
  program: "qemu-system-x86_64",
  debianPackage: "qemu-system-x86",
} as const;

/** The guest RAM `pvkit boot` and {@linkcode bootWithQemu} give without `-m`: 512 MiB. */
const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const MIB = 1024 * 1024;

/**
 * What {@linkcode qemuBootArgs} builds QEMU's command line from (QEMU's spellings, as for
 * `pvkit boot`).
 *
 * @example
 * ```ts
 * import type { QemuMachineOptions } from "@pvkit/vmm";
 * const o: QemuMachineOptions = { kernel: "/boot/vmlinuz", cpu: "host,kvm-pv-ipi=off", smp: 2 };
 * console.log(o.cpu);
 * ```
 */
export interface QemuMachineOptions {
  /** The bzImage (a file: QEMU reads it itself). */
  readonly kernel: string;
  /** The initramfs file. */
  readonly initrd?: string;
  /** The kernel command line (default: `pvkit boot`'s, `DEFAULT_BOOT_CMDLINE`). */
  readonly append?: string;
  /** `-cpu` (default `host`, `pvkit boot`'s default; QEMU's own would be `qemu64`). */
  readonly cpu?: string;
  /** `-machine` (default `pc`; `kernel-irqchip=on` is added unless given). */
  readonly machine?: string;
  /** `-smp` (default 1). */
  readonly smp?: string | number;
  /** Guest RAM in bytes, a whole number of MiB (default 512 MiB, as `pvkit boot`). */
  readonly memoryBytes?: number;
}

/** What {@linkcode bootWithQemu} boots and how. */
export interface QemuBootOptions extends QemuMachineOptions {
  /** Kill QEMU after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Kill QEMU when the guest's console has been silent this long (a hang; default: none). */
  readonly idleTimeoutMs?: number;
  /** Gets the guest's console output as it comes (default: kept only in the result). */
  readonly console?: (bytes: Uint8Array) => void;
  /** Kills QEMU when aborted. */
  readonly signal?: AbortSignal;
  /** The QEMU binary (default: `qemu-system-x86_64` on PATH). */
  readonly qemu?: string;
}

/** What {@linkcode bootWithQemu} returns. */
export interface QemuBootResult {
  /** How the guest ended (`vcpu` is -1: QEMU does not say which vCPU). */
  readonly stop: BootStop;
  /** The whole console output. */
  readonly console: string;
  /** What QEMU printed on stderr (warnings, or why it failed). */
  readonly stderr: string;
  /** Milliseconds from spawning QEMU to the `pvkit-boot: init` line, if it came. */
  readonly toInitMs: number | undefined;
  /** Milliseconds from spawning QEMU to its end. */
  readonly runMs: number;
  /** The command that ran: the QEMU binary, then {@linkcode qemuBootArgs}. */
  readonly argv: readonly string[];
  /** The kernel command line used. */
  readonly cmdline: string;
  /** The vCPUs of the machine. */
  readonly vcpus: number;
  /**
   * vCPU 0's CPUID as pvkit composes the same `-cpu`/`-machine`/`-smp` on this KVM: what
   * `pvkit describe` says QEMU offers (QEMU does not report the CPUID it gave), or undefined
   * when pvkit cannot compose the machine (e.g. `kernel-irqchip=split`).
   */
  readonly cpuid: readonly CpuidEntry[] | undefined;
}

/**
 * QEMU's arguments (without the program) for a machine: KVM, the machine type with the
 * in-kernel irqchip, `-cpu` as given (default `host`), `-smp`, `-m`, no default devices, the
 * serial console on stdio, no reboot, the kernel, initrd and command line.
 *
 * @throws {PvkitError} (`bad-option`) for a memory size that is not a positive number of MiB
 * @example
 * ```ts
 * import { qemuBootArgs } from "@pvkit/vmm";
 * const args = qemuBootArgs({ kernel: "bzImage", initrd: "initrd.cpio", smp: 2, append: "console=ttyS0" });
 * console.log(args.join(" "));
 * // -accel kvm -machine pc,kernel-irqchip=on -cpu host -smp 2 -m 512M -nodefaults -no-user-config
 * //   -display none -serial stdio -monitor none -no-reboot -kernel bzImage -initrd initrd.cpio
 * //   -append console=ttyS0
 * ```
 */
export function qemuBootArgs(options: QemuMachineOptions): string[] {
  const memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY_BYTES;
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % MIB !== 0) {
    throw new PvkitError(
      "bad-option",
      `guest memory must be a positive whole number of MiB, not ${memoryBytes} bytes`,
      "give -m in MiB (e.g. 512M or 1G)",
    );
  }
  return [
    "-accel",
    "kvm",
    "-machine",
    qemuMachineOption(options.machine),
    "-cpu",
    options.cpu ?? BOOT_DEFAULT_CPU,
    "-smp",
    String(options.smp ?? 1),
    "-m",
    `${memoryBytes / MIB}M`,
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-monitor",
    "none",
    "-no-reboot",
    "-kernel",
    options.kernel,
    ...(options.initrd !== undefined ? ["-initrd", options.initrd] : []),
    "-append",
    options.append ?? DEFAULT_BOOT_CMDLINE,
  ];
}

/**
 * The kernel command line for booting the same guest on pvkit's VMM and on QEMU: `cmdline`
 * without `acpi=off`. QEMU's pc machine names its vCPUs only in ACPI's MADT (the MP table of
 * its firmware, SeaBIOS 1.16, lists the boot CPU alone: with `acpi=off` a QEMU guest brings up
 * one CPU, "MPTABLE: ... Processor #0 (Bootup-CPU)", and turns PV IPIs, spinlocks, TLB flush
 * and sched yield off). pvkit's VMM writes no ACPI tables, so there the kernel finds no RSDP
 * and reads pvkit's MP table either way.
 *
 * @example
 * ```ts
 * import { comparisonCmdline } from "@pvkit/vmm";
 * console.log(comparisonCmdline("console=ttyS0 pci=off acpi=off nomodule")); // console=ttyS0 pci=off nomodule
 * ```
 */
export function comparisonCmdline(cmdline: string): string {
  return cmdline.split(/\s+/).filter((w) => w !== "" && w !== "acpi=off").join(" ");
}

/**
 * The `-machine` value QEMU gets for pvkit's: the type (default `pc`) first, and
 * `kernel-irqchip=on` unless the value sets it.
 *
 * @example
 * ```ts
 * import { qemuMachineOption } from "@pvkit/vmm";
 * console.log(qemuMachineOption(undefined)); // pc,kernel-irqchip=on
 * console.log(qemuMachineOption("kernel-irqchip=split")); // pc,kernel-irqchip=split
 * console.log(qemuMachineOption("pc,kernel-irqchip=on")); // pc,kernel-irqchip=on
 * ```
 */
export function qemuMachineOption(machine: string | undefined): string {
  const parts = (machine ?? "").split(",").filter((p) => p !== "");
  if (parts.length === 0 || parts[0].includes("=")) parts.unshift("pc");
  if (!parts.some((p) => p.startsWith("kernel-irqchip=") || p === "kernel-irqchip")) {
    parts.push("kernel-irqchip=on");
  }
  return parts.join(",");
}

/**
 * How the QEMU process ended, as {@linkcode describeQemuStop} reads it.
 *
 * @example
 * ```ts
 * import type { QemuExit } from "@pvkit/vmm";
 * const e: QemuExit = { code: 0, console: "pvkit-boot: reboot 9.1\n", stderr: "" };
 * console.log(e.code);
 * ```
 */
export interface QemuExit {
  /** QEMU's exit status (0 when the guest reset it: `-no-reboot`). */
  readonly code: number;
  /** The signal that ended it, when one did. */
  readonly signal?: string | null;
  /** Why the host killed it, if it did. */
  readonly killedFor?: "timeout" | "hang" | "interrupted";
  /** The console output. */
  readonly console: string;
  /** QEMU's stderr. */
  readonly stderr: string;
}

/**
 * The {@linkcode BootStop} of a QEMU run, judged as `pvkit boot`'s ({@linkcode describeStop}):
 * exit 0 is the guest's reset (QEMU's `-no-reboot` turns it into an exit), clean only after the
 * kernel's own restart and no panic; a timeout and a hang read the same; any other exit is QEMU
 * failing.
 *
 * @example
 * ```ts
 * import { describeQemuStop } from "@pvkit/vmm";
 * const stop = describeQemuStop(
 *   { code: 0, console: "pvkit-boot: reboot 9.1\nreboot: Restarting system\n", stderr: "" },
 *   { timeoutMs: 60_000 },
 * );
 * console.log(stop.kind, stop.clean); // reset true
 * ```
 */
export function describeQemuStop(
  exit: QemuExit,
  limits: { readonly timeoutMs: number; readonly idleTimeoutMs?: number },
): BootStop {
  const viaPvkit = (reason: StopReasonCode): BootStop => {
    const shared = BootShared.create(1);
    shared.requestStop(reason, -1);
    return describeStop(shared, { ...limits, errors: [], console: exit.console });
  };
  if (exit.killedFor === "timeout") return viaPvkit(STOP_REASON.timeout);
  if (exit.killedFor === "hang") return viaPvkit(STOP_REASON.hang);
  if (exit.killedFor === "interrupted") return viaPvkit(STOP_REASON.interrupted);
  if (exit.code === 0 && !exit.signal) {
    const stop = viaPvkit(STOP_REASON.reset);
    return { ...stop, message: `${stop.message}; QEMU exited (-no-reboot)` };
  }
  const why = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
  const said = lastLine(exit.stderr);
  return {
    kind: "fatal-exit",
    clean: false,
    vcpu: -1,
    message: `QEMU ${why}${said ? `: ${said}` : ""}`,
  };
}

/**
 * The QEMU binary: `qemu-system-x86_64` on PATH.
 *
 * @throws {PvkitError} (`qemu-missing`) naming the Debian package to install
 * @example
 * ```ts ignore
 * import { findQemu } from "@pvkit/vmm";
 * console.log(findQemu()); // /usr/bin/qemu-system-x86_64
 * ```
 */
export function findQemu(): string {
  const qemu = findExecutable(QEMU_REFERENCE.program);
  if (qemu === undefined) {
    throw new PvkitError(
      "qemu-missing",
      `${QEMU_REFERENCE.program} is not on PATH: the reference boot needs QEMU`,
      `install Debian's ${QEMU_REFERENCE.debianPackage}: ` +
        `sudo apt-get install --no-install-recommends ${QEMU_REFERENCE.debianPackage}`,
    );
  }
  return qemu;
}

function checkFile(what: string, path: string, hint: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new PvkitError("boot-bad-file", `${what} ${path}: no such file`, hint);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new PvkitError("boot-bad-file", `${what} ${path}: permission denied`, hint);
    }
    throw e;
  }
  if (!info.isFile) {
    throw new PvkitError("boot-bad-file", `${what} ${path} is not a regular file`, hint);
  }
}

/** vCPU 0's CPUID and the vCPU count pvkit composes for the same machine on this KVM. */
function composedCpuid(
  options: QemuMachineOptions,
): { cpuid: CpuidEntry[] | undefined; vcpus: number } {
  const fallbackVcpus = Number.parseInt(String(options.smp ?? 1), 10) || 1;
  try {
    const { composed, apicIds } = composeBootMachine({
      ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
      ...(options.machine !== undefined ? { machine: options.machine } : {}),
      ...(options.smp !== undefined ? { smp: options.smp } : {}),
    });
    if (!probeKvm().usable) return { cpuid: undefined, vcpus: apicIds.length };
    using sys = KvmSystem.open();
    return { cpuid: bootCpuid(sys.kvmGetSupportedCpuid(), composed, 0), vcpus: apicIds.length };
  } catch (e) {
    if (e instanceof PvkitError) return { cpuid: undefined, vcpus: fallbackVcpus };
    throw e;
  }
}

/**
 * Boots a Linux kernel with QEMU on KVM and resolves when QEMU has ended (the guest's reboot,
 * or QEMU killed for `timeoutMs`/`idleTimeoutMs`/`signal`, always awaited: no process is left
 * behind).
 *
 * @throws {PvkitError} `qemu-missing` without QEMU, `boot-bad-file` for a bad kernel or
 * initrd (the same checks as `pvkit boot`), `qemu-failed` when QEMU refuses the machine before
 * the guest printed anything (e.g. no usable /dev/kvm, a `-cpu` QEMU does not know)
 * @example
 * ```ts ignore
 * import { bootWithQemu, provisionLinuxGuest, qemuBootReport } from "@pvkit/vmm";
 * const guest = await provisionLinuxGuest();
 * const r = await bootWithQemu({ kernel: guest.kernel, initrd: guest.initrd, smp: 2 });
 * console.log(r.stop.kind, r.toInitMs, qemuBootReport(r).report.rows.length);
 * ```
 */
export async function bootWithQemu(options: QemuBootOptions): Promise<QemuBootResult> {
  const kernelHint = "pass a bzImage with -kernel, e.g. /boot/vmlinuz-<release>";
  checkFile("kernel", options.kernel, kernelHint);
  parseBzImage(Deno.readFileSync(options.kernel), options.kernel);
  if (options.initrd !== undefined) {
    checkFile("initrd", options.initrd, "pass an initramfs (a cpio archive) with -initrd");
  }
  const args = qemuBootArgs(options);
  const qemu = options.qemu ?? findQemu();
  const { cpuid, vcpus } = composedCpuid(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const run: ConsoleProcessResult = await runConsoleProcess(qemu, args, {
    timeoutMs,
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.console !== undefined ? { console: options.console } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const killedFor = run.killedFor === "init" ? undefined : run.killedFor;
  if (killedFor === undefined && run.status.code !== 0 && run.console.trim() === "") {
    throw new PvkitError(
      "qemu-failed",
      `QEMU exited with status ${run.status.code} before the guest printed anything: ${
        run.stderr.trim() || "(no message)"
      }`,
      `the command was: ${[qemu, ...args].join(" ")}`,
    );
  }
  return {
    stop: describeQemuStop({
      code: run.status.code,
      signal: run.status.signal,
      ...(killedFor !== undefined ? { killedFor } : {}),
      console: run.console,
      stderr: run.stderr,
    }, {
      timeoutMs,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    }),
    console: run.console,
    stderr: run.stderr,
    toInitMs: run.toInitMs,
    runMs: run.runMs,
    argv: [qemu, ...args],
    cmdline: options.append ?? DEFAULT_BOOT_CMDLINE,
    vcpus,
    cpuid,
  };
}

/**
 * The PV-feature report of a QEMU boot, from the same {@linkcode buildPvReport} as
 * `pvkit boot`'s: the offer is pvkit's composition of the same machine (see
 * {@linkcode QemuBootResult.cpuid}); QEMU reports no MSR writes or hypercalls, so the features
 * only those show (PV EOI, async PF; steal time without steal ticks) are `"unknown"`.
 *
 * @throws {PvkitError} (`boot-bad-machine`) when pvkit could not compose the machine
 * @example
 * ```ts ignore
 * import { bootWithQemu, qemuBootReport, renderPvReport } from "@pvkit/vmm";
 * const r = await bootWithQemu({ kernel: "bzImage", initrd: "initrd.cpio", smp: 2 });
 * const { report, summary } = qemuBootReport(r);
 * console.log(renderPvReport(report, summary));
 * ```
 */
export function qemuBootReport(
  result: Pick<QemuBootResult, "cpuid" | "vcpus" | "console" | "cmdline" | "stop" | "runMs"> & {
    readonly toInitMs?: number | undefined;
  },
): LinuxBootReport {
  if (result.cpuid === undefined) {
    throw new PvkitError(
      "boot-bad-machine",
      "no CPUID to weigh the QEMU boot against: pvkit cannot compose this machine on this KVM",
      "`pvkit describe` with the same -cpu/-machine/-smp says why",
    );
  }
  const report = buildPvReport({
    offered: pvOfferFromCpuid(result.cpuid, result.vcpus),
    observed: {},
    console: parseGuestConsole(result.console),
    cmdline: result.cmdline,
  });
  return {
    report,
    summary: {
      ended: result.stop.message,
      ...(result.toInitMs !== undefined ? { wallToInitSeconds: result.toInitMs / 1000 } : {}),
      wallSeconds: result.runMs / 1000,
    },
  };
}
