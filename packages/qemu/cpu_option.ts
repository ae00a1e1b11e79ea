/**
 * The `-cpu` grammar (QEMU's parse_cpu_option and x86_cpu_parse_featurestr,
 * QEMU target/i386/cpu.c): split once at the first comma into the model and the feature string,
 * then `strtok(",")` the features (empty items vanish).
 *
 * @module
 */

import { QemuOptionError } from "./option_error.ts";

/** One item of the feature string. */
export type CpuOptionItem =
  | { readonly kind: "plus" | "minus"; readonly name: string }
  | {
    readonly kind: "property";
    readonly name: string;
    readonly value: string;
    readonly written: string;
  };

/** A parsed `-cpu` option. */
export interface CpuOption {
  /** The model name, exactly as written. */
  readonly model: string;
  /** The feature items, in order. */
  readonly items: readonly CpuOptionItem[];
  /** QEMU's ambiguity warnings, in the order QEMU prints them. */
  readonly warnings: readonly string[];
}

/**
 * QEMU's `feat2prop`: a property name written with `_` becomes `-`.
 *
 * @example
 * ```ts
 * import { featureToProperty } from "@pvkit/qemu";
 * console.log(featureToProperty("kvm_pv_ipi")); // "kvm-pv-ipi"
 * ```
 */
export function featureToProperty(name: string): string {
  return name.replaceAll("_", "-");
}

/**
 * Parses a `-cpu` option string.
 *
 * - `+name` / `-name` are kept verbatim (no `_` conversion).
 * - `name=value` and bare `name` (= `on`) have `_` turned into `-`; `tsc-freq` becomes
 *   `tsc-frequency`.
 * - A `name=value` after a `+name`/`-name` with the same text warns that the string is
 *   ambiguous, then once that such strings won't stay compatible.
 *
 * @throws {QemuOptionError} `-cpu option cannot be empty` for an empty string
 * @example
 * ```ts
 * import { parseCpuOption } from "@pvkit/qemu";
 * const cpu = parseCpuOption("host,kvm_pv_eoi=off,+kvm-pv-ipi");
 * console.log(cpu.model, cpu.items.length); // host 2
 * ```
 */
export function parseCpuOption(text: string): CpuOption {
  if (text.length === 0) throw new QemuOptionError("-cpu option cannot be empty");
  const comma = text.indexOf(",");
  const model = comma < 0 ? text : text.slice(0, comma);
  const features = comma < 0 ? "" : text.slice(comma + 1);
  const items: CpuOptionItem[] = [];
  const warnings: string[] = [];
  const plus: string[] = [];
  const minus: string[] = [];
  let ambiguous = false;
  for (const item of features.split(",")) {
    if (item.length === 0) continue;
    if (item[0] === "+" || item[0] === "-") {
      const name = item.slice(1);
      (item[0] === "+" ? plus : minus).push(name);
      items.push({ kind: item[0] === "+" ? "plus" : "minus", name });
      continue;
    }
    const eq = item.indexOf("=");
    const rawName = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? "on" : item.slice(eq + 1);
    let name = featureToProperty(rawName);
    for (const [list, sign] of [[plus, "+"], [minus, "-"]] as const) {
      if (list.includes(name)) {
        warnings.push(
          `Ambiguous CPU model string. Don't mix both "${sign}${name}" and "${name}=${value}"`,
        );
        ambiguous = true;
      }
    }
    if (name === "tsc-freq") name = "tsc-frequency";
    items.push({ kind: "property", name, value, written: item });
  }
  if (ambiguous) {
    warnings.push(
      "Compatibility of ambiguous CPU model strings won't be kept on future QEMU versions",
    );
  }
  return { model, items, warnings };
}
