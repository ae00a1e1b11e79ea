/**
 * `pvkit bench exits --count N [--rounds R] [--json]`: port-I/O exit round trips handled by
 * the Deno VMM, beside the same guest loop driven by a C program built with gcc at run time.
 *
 * @module
 */

import { positiveIntegerOption } from "./integer_option.ts";
import { atMostPositional, parseFlags } from "./cli_flags.ts";
import { PvkitError } from "@pvkit/machine";
import { benchExits, type BenchExitsResult, probeKvm } from "@pvkit/kvm";
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
  if (what !== "exits") {
    throw new PvkitError(
      "bad-cli-option",
      what === undefined ? "pvkit bench needs a benchmark name" : `unknown benchmark "${what}"`,
      "usage: pvkit bench exits --count N [--rounds R] [--json]",
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
