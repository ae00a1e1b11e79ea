/**
 * The `--flag` grammar every pvkit subcommand shares: `--flag value`, `--flag=value`, boolean
 * flags with an optional `=true|false`, `--` ending the options, and an error naming the
 * subcommand (with a did-you-mean) for anything unknown.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { didYouMean } from "@pvkit/qemu";

/** The flags one subcommand accepts. */
export interface FlagSpec {
  /** Flags that are on or off (`--json`, `--json=false`). */
  readonly booleans?: readonly string[];
  /** Flags that take one value; the last one given wins. */
  readonly values?: readonly string[];
  /** Flags that take a value and may repeat (`--plugin A --plugin B`). */
  readonly lists?: readonly string[];
}

/** What {@linkcode parseFlags} found. */
export interface ParsedFlags {
  /** Boolean flags that ended up on. */
  readonly on: ReadonlySet<string>;
  /** Single-value flags. */
  readonly values: ReadonlyMap<string, string>;
  /** Repeatable flags, in order. */
  readonly lists: ReadonlyMap<string, readonly string[]>;
  /** Everything that is not an option. */
  readonly positional: readonly string[];
}

/**
 * The value of a boolean flag given as `--flag=VALUE`: `true`/`on`/`yes`/`1` or
 * `false`/`off`/`no`/`0`.
 *
 * @throws {PvkitError} (`bad-cli-option`) for anything else
 * @example
 * ```ts
 * import { booleanFlagValue } from "@pvkit/cli";
 * console.log(booleanFlagValue("--json", "false")); // false
 * ```
 */
export function booleanFlagValue(flag: string, value: string): boolean {
  const v = value.toLowerCase();
  if (["true", "on", "yes", "1"].includes(v)) return true;
  if (["false", "off", "no", "0"].includes(v)) return false;
  throw new PvkitError("bad-cli-option", `${flag} takes true or false, not "${value}"`);
}

/**
 * The error for an option `command` does not have, with the closest known one.
 *
 * @example
 * ```ts
 * import { unknownOption } from "@pvkit/cli";
 * console.log(unknownOption("probe", "--jsn", ["--json"]).hint); // did you mean "--json"?
 * ```
 */
export function unknownOption(command: string, flag: string, known: readonly string[]): PvkitError {
  return new PvkitError(
    "bad-cli-option",
    `unknown option ${flag}`,
    didYouMean(flag, known) ?? `see \`pvkit ${command} --help\``,
  );
}

/**
 * Parses a subcommand's arguments.
 *
 * @throws {PvkitError} (`bad-cli-option`) for an unknown flag, a missing value, or a value on
 * a boolean flag that is not true/false
 * @example
 * ```ts
 * import { parseFlags } from "@pvkit/cli";
 * const f = parseFlags("probe", ["a.json", "--json=false", "--backend", "emu"], {
 *   booleans: ["--json"],
 *   values: ["--backend"],
 * });
 * console.log(f.on.has("--json"), f.values.get("--backend"), f.positional); // false emu ["a.json"]
 * ```
 */
export function parseFlags(
  command: string,
  argv: readonly string[],
  spec: FlagSpec,
): ParsedFlags {
  const booleans = spec.booleans ?? [];
  const values = spec.values ?? [];
  const lists = spec.lists ?? [];
  const on = new Set<string>();
  const found = new Map<string, string>();
  const listed = new Map<string, string[]>(lists.map((l) => [l, []]));
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (booleans.includes(flag)) {
      if (inline === undefined || booleanFlagValue(flag, inline)) on.add(flag);
      else on.delete(flag);
      continue;
    }
    if (!values.includes(flag) && !lists.includes(flag)) {
      throw unknownOption(command, flag, [...booleans, ...values, ...lists]);
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      throw new PvkitError("bad-cli-option", `option ${flag} needs a value`);
    }
    if (lists.includes(flag)) listed.get(flag)!.push(value);
    else found.set(flag, value);
  }
  return { on, values: found, lists: listed, positional };
}

/**
 * Refuses positional arguments beyond `max`.
 *
 * @throws {PvkitError} (`bad-cli-option`) naming the first extra argument
 * @example
 * ```ts
 * import { atMostPositional } from "@pvkit/cli";
 * atMostPositional("features", [], 0);
 * ```
 */
export function atMostPositional(
  command: string,
  positional: readonly string[],
  max: number,
): void {
  if (positional.length > max) {
    throw new PvkitError(
      "bad-cli-option",
      `unexpected argument "${positional[max]}"`,
      `see \`pvkit ${command} --help\``,
    );
  }
}
