/**
 * Did-you-mean suggestions for misspelt flag, model and machine names.
 *
 * @module
 */

/**
 * Edit distance where swapping two adjacent letters counts as one edit (the optimal string
 * alignment variant of Damerau-Levenshtein), so `hots` is one edit from `host`.
 */
function distance(a: string, b: string): number {
  // Three rows (i-2, i-1, i): memory stays O(|b|) however long the typed word is.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j], before[j - 2] + 1);
      }
    }
    before = previous;
    previous = row;
  }
  return previous[b.length];
}

/**
 * The closest candidates to `word` (at most `limit`), or none when nothing is close: a
 * candidate qualifies within a third of the word's length in edits, or when one contains the
 * other.
 *
 * @example
 * ```ts
 * import { suggest } from "@pvkit/qemu";
 * console.log(suggest("kvm-pv-ip", ["kvm-pv-ipi", "kvm-pv-eoi", "x2apic"])); // ["kvm-pv-ipi"]
 * ```
 */
export function suggest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const normal = word.toLowerCase().replaceAll("_", "-");
  const budget = Math.max(1, Math.floor(normal.length / 3));
  const scored: [number, string][] = [];
  for (const candidate of new Set(candidates)) {
    const c = candidate.toLowerCase();
    const contains = c.length >= 5 && normal.length >= 5 &&
      (c.includes(normal) || normal.includes(c));
    if (!contains && Math.abs(c.length - normal.length) > budget) continue;
    const d = distance(normal, c);
    if (d <= budget || contains) {
      scored.push([d, candidate]);
    }
  }
  scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
  return scored.slice(0, limit).map(([, c]) => c);
}

/**
 * Formats suggestions as a hint, or `undefined` when there are none.
 *
 * @example
 * ```ts
 * import { didYouMean } from "@pvkit/qemu";
 * console.log(didYouMean("kvmclok", ["kvmclock"])); // did you mean "kvmclock"?
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const found = suggest(word, candidates);
  if (found.length === 0) return undefined;
  return `did you mean ${found.map((f) => `"${f}"`).join(" or ")}?`;
}
