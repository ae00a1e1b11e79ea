/**
 * Did-you-mean hints for misspelt ops and field names (the probe package imports no other
 * pvkit library than the core, so it keeps its own small copy).
 *
 * @module
 */

/** Edit distance counting an adjacent transposition as one edit (`mrs` → `msr` is 1). */
function distance(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** Normalises case and separators: `wait_irq`, `WaitIrq` and `wait-irq` compare equal. */
function normal(word: string): string {
  return word.toLowerCase().replaceAll(/[-_]/g, "");
}

/**
 * `did you mean "x"?` for the closest candidates (within a third of the word's length in
 * edits, ignoring case, `-` and `_`), or undefined when nothing is close.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const w = normal(word);
  const budget = Math.max(1, Math.floor(w.length / 3));
  const scored: [number, string][] = [];
  for (const candidate of new Set(candidates)) {
    const c = normal(candidate);
    if (Math.abs(c.length - w.length) > budget) continue;
    const d = distance(w, c);
    if (d <= budget) scored.push([d, candidate]);
  }
  if (scored.length === 0) return undefined;
  scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
  return `did you mean ${scored.slice(0, 3).map(([, c]) => `"${c}"`).join(" or ")}?`;
}
