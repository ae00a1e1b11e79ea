/**
 * Walking untrusted JSON with a path: every check that fails throws a {@linkcode ProbeError}
 * naming the source and the JSON path of the value.
 *
 * @module
 */

import { didYouMean } from "./_did_you_mean.ts";
import { ProbeError } from "./errors.ts";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A position in a JSON document: the source name and a JSONPath such as `$.vcpus[0].steps`. */
export class JsonAt {
  constructor(readonly source: string, readonly path: string) {}

  /** The position of an object member. */
  key(name: string): JsonAt {
    const step = IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
    return new JsonAt(this.source, this.path + step);
  }

  /** The position of an array element. */
  index(i: number): JsonAt {
    return new JsonAt(this.source, `${this.path}[${i}]`);
  }

  /** Throws the {@linkcode ProbeError} for `problem` at this position. */
  fail(problem: string, hint?: string | (() => string | undefined)): never {
    throw new ProbeError(this.source, this.path, problem, hint);
  }
}

/** A JSON value as it appears in an error message, shortened when long. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number") return String(value); // NaN and Infinity are not JSON
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Requires a JSON object (not an array, not null). */
export function object(value: unknown, at: JsonAt, what = "an object"): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    at.fail(`${show(value)} is not ${what}`);
  }
  return value as Record<string, unknown>;
}

/** An own member of a parsed JSON object (never one inherited from `Object.prototype`). */
export function member(obj: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

/**
 * Rejects members not in `known`. `aliases` maps a likely confusion to the member meant
 * (`value` → `ret` on a hypercall) when edit distance would not find it.
 */
export function onlyKnown(
  obj: Record<string, unknown>,
  at: JsonAt,
  known: readonly string[],
  what: string,
  aliases: Readonly<Record<string, string>> = {},
): void {
  for (const name of Object.keys(obj)) {
    if (known.includes(name)) continue;
    const alias = Object.hasOwn(aliases, name) ? aliases[name] : undefined;
    at.key(name).fail(
      `is not a field of ${what}`,
      () =>
        (alias !== undefined ? `did you mean "${alias}"?` : didYouMean(name, known)) ??
          (known.length === 0 ? `${what} has no fields to set` : `known: ${known.join(", ")}`),
    );
  }
}

/** Requires a member to be present. */
export function required(
  obj: Record<string, unknown>,
  at: JsonAt,
  name: string,
  what: string,
): unknown {
  const value = member(obj, name);
  if (value === undefined) at.key(name).fail(`is required (${what})`);
  return value;
}

/** Requires a non-empty string. */
export function string(value: unknown, at: JsonAt): string {
  if (typeof value !== "string" || value.length === 0) {
    at.fail(`${show(value)} is not a non-empty string`);
  }
  return value;
}

/** Requires `true` or `false`. */
export function boolean(value: unknown, at: JsonAt): boolean {
  if (typeof value !== "boolean") at.fail(`${show(value)} is not true or false`);
  return value;
}

/** Requires a JSON array. */
export function array(value: unknown, at: JsonAt): unknown[] {
  if (!Array.isArray(value)) at.fail(`${show(value)} is not an array`);
  return value;
}
