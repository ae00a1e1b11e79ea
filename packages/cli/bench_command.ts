/**
 * `pvkit bench exits --count N [--rounds R] [--json]`: port-I/O exit round trips handled by
 * the Deno VMM, beside the same guest loop driven by a C program built with gcc at run time.
 *
 * `pvkit bench boot [--rounds N] [--json] -kernel K [-initrd I] [-cpu ..] [-smp N] [-m ..]`:
 * boot time to /init of pvkit's VMM against QEMU's on the same KVM, same kernel, initramfs and
 * flags, in ABBA rounds (`benchBoot` of `@pvkit/vmm`).
 *
 * @module
 */

import { positiveIntegerOption } from "./integer_option.ts";
import { atMostPositional, parseFlags } from "./cli_flags.ts";
import { PvkitError } from "@pvkit/machine";
import { benchExits, type BenchExitsResult, probeKvm } from "@pvkit/kvm";
import { benchBoot, type BootBenchResult } from "@pvkit/vmm";
import { parseBootArgs } from "./boot_command.ts";
import { bold, yellow } from "./colors.ts";
import type { CliOutput } from "./cli_output.ts";

/**
 * The JSON of `pvkit bench exits --json`: exactly these four keys.
 *
 * @example
 * ```ts
 * import type { BenchExitsJson } from "@pvkit/cli";
 * const j: BenchExitsJson = { exits: 100000, usPerExit: 7.4, baselineUsPerExit: null, ratio: null };
 * console.log(j.exits);
 * ```
 */
export interface BenchExitsJson {
  /** Exits per round. */
  exits: number;
  /** Median µs per exit, Deno. */
  usPerExit: number;
  /** Median µs per exit, C (null without gcc). */
  baselineUsPerExit: number | null;
  /** Deno / C (null without a baseline). */
  ratio: number | null;
}

const round3 = (n: number): number => Number(n.toFixed(3));

/**
 * The `--json` object of a {@linkcode BenchExitsResult}.
 *
 * @example
 * ```ts
 * import { benchExitsJson } from "@pvkit/cli";
 * import { benchExits } from "@pvkit/kvm";
 * console.log(benchExitsJson(await benchExits({ count: 20_000, rounds: 1 })));
 * ```
 */
export function benchExitsJson(r: BenchExitsResult): BenchExitsJson {
  return {
    exits: r.exits,
    usPerExit: round3(r.usPerExit),
    baselineUsPerExit: r.baselineUsPerExit === null ? null : round3(r.baselineUsPerExit),
    ratio: r.ratio === null ? null : round3(r.ratio),
  };
}

/**
 * The human table of `pvkit bench exits`.
 *
 * @example
 * ```ts
 * import { renderBenchExits } from "@pvkit/cli";
 * import { benchExits } from "@pvkit/kvm";
 * console.log(renderBenchExits(await benchExits({ count: 20_000, rounds: 1 })));
 * ```
 */
