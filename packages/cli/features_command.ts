/**
 * `pvkit features`: every PV feature pvkit knows, with its CPUID bits, default and summary.
 *
 * @module
 */

import { atMostPositional, parseFlags } from "./cli_flags.ts";
import type { CliOutput } from "./cli_output.ts";
import { bold } from "./colors.ts";
import { type CatalogEntry, cpuidPlace, featureCatalog, shortSummary } from "./feature_catalog.ts";
import { loadPluginFiles } from "./plugin_file.ts";

/** One feature as `pvkit features --json` prints it. */
export interface FeatureListing {
  /** The feature's name (QEMU's `-cpu` flag where QEMU has one). */
  readonly name: string;
  /** `core`, `built-in`, `opt-in` (pvkit's, for VMMs that provide it) or `plugin` (`--plugin`). */
  readonly origin: string;
  /** The package that implements it. */
  readonly package: string;
  /** Where its bits are, e.g. `0x40000001.eax[6]`. */
  readonly cpuid: string;
  /** The ABI's name for the bits. */
  readonly abiName: string;
  /** What it is, in one line. */
  readonly summary: string;
}

/**
 * The listing of each catalog entry.
 *
 * @example
 * ```ts
 * import { featureCatalog, featureListing } from "@pvkit/cli";
 * console.log(featureListing(featureCatalog())[1].name); // "kvmclock"
 * ```
 */
export function featureListing(catalog: readonly CatalogEntry[]): FeatureListing[] {
  return catalog.map(({ manifest: m, origin }) => ({
    name: m.name,
    origin,
    package: m.package,
    cpuid: cpuidPlace(m),
    abiName: m.cpuid.abiName,
    summary: shortSummary(m),
  }));
}

/**
 * Renders the listing as a table.
 *
 * @example
 * ```ts
 * import { featureCatalog, featureListing, renderFeatureListing } from "@pvkit/cli";
 * console.log(renderFeatureListing(featureListing(featureCatalog())));
 * ```
 */
export function renderFeatureListing(rows: readonly FeatureListing[]): string {
  const cells = rows.map((r) => [r.name, r.cpuid, r.origin, r.summary]);
  const header = ["feature", "cpuid", "origin", "summary"];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((x, i) => (i < 3 ? x.padEnd(widths[i]) : x)).join("  ").trimEnd();
  return [bold(line(header)), ...cells.map(line)].join("\n") +
    "\n\n`pvkit explain FEATURE` tells more about one.";
}

/**
 * Runs `pvkit features [--plugin FILE] [--json]`.
 *
 * @throws {PvkitError} for an unknown option or an unloadable plugin file
 * @example
 * ```ts
 * import { featuresCommand } from "@pvkit/cli";
 * await featuresCommand(["--json"], { out: console.log, err: console.error });
 * ```
 */
export async function featuresCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const flags = parseFlags("features", argv, { booleans: ["--json"], lists: ["--plugin"] });
  atMostPositional("features", flags.positional, 0);
  const rows = featureListing(featureCatalog(await loadPluginFiles(flags.lists.get("--plugin")!)));
  io.out(flags.on.has("--json") ? JSON.stringify(rows) : renderFeatureListing(rows));
  return 0;
}
