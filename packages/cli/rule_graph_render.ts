/**
 * The rule graph as text, Graphviz DOT or a Mermaid flowchart.
 *
 * @module
 */

import type { RuleEdge } from "./rule_graph.ts";

/**
 * The formats `pvkit rules --graph` prints.
 *
 * @example
 * ```ts
 * import { GRAPH_FORMATS } from "@pvkit/cli";
 * console.log(GRAPH_FORMATS.join(", ")); // text, dot, mermaid
 * ```
 */
export const GRAPH_FORMATS: readonly string[] = ["text", "dot", "mermaid"];

const quote = (s: string) => JSON.stringify(s);
const mermaidId = (s: string) => s.replace(/[^A-Za-z0-9]/g, "_");

/**
 * Renders edges in one of {@linkcode GRAPH_FORMATS}.
 *
 * @example
 * ```ts
 * import { renderRuleGraph } from "@pvkit/cli";
 * const edges = [{ from: "a", to: "b", kind: "requires" as const, rule: "a/b" }];
 * console.log(renderRuleGraph(edges, "dot"));
 * ```
 */
export function renderRuleGraph(edges: readonly RuleEdge[], format: string): string {
  if (format === "dot") {
    return [
      "digraph pvkit_rules {",
      "  rankdir=LR;",
      ...edges.map((e) =>
        `  ${quote(e.from)} -> ${quote(e.to)} [label=${quote(e.kind)}${
          e.kind === "requires" ? "" : ", style=dashed"
        }, tooltip=${quote(e.rule)}];`
      ),
      "}",
    ].join("\n");
  }
  if (format === "mermaid") {
    const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
    return [
      "flowchart LR",
      ...nodes.map((n) => `  ${mermaidId(n)}[${quote(n)}]`),
      ...edges.map((e) =>
        `  ${mermaidId(e.from)} ${e.kind === "requires" ? "-->" : "-.->"}|${e.kind}| ${
          mermaidId(e.to)
        }`
      ),
    ].join("\n");
  }
  return edges.map((e) => `${e.from} --${e.kind}--> ${e.to}  [${e.rule}]`).join("\n");
}
