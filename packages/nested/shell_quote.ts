/**
 * Quotes a word for a POSIX shell (busybox ash in the guest): single quotes, with each `'` written
 * as `'\''`.
 *
 * @example
 * ```ts
 * import { shellQuote } from "@pvkit/nested";
 * console.log(shellQuote("it's")); // "'it'\\''s'"
 * ```
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
