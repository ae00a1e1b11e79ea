/**
 * `pvkit rules [--graph text|dot|mermaid] [--json]`: every composition rule by owner, or the
 * graph of what requires what.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { atMostPositional, parseFlags } from "./cli_flags.ts";
import type { CliOutput } from "./cli_output.ts";
import { bold } from "./colors.ts";
import { featureCatalog } from "./feature_catalog.ts";
import { loadPluginFiles } from "./plugin_file.ts";
import { allRules, type OwnedRule, ruleEdges, ruleText } from "./rule_graph.ts";
import { GRAPH_FORMATS, renderRuleGraph } from "./rule_graph_render.ts";

/**
 * Renders rules grouped by owner: level, id, text and source.
 *
 * @example
 * ```ts
 * import { allRules, featureCatalog, renderRules } from "@pvkit/cli";
 * console.log(renderRules(allRules(featureCatalog())));
 * ```
 */
export function renderRules(rules: readonly OwnedRule[]): string {
  const lines: string[] = [];
  let owner = "";
  for (const r of rules) {
    if (r.owner !== owner) {
      owner = r.owner;
      lines.push(bold(owner));
    }
    lines.push(`  ${r.rule.level.padEnd(7)}  ${r.rule.id}: ${ruleText(r)}`);
    if (r.rule.source) lines.push(`           source: ${r.rule.source}`);
  }
  return lines.join("\n");
}

/**
 * Runs `pvkit rules`.
 *
 * @throws {PvkitError} for an unknown option or graph format
 * @example
 * ```ts
 * import { rulesCommand } from "@pvkit/cli";
 * await rulesCommand(["--graph", "mermaid"], { out: console.log, err: console.error });
 * ```
 */
export async function rulesCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const flags = parseFlags("rules", argv, {
    booleans: ["--json"],
    values: ["--graph"],
    lists: ["--plugin"],
  });
  atMostPositional("rules", flags.positional, 0);
  const graph = flags.values.get("--graph");
  if (graph !== undefined && !GRAPH_FORMATS.includes(graph)) {
    throw new PvkitError(
      "bad-cli-option",
      `--graph takes ${GRAPH_FORMATS.join(", ")}, not "${graph}"`,
    );
  }
  const rules = allRules(featureCatalog(await loadPluginFiles(flags.lists.get("--plugin")!)));
  const edges = ruleEdges(rules);
  if (flags.on.has("--json")) {
    io.out(JSON.stringify({
      rules: rules.map(({ owner, rule }) => ({ owner, ...rule })),
      edges,
    }));
  } else {
    io.out(graph === undefined ? renderRules(rules) : renderRuleGraph(edges, graph));
  }
  return 0;
}
