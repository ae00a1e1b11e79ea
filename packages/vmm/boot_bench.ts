/**
 * {@linkcode benchBoot}: boot time to `/init` of pvkit's VMM against QEMU's, on the same KVM,
 * with the same kernel, initramfs, command line and machine, in the same run. Both run as child
 * processes (`pvkit boot --quiet` and {@linkcode bootWithQemu}'s QEMU command line), in
 * interleaved ABBA rounds (pvkit first in even rounds, QEMU first in odd ones, so a drift of
 * the host does not favour either), each timed from its spawn to the `pvkit-boot: init` line on
 * its console and killed there. The ratio is the median of the per-round ratios pvkit / QEMU.
 * Both get the command line without `acpi=off` ({@linkcode comparisonCmdline}), so QEMU's guest
 * brings up every vCPU as pvkit's does.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { runConsoleProcess } from "./_console_process.ts";
import { DEFAULT_BOOT_CMDLINE } from "./linux_vm.ts";
import {
  comparisonCmdline,
  findQemu,
  qemuBootArgs,
  type QemuMachineOptions,
} from "./qemu_reference_boot.ts";

/** The two VMMs {@linkcode benchBoot} times. */
export type BenchedVmm = "pvkit" | "qemu";

/**
 * What {@linkcode benchBoot} boots, and how often.
 *
 * @example
 * ```ts
 * import type { BootBenchOptions } from "@pvkit/vmm";
 * const o: BootBenchOptions = {
 *   kernel: "bzImage", initrd: "initrd.cpio", smp: 2, rounds: 3,
 *   pvkitCommand: [Deno.execPath(), "run", "-A", "packages/cli/main.ts"],
 * };
 * console.log(o.rounds);
 * ```
 */
export interface BootBenchOptions extends QemuMachineOptions {
  /** Rounds; each boots both VMMs once. */
  readonly rounds: number;
  /** How to run the `pvkit` CLI (`boot ...` is appended), e.g. `[deno, "run", "-A", main.ts]`. */
  readonly pvkitCommand: readonly string[];
  /** The QEMU binary (default: `qemu-system-x86_64` on PATH). */
  readonly qemu?: string;
  /** A boot that has not reached /init after this long fails the bench (default 10 min). */
  readonly timeoutMs?: number;
  /** Console silence this long is a hung boot: retried once, said through `progress`. */
  readonly idleTimeoutMs?: number;
  /** Told about each boot (a line for people). */
  readonly progress?: (message: string) => void;
}

/**
 * The figures of a boot bench. Times are ms from spawn to the `pvkit-boot: init` line.
 *
 * @example
 * ```ts
 * import type { BootBenchResult } from "@pvkit/vmm";
 * const r: BootBenchResult = {
 *   rounds: 1, pvkitMs: [900], qemuMs: [1000], medianPvkitMs: 900, medianQemuMs: 1000, ratio: 0.9,
 *   pvkitArgv: [], qemuArgv: [],
 * };
 * console.log(r.ratio);
 * ```
 */
export interface BootBenchResult {
  /** Rounds run. */
  readonly rounds: number;
  /** pvkit's time to /init per round. */
  readonly pvkitMs: readonly number[];
  /** QEMU's time to /init per round. */
  readonly qemuMs: readonly number[];
  /** The median of {@linkcode BootBenchResult.pvkitMs}. */
  readonly medianPvkitMs: number;
  /** The median of {@linkcode BootBenchResult.qemuMs}. */
  readonly medianQemuMs: number;
  /** The median of the per-round ratios pvkit / QEMU (below 1: pvkit is faster). */
  readonly ratio: number;
  /** The pvkit command line that ran. */
  readonly pvkitArgv: readonly string[];
  /** The QEMU command line that ran. */
  readonly qemuArgv: readonly string[];
}

/**
 * The order of the VMMs in a round: ABBA (pvkit first in even rounds, QEMU first in odd ones).
 *
 * @example
 * ```ts
 * import { abbaOrder } from "@pvkit/vmm";
 * console.log([0, 1, 2].map(abbaOrder)); // [ [ "pvkit", "qemu" ], [ "qemu", "pvkit" ], [ "pvkit", "qemu" ] ]
 * ```
 */
export function abbaOrder(round: number): readonly [BenchedVmm, BenchedVmm] {
  return round % 2 === 0 ? ["pvkit", "qemu"] : ["qemu", "pvkit"];
}

/**
 * The median of a non-empty list (the mean of the middle two for an even length).
 *
 * @example
 * ```ts
 * import { median } from "@pvkit/vmm";
 * console.log(median([3, 1, 2]), median([4, 1, 3, 2])); // 2 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of an empty list");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The medians and the ratio (the median of per-round ratios pvkit / QEMU) of per-round times.
 *
 * @throws {RangeError} when the lists are empty or of different lengths
 * @example
 * ```ts
 * import { bootBenchFigures } from "@pvkit/vmm";
 * console.log(bootBenchFigures([900, 1200, 1000], [1000, 1000, 2000]));
 * // { medianPvkitMs: 1000, medianQemuMs: 1000, ratio: 0.9 }
 * ```
 */
