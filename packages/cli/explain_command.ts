/**
 * `pvkit explain FEATURE`: one feature in full: CPUID bits, MSRs, hypercalls, defaults, the
 * rules that involve it, what a Linux guest does with it and what it saves.
 *
 * @module
 */

import { conditionFeatures, hex32, PvkitError } from "@pvkit/machine";
import { parseFlags } from "./cli_flags.ts";
import type { CliOutput } from "./cli_output.ts";
import { bold } from "./colors.ts";
import { type CatalogEntry, featureCatalog, findFeature, shortSummary } from "./feature_catalog.ts";
import notes from "./feature_notes.json" with { type: "json" };
import { loadPluginFiles } from "./plugin_file.ts";
import { allRules, type OwnedRule, ruleText } from "./rule_graph.ts";

/** What `pvkit explain --json` prints. */
export interface FeatureExplanation {
  /** The feature. */
  readonly name: string;
  /** `core`, `built-in`, `opt-in` or `plugin`. */
  readonly origin: string;
  /** Its package. */
  readonly package: string;
  /** What it is. */
  readonly summary: string;
  /** QEMU's flag name and aliases (null name: QEMU has none). */
  readonly qemu: { readonly name: string | null; readonly aliases: readonly string[] };
  /** Where its bits are. */
  readonly cpuid: { leaf: string; register: string; bits: readonly number[]; abiName: string };
  /** The MSRs its bit governs. */
  readonly msrs: readonly { index: string; name: string }[];
  /** The hypercalls its bit governs. */
  readonly hypercalls: readonly { nr: number; name: string }[];
  /** First Linux/QEMU versions. */
  readonly since: { readonly linux?: string; readonly qemu?: string };
  /** Deprecation or removal, when set. */
  readonly status?: string;
  /** Rules it owns and rules of others that mention it: `level id: text`. */
  readonly rules: readonly string[];
  /** What a Linux guest does with it (null when pvkit has no note, e.g. a third-party plugin). */
  readonly linux: string | null;
  /** What it saves (null when unknown). */
  readonly saves: string | null;
  /** Public sources for the two lines above. */
  readonly sources: readonly string[];
}

const NOTES: Record<string, { linux: string; saves: string; sources: string[] } | undefined> =
  notes.features;

function mentions(r: OwnedRule, name: string): boolean {
  return [r.rule.when, r.rule.require].some((c) =>
    c !== undefined && conditionFeatures(c).includes(name)
  );
}

/**
 * Explains one catalog entry.
 *
 * @example
 * ```ts
 * import { explainFeature, featureCatalog, findFeature } from "@pvkit/cli";
 * const catalog = featureCatalog();
 * console.log(explainFeature(findFeature(catalog, "kvm-pv-eoi"), catalog).msrs);
 * ```
 */
export function explainFeature(
  entry: CatalogEntry,
  catalog: readonly CatalogEntry[],
): FeatureExplanation {
  const m = entry.manifest;
  const note = NOTES[m.name];
  const rules = allRules(catalog).filter((r) => r.owner === m.name || mentions(r, m.name));
  const lifecycle = m.removed ?? m.deprecated;
  return {
    name: m.name,
    origin: entry.origin,
    package: m.package,
    summary: shortSummary(m),
    qemu: m.qemu,
    cpuid: {
      leaf: hex32(m.cpuid.leaf),
      register: m.cpuid.register,
      bits: m.cpuid.bits,
      abiName: m.cpuid.abiName,
    },
    msrs: m.msrs.map((x) => ({ index: hex32(x.index), name: x.name })),
    hypercalls: m.hypercalls.map((h) => ({ nr: h.nr, name: h.name })),
    since: m.since,
    ...(lifecycle
      ? {
        status: `${
          m.removed ? "removed" : "deprecated"
        } since ${lifecycle.since}: ${lifecycle.reason}`,
      }
      : {}),
    rules: rules.map((r) => `${r.rule.level} ${r.rule.id}: ${ruleText(r)}`),
    linux: note?.linux ?? null,
    saves: note?.saves ?? null,
    sources: note?.sources ?? [],
  };
}

/**
 * Renders an explanation for people.
 *
 * @example
 * ```ts
 * import { explainFeature, featureCatalog, findFeature, renderExplanation } from "@pvkit/cli";
 * const catalog = featureCatalog();
 * console.log(renderExplanation(explainFeature(findFeature(catalog, "kvm-pv-ipi"), catalog)));
 * ```
 */
export function renderExplanation(e: FeatureExplanation): string {
  const row = (label: string, value: string) => `${label.padEnd(11)} ${value}`;
  const qemu = e.qemu.name === null
    ? "none (not a QEMU -cpu flag)"
    : e.qemu.name + (e.qemu.aliases.length ? ` (aliases: ${e.qemu.aliases.join(", ")})` : "");
  const lines = [
    `${bold(e.name)}: ${e.summary}`,
    "",
    row("package", `${e.package} (${e.origin})`),
    row("QEMU flag", qemu),
    row(
      "CPUID",
      `${e.cpuid.leaf} ${e.cpuid.register.toUpperCase()} bit ${
        e.cpuid.bits.join(", ")
      } (${e.cpuid.abiName})`,
    ),
    row("MSRs", e.msrs.map((x) => `${x.index} ${x.name}`).join(", ") || "none"),
    row("hypercalls", e.hypercalls.map((h) => `${h.nr} ${h.name}`).join(", ") || "none"),
    row(
      "since",
      [e.since.linux && `Linux ${e.since.linux}`, e.since.qemu && `QEMU ${e.since.qemu}`]
        .filter(Boolean).join(", ") || "unknown",
    ),
    ...(e.status ? [row("status", e.status)] : []),
    row("Linux", e.linux ?? "(pvkit has no note on what Linux does with it)"),
    row("saves", e.saves ?? "(unknown)"),
    ...(e.sources.length ? [row("sources", e.sources.join("; "))] : []),
  ];
  if (e.rules.length) lines.push("", bold("rules"), ...e.rules.map((r) => `  ${r}`));
  return lines.join("\n");
}

/**
 * Runs `pvkit explain FEATURE [--plugin FILE] [--json]`.
 *
 * @throws {PvkitError} for a missing or unknown feature, or a bad option
 * @example
 * ```ts
 * import { explainCommand } from "@pvkit/cli";
 * await explainCommand(["kvm-pv-eoi"], { out: console.log, err: console.error });
 * ```
 */
export async function explainCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const flags = parseFlags("explain", argv, { booleans: ["--json"], lists: ["--plugin"] });
  if (flags.positional.length !== 1) {
    throw new PvkitError(
      "bad-cli-option",
      flags.positional.length === 0
        ? "pvkit explain needs a feature name"
        : `pvkit explain takes one feature, not ${flags.positional.length}`,
      "run `pvkit features` for the list",
    );
  }
  const catalog = featureCatalog(await loadPluginFiles(flags.lists.get("--plugin")!));
  const explanation = explainFeature(findFeature(catalog, flags.positional[0]), catalog);
  io.out(flags.on.has("--json") ? JSON.stringify(explanation) : renderExplanation(explanation));
  return 0;
}
