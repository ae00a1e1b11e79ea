/**
 * The human-readable form of `pvkit describe`: a coloured table of features followed by the
 * warnings and notes on stdout; for a machine that cannot be built, its errors (each followed by
 * the notes) for stderr.
 *
 * @module
 */

import type { ComposedMachine } from "@pvkit/machine";
import { hex32 } from "@pvkit/machine";
import { bold, cyan, dim, green, red, stderrRed, stripColors, yellow } from "./colors.ts";
import { groupSimilarNotes } from "./note_groups.ts";

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - stripColors(text).length));
}

function governs(machine: ComposedMachine, name: string): string {
  const m = machine.registry.lookup(name)?.manifest;
  if (!m) return "";
  const msrs = m.msrs.map((x) => `MSR ${hex32(x.index).replace(/^0x0+(?=.)/, "0x")}`);
  const hcs = m.hypercalls.map((h) => `HC ${h.nr} ${h.name.replace("KVM_HC_", "")}`);
  return [...msrs, ...hcs].join(", ");
}

/**
 * True when composition stopped before a machine existed (a bad option, an unknown model or
 * host): there is no table to show, only the errors.
 *
 * @example
 * ```ts
 * import { composedNothing } from "@pvkit/cli";
 * import { compose } from "@pvkit/pvkit";
 * console.log(composedNothing(compose({ cpu: "nosuch", host: "linux-6.12" }))); // true
 * ```
 */
export function composedNothing(machine: ComposedMachine): boolean {
  return machine.errors.length > 0 && machine.features.length === 0;
}

/**
 * Renders a composed machine as text for stdout: the header, the KVM leaves, the feature
 * table, and (for a machine that was built) the warnings and notes. Nothing when
 * {@linkcode composedNothing}.
 *
 * @example
 * ```ts
 * import { renderDescription } from "@pvkit/cli";
 * import { compose } from "@pvkit/pvkit";
 * console.log(renderDescription(compose({ host: "linux-6.12" })));
 * ```
 */
export function renderDescription(machine: ComposedMachine): string {
  if (composedNothing(machine)) return "";
  const lines: string[] = [];
  const m = machine.machine;
  lines.push(
    `${bold("machine")} ${m.type}  irqchip=${m.irqchip}  x2apic=${m.x2apic ? "on" : "off"}  ` +
      `smp=${m.smp}  ${bold("cpu")} ${machine.model}  ${bold("host")} ${machine.profile}  ` +
      `${bold("rules")} ${machine.rules}`,
  );
  const leaves = Object.entries(machine.leaves);
  if (leaves.length === 0) lines.push(dim("KVM leaves: none (the guest sees no KVM signature)"));
  for (const [leaf, r] of leaves) {
    lines.push(`CPUID ${leaf}: eax=${r.eax} ebx=${r.ebx} ecx=${r.ecx} edx=${r.edx}`);
  }
  if (machine.features.length > 0) {
    const rows = machine.features.map((f) => [
      f.name,
      f.bits,
      f.enabled ? green("on") : red("off"),
      f.source,
      governs(machine, f.name),
    ]);
    const header = ["feature", "bits", "state", "why", "governs"];
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => stripColors(r[i]).length))
    );
    lines.push("");
    lines.push(bold(header.map((h, i) => pad(h, widths[i])).join("  ").trimEnd()));
    for (const row of rows) lines.push(row.map((c, i) => pad(c, widths[i])).join("  ").trimEnd());
  }
  if (machine.filtered.length > 0) lines.push("", `filtered: ${machine.filtered.join(", ")}`);
  if (!machine.ok) return lines.join("\n");
  const section = (label: string, paint: (s: string) => string, items: readonly string[]) => {
    if (items.length === 0) return;
    lines.push("");
    for (const item of items) lines.push(`${paint(label)} ${item}`);
  };
  section("warning:", yellow, machine.warnings);
  section("note:", cyan, groupSimilarNotes(machine.notes));
  return lines.join("\n");
}

/**
 * The diagnostics of a machine that cannot be built, for stderr: each error, then the warnings,
 * then the notes (a did-you-mean follows the error it answers). Empty when the machine is ok.
 *
 * @example
 * ```ts
 * import { renderFailure } from "@pvkit/cli";
 * import { compose } from "@pvkit/pvkit";
 * console.log(renderFailure(compose({ cpu: "hots", host: "linux-6.12" })));
 * // error: unable to find CPU model 'hots'
 * // note: did you mean "host"?
 * ```
 */
export function renderFailure(machine: ComposedMachine): string {
  if (machine.ok) return "";
  return [
    ...machine.errors.map((e) => `${stderrRed("error:")} ${e}`),
    ...machine.warnings.map((w) => `warning: ${w}`),
    ...groupSimilarNotes(machine.notes).map((n) => `note: ${n}`),
  ].join("\n");
}