export function renderBenchExits(r: BenchExitsResult): string {
  const samples = (xs: readonly number[]): string => xs.map((x) => x.toFixed(2)).join(", ");
  const rows: [string, string][] = [
    ["exits per round", `${r.exits} (median of ${r.rounds} round${r.rounds === 1 ? "" : "s"})`],
    ["Deno VMM", `${r.usPerExit.toFixed(2)} µs/exit  [${samples(r.samplesUs)}]`],
    ["  path", r.path],
    [
      "C baseline (gcc -O2)",
      r.baselineUsPerExit === null
        ? yellow(`none: ${r.baselineUnavailable ?? "unavailable"}`)
        : `${r.baselineUsPerExit.toFixed(2)} µs/exit  [${samples(r.baselineSamplesUs)}]`,
    ],
    ["ratio (Deno / C)", r.ratio === null ? "n/a" : r.ratio.toFixed(3)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    bold("pvkit bench exits: port-I/O exit round trips (64-bit guest, `out dx, al` loop)"),
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
  ].join("\n");
}

/**
 * The JSON of `pvkit bench boot --json`: exactly these six keys. Times are ms from spawning
 * the VMM to the `pvkit-boot: init` line on the guest's console, per round.
 *
 * @example
 * ```ts
 * import type { BenchBootJson } from "@pvkit/cli";
 * const j: BenchBootJson = {
 *   rounds: 1, pvkitMs: [21000], qemuMs: [23000], medianPvkitMs: 21000, medianQemuMs: 23000, ratio: 0.913,
 * };
 * console.log(j.ratio);
 * ```
 */
export interface BenchBootJson {
  /** Rounds run (each boots both VMMs once). */
  rounds: number;
  /** pvkit's VMM (`pvkit boot`), per round. */
  pvkitMs: number[];
  /** QEMU `-accel kvm`, per round. */
  qemuMs: number[];
  /** The median of `pvkitMs`. */
  medianPvkitMs: number;
  /** The median of `qemuMs`. */
  medianQemuMs: number;
  /** The median of the per-round ratios pvkit / QEMU. */
  ratio: number;
}

const round1 = (n: number): number => Number(n.toFixed(1));

/**
 * The `--json` object of a {@linkcode BootBenchResult}.
 *
 * @example
 * ```ts
 * import { benchBootJson } from "@pvkit/cli";
 * console.log(benchBootJson({
 *   rounds: 1, pvkitMs: [900.04], qemuMs: [1000], medianPvkitMs: 900.04, medianQemuMs: 1000,
 *   ratio: 0.90004, pvkitArgv: [], qemuArgv: [],
 * })); // { rounds: 1, pvkitMs: [ 900 ], qemuMs: [ 1000 ], medianPvkitMs: 900, medianQemuMs: 1000, ratio: 0.9 }
 * ```
 */
export function benchBootJson(r: BootBenchResult): BenchBootJson {
  return {
    rounds: r.rounds,
    pvkitMs: r.pvkitMs.map(round1),
    qemuMs: r.qemuMs.map(round1),
    medianPvkitMs: round1(r.medianPvkitMs),
    medianQemuMs: round1(r.medianQemuMs),
    ratio: round3(r.ratio),
  };
}

/**
 * The human table of `pvkit bench boot`.
 *
 * @example
 * ```ts
 * import { renderBenchBoot } from "@pvkit/cli";
 * console.log(renderBenchBoot({
 *   rounds: 2, pvkitMs: [900, 1100], qemuMs: [1000, 1000], medianPvkitMs: 1000, medianQemuMs: 1000,
 *   ratio: 1, pvkitArgv: ["deno", "run", "-A", "main.ts", "boot"], qemuArgv: ["qemu-system-x86_64"],
 * }));
 * ```
 */
export function renderBenchBoot(r: BootBenchResult): string {
  const samples = (xs: readonly number[]): string =>
    xs.map((x) => (x / 1000).toFixed(2)).join(", ");
  const rows: [string, string][] = [
    ["rounds", `${r.rounds} (ABBA: pvkit first in odd rounds, QEMU first in even ones)`],
    ["pvkit's VMM", `${(r.medianPvkitMs / 1000).toFixed(2)} s median  [${samples(r.pvkitMs)}]`],
    ["  command", r.pvkitArgv.join(" ")],
    ["QEMU -accel kvm", `${(r.medianQemuMs / 1000).toFixed(2)} s median  [${samples(r.qemuMs)}]`],
    ["  command", r.qemuArgv.join(" ")],
    ["ratio (pvkit / QEMU)", `${r.ratio.toFixed(3)} (median of the per-round ratios)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    bold(
      "pvkit bench boot: spawn to /init's first line (same KVM, kernel, initramfs and flags)",
    ),
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
  ].join("\n");
}

/** The usage line of each benchmark. */
const BENCH_USAGE = [
  "pvkit bench exits [--count N] [--rounds R] [--json]",
  "pvkit bench boot [--rounds N] [--json] -kernel FILE [-initrd FILE] [-append CMDLINE]",
  "                 [-cpu M,FLAGS] [-machine T,...] [-smp N] [-m SIZE] [--timeout S]",
  "                 [--idle-timeout S]",
].join("\n");

/**
 * Runs `pvkit bench` with the arguments after the command name; returns the exit status
 * (0; 2 for bad options or an unusable `/dev/kvm`).
 *
 * @throws {PvkitError} for bad options, an unusable /dev/kvm or a failing guest loop
 * @example
 * ```ts
 * import { benchCommand } from "@pvkit/cli";
 * await benchCommand(["exits", "--count", "20000", "--json"], { out: console.log, err: console.error });
 * ```
 */
export async function benchCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const [what, ...rest] = argv;
  if (what === "boot") return await benchBootCommand(rest, io);
  if (what !== "exits") {
    throw new PvkitError(
      "bad-cli-option",
      what === undefined ? "pvkit bench needs a benchmark name" : `unknown benchmark "${what}"`,
      `usage: ${BENCH_USAGE}`,
    );
  }
  const flags = parseFlags("bench", rest, {
    booleans: ["--json"],
    values: ["--count", "--rounds"],
  });
  atMostPositional("bench", flags.positional, 0);
  const count = positiveIntegerOption("--count", flags.values.get("--count") ?? "100000");
  const rounds = Math.min(
    positiveIntegerOption("--rounds", flags.values.get("--rounds") ?? "5"),
    100,
  );
  const json = flags.on.has("--json");
  if (count > 0x7fff_ffff) {
    throw new PvkitError("bad-cli-option", `--count must be at most 2147483647, not ${count}`);
  }
  const kvm = probeKvm();
  if (!kvm.usable) {
    throw new PvkitError(
      "kvm-unusable",
      `/dev/kvm is unusable: ${kvm.reason}`,
      "pvkit bench exits runs a real guest: it needs read/write access to /dev/kvm and --allow-ffi",
    );
  }
  const result = await benchExits({ count, rounds, timeoutMs: 2000 });
  if (result.baselineUnavailable !== undefined) {
    io.err(`pvkit: no C baseline: ${result.baselineUnavailable}`);
  }
  io.out(json ? JSON.stringify(benchExitsJson(result)) : renderBenchExits(result));
  if (result.ratio !== null && result.ratio > 1.15 && !json) {
    io.err(
      `note: the Deno loop is ${((result.ratio - 1) * 100).toFixed(0)}% slower than C here`,
    );
  }
  return 0;
}

/** The path (or URL) of the CLI's entry point, for `pvkit boot` child processes. */
function cliMain(): string {
  const url = new URL("./main.ts", import.meta.url);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
}

/** `pvkit bench boot`: see the module doc. */
async function benchBootCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const flags = parseFlags("bench", argv, {
    booleans: ["--json"],
    values: [
      "--rounds",
      "-kernel",
      "-initrd",
      "-append",
      "-cpu",
      "-machine",
      "-M",
      "-smp",
      "-m",
      "--timeout",
      "--idle-timeout",
    ],
  });
  atMostPositional("bench", flags.positional, 0);
  const rounds = Math.min(
    positiveIntegerOption("--rounds", flags.values.get("--rounds") ?? "3"),
    20,
  );
  if (!flags.values.has("-kernel")) {
    throw new PvkitError(
      "bad-cli-option",
      "pvkit bench boot needs -kernel FILE (a bzImage)",
      "deno task linux-guest prints a Debian kernel and an initramfs to boot",
    );
  }
  // The machine options read as pvkit boot reads them (paths, sizes, limits, the same errors).
  const boot = parseBootArgs(
    [...flags.values].filter(([k]) => k !== "--rounds").flatMap(([k, v]) => [k, v]),
  );
  const kvm = probeKvm();
  if (!kvm.usable) {
    throw new PvkitError(
      "kvm-unusable",
      `/dev/kvm is unusable: ${kvm.reason}`,
      "pvkit bench boot boots Linux on KVM twice per round; where there is no KVM, run it " +
        "inside pvkit nested: deno task pvkit nested -- deno task pvkit bench boot ...",
    );
  }
  const result = await benchBoot({
    kernel: boot.kernel,
    ...(boot.initrd !== undefined ? { initrd: boot.initrd } : {}),
    ...(boot.append !== undefined ? { append: boot.append } : {}),
    ...(boot.cpu !== undefined ? { cpu: boot.cpu } : {}),
    ...(boot.machine !== undefined ? { machine: boot.machine } : {}),
    ...(boot.smp !== undefined ? { smp: boot.smp } : {}),
    ...(boot.memoryBytes !== undefined ? { memoryBytes: boot.memoryBytes } : {}),
    ...(boot.timeoutMs !== undefined ? { timeoutMs: boot.timeoutMs } : {}),
    ...(boot.idleTimeoutMs !== undefined ? { idleTimeoutMs: boot.idleTimeoutMs } : {}),
    rounds,
    pvkitCommand: [Deno.execPath(), "run", "-A", cliMain()],
    progress: (m) => io.err(`pvkit bench boot: ${m}`),
  });
  io.out(flags.on.has("--json") ? JSON.stringify(benchBootJson(result)) : renderBenchBoot(result));
  return 0;
}
