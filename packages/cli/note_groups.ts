/**
 * Notes that differ only in the feature they name (four "has no effect with one possible vCPU"
 * notes for `-cpu host`) read better as one note listing the features.
 *
 * @module
 */

/** The feature a note is about: its first word, when that looks like a feature name. */
function subject(note: string): string | undefined {
  const word = /^([a-z0-9]+(?:-[a-z0-9]+)+)\b/.exec(note)?.[1];
  return word;
}

/**
 * Merges notes that are the same text about different features, keeping the first one's
 * place: `A has no effect … drop A` and `B has no effect … drop B` become
 * `A, B: each has no effect … drop <feature>`.
 *
 * @example
 * ```ts
 * import { groupSimilarNotes } from "@pvkit/cli";
 * console.log(groupSimilarNotes(["kvm-a is odd [rule kvm-a/x]", "kvm-b is odd [rule kvm-b/x]"]));
 * // ["kvm-a, kvm-b: each is odd [rule <feature>/x]"]
 * ```
 */
export function groupSimilarNotes(notes: readonly string[]): string[] {
  const groups = new Map<string, { index: number; names: string[] }>();
  const out: (string | { template: string })[] = [];
  for (const note of notes) {
    const name = subject(note);
    if (name === undefined) {
      out.push(note);
      continue;
    }
    const template = note.replaceAll(name, "<feature>");
    const group = groups.get(template);
    if (group) {
      group.names.push(name);
      continue;
    }
    groups.set(template, { index: out.length, names: [name] });
    out.push({ template });
  }
  return out.map((item) => {
    if (typeof item === "string") return item;
    const { names } = groups.get(item.template)!;
    if (names.length === 1) return item.template.replaceAll("<feature>", names[0]);
    return `${names.join(", ")}: each${item.template.slice("<feature>".length)}`;
  });
}
