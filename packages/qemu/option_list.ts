/**
 * QEMU's `key=value,key=value` option lists with an implied first key
 * (`-machine q35,...` means `type=q35`, `-smp 4` means `cpus=4`, `-accel kvm` means
 * `accel=kvm`).
 *
 * @module
 */

/** One `key=value` pair, in order; a bare item after the first becomes `key=on`. */
export interface OptionPair {
  /** The key. */
  readonly key: string;
  /** The value. */
  readonly value: string;
}

/**
 * Splits an option list. Empty items are skipped; the first item without `=` is the value of
 * `impliedKey`.
 *
 * @example
 * ```ts
 * import { parseOptionList } from "@pvkit/qemu";
 * console.log(parseOptionList("q35,kernel-irqchip=split", "type"));
 * // [{ key: "type", value: "q35" }, { key: "kernel-irqchip", value: "split" }]
 * ```
 */
export function parseOptionList(text: string, impliedKey: string): OptionPair[] {
  const out: OptionPair[] = [];
  text.split(",").forEach((item, index) => {
    if (item.length === 0) return;
    const eq = item.indexOf("=");
    if (eq < 0) {
      out.push(index === 0 ? { key: impliedKey, value: item } : { key: item, value: "on" });
    } else {
      out.push({ key: item.slice(0, eq), value: item.slice(eq + 1) });
    }
  });
  return out;
}
