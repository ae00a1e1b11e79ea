/**
 * The barrier-order check: barriers met in different orders by different vCPUs deadlock.
 *
 * @module
 */

import { type JsonAt, show } from "./_json.ts";
import type { ProbeVcpu } from "./types.ts";

interface Edge {
  readonly to: string;
  readonly at: JsonAt;
}

/**
 * Rejects barrier orders that deadlock: when the "barrier a comes before barrier b on some
 * vCPU" relation has a cycle, the vCPUs in it would wait for each other forever. The search
 * keeps its own stack, so a chain of any length is checked without recursion.
 */
export function checkBarrierOrder(vcpus: readonly ProbeVcpu[], at: JsonAt): void {
  // Edges between consecutive barriers of each vCPU suffice: precedence is transitive.
  const edges = new Map<string, Edge[]>();
  vcpus.forEach((vcpu, v) => {
    let previous: string | undefined;
    vcpu.steps.forEach((step, i) => {
      if (step.op !== "barrier") return;
      if (previous !== undefined) {
        const list = edges.get(previous) ?? [];
        list.push({ to: step.id, at: at.index(v).key("steps").index(i).key("id") });
        edges.set(previous, list);
      }
      previous = step.id;
    });
  });
  const state = new Map<string, "open" | "done">();
  for (const root of edges.keys()) {
    if (state.has(root)) continue;
    // The path from the root: each node with the index of its next edge to follow.
    const path: { node: string; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, "open");
    while (path.length > 0) {
      const top = path[path.length - 1];
      const out = edges.get(top.node) ?? [];
      if (top.next === out.length) {
        state.set(top.node, "done");
        path.pop();
        continue;
      }
      const edge = out[top.next++];
      const s = state.get(edge.to);
      if (s === "open") {
        const from = path.findIndex((p) => p.node === edge.to);
        const cycle = [...path.slice(from).map((p) => p.node), edge.to].map((b) => show(b));
        edge.at.fail(
          `barriers ${cycle.join(" → ")} are met in different orders by different vCPUs, ` +
            "so the vCPUs would wait for each other forever",
          "meet shared barriers in the same order on every vCPU",
        );
      }
      if (s === undefined) {
        state.set(edge.to, "open");
        path.push({ node: edge.to, next: 0 });
      }
    }
  }
}