export function bootBenchFigures(
  pvkitMs: readonly number[],
  qemuMs: readonly number[],
): { medianPvkitMs: number; medianQemuMs: number; ratio: number } {
  if (pvkitMs.length !== qemuMs.length) {
    throw new RangeError(`${pvkitMs.length} pvkit times but ${qemuMs.length} QEMU times`);
  }
  return {
    medianPvkitMs: median(pvkitMs),
    medianQemuMs: median(qemuMs),
    ratio: median(pvkitMs.map((p, i) => p / qemuMs[i])),
  };
}

/**
 * The `pvkit boot` arguments (after the CLI command) of a bench boot: the same machine as
 * QEMU's, `--quiet`, and the time limits in whole seconds.
 *
 * @example
 * ```ts
 * import { pvkitBootArgs } from "@pvkit/vmm";
 * console.log(pvkitBootArgs({ kernel: "bzImage", smp: 2 }, 600_000).join(" "));
 * // boot -kernel bzImage -cpu host -smp 2 -m 512M -append console=ttyS0 ... --quiet --timeout 600
 * ```
 */
export function pvkitBootArgs(
  machine: QemuMachineOptions,
  timeoutMs: number,
  idleTimeoutMs?: number,
): string[] {
  // QEMU's spellings for both, from one place: take pvkit's from QEMU's argv.
  const q = qemuBootArgs(machine);
  const value = (flag: string) => q[q.indexOf(flag) + 1];
  return [
    "boot",
    "-kernel",
    machine.kernel,
    ...(machine.initrd !== undefined ? ["-initrd", machine.initrd] : []),
    ...(machine.machine !== undefined ? ["-machine", machine.machine] : []),
    "-cpu",
    value("-cpu"),
    "-smp",
    value("-smp"),
    "-m",
    value("-m"),
    "-append",
    machine.append ?? DEFAULT_BOOT_CMDLINE,
    "--quiet",
    "--timeout",
    String(Math.ceil(timeoutMs / 1000)),
    ...(idleTimeoutMs !== undefined
      ? ["--idle-timeout", String(Math.ceil(idleTimeoutMs / 1000))]
      : []),
  ];
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/**
 * Runs the bench (see the module doc). Each boot is killed as soon as /init printed its line.
 *
 * @throws {PvkitError} `qemu-missing` without QEMU; `bench-boot-failed` when a boot ends (or
 * hangs twice) before /init, with its last console lines and stderr
 * @example
 * ```ts ignore
 * import { benchBoot, provisionLinuxGuest } from "@pvkit/vmm";
 * const g = await provisionLinuxGuest();
 * const r = await benchBoot({
 *   kernel: g.kernel, initrd: g.initrd, smp: 2, rounds: 3,
 *   pvkitCommand: [Deno.execPath(), "run", "-A", "packages/cli/main.ts"],
 * });
 * console.log(r.medianPvkitMs, r.medianQemuMs, r.ratio);
 * ```
 */
export async function benchBoot(options: BootBenchOptions): Promise<BootBenchResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const machine = { ...options, append: comparisonCmdline(options.append ?? DEFAULT_BOOT_CMDLINE) };
  const qemuArgv = [options.qemu ?? findQemu(), ...qemuBootArgs(machine)];
  const pvkitArgv = [
    ...options.pvkitCommand,
    ...pvkitBootArgs(machine, timeoutMs, options.idleTimeoutMs),
  ];
  const argv = { pvkit: pvkitArgv, qemu: qemuArgv };
  const name = { pvkit: "pvkit", qemu: "QEMU" };
  const times: Record<BenchedVmm, number[]> = { pvkit: [], qemu: [] };
  const bootOnce = async (vmm: BenchedVmm, label: string, retried: boolean): Promise<number> => {
    const [program, ...args] = argv[vmm];
    const r = await runConsoleProcess(program, args, {
      timeoutMs,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      stopAtInit: true,
    });
    if (r.toInitMs !== undefined) return r.toInitMs;
    if (r.killedFor === "hang" && !retried) {
      options.progress?.(
        `${label}: ${name[vmm]} printed nothing for ${
          options.idleTimeoutMs! / 1000
        } s before /init (a hang); retrying once`,
      );
      return await bootOnce(vmm, label, true);
    }
    const why = r.killedFor === "timeout"
      ? `did not reach /init within ${timeoutMs / 1000} s`
      : r.killedFor === "hang"
      ? `hung twice before /init (no console output for ${options.idleTimeoutMs! / 1000} s)`
      : `ended (status ${r.status.code}) before /init`;
    const tail = (text: string) => text.trim().split("\n").slice(-5).join("\n  ");
    throw new PvkitError(
      "bench-boot-failed",
      `${label}: ${name[vmm]} ${why}\n  console: ${tail(r.console) || "(none)"}\n  stderr: ${
        tail(r.stderr) || "(none)"
      }`,
      `run the same boot alone: ${argv[vmm].join(" ")}`,
    );
  };
  for (let round = 0; round < options.rounds; round++) {
    for (const vmm of abbaOrder(round)) {
      const label = `round ${round + 1}/${options.rounds}`;
      const ms = await bootOnce(vmm, label, false);
      times[vmm].push(ms);
      options.progress?.(`${label}: ${name[vmm]} reached /init in ${(ms / 1000).toFixed(2)} s`);
    }
  }
  return {
    rounds: options.rounds,
    pvkitMs: times.pvkit,
    qemuMs: times.qemu,
    ...bootBenchFigures(times.pvkit, times.qemu),
    pvkitArgv,
    qemuArgv,
  };
}
