/**
 * Error types shared by every pvkit package.
 *
 * A user mistake (a malformed option, an impossible composition, a bad probe file) is always a
 * {@linkcode PvkitError}: the CLI prints its message and exits with status 2, never a stack trace.
 *
 * @module
 */

/**
 * The base class of every error pvkit raises for a user mistake.
 *
 * `code` is a stable machine-readable identifier; `hint`, when present, says how to fix it.
 *
 * @example
 * ```ts
 * import { PvkitError } from "@pvkit/machine";
 * const e = new PvkitError("bad-option", "unknown flag", "see `pvkit cpu-help`");
 * console.log(e.code, e.hint);
 * ```
 */
export class PvkitError extends Error {
  /** A stable identifier for the kind of mistake, e.g. `"unknown-feature"`. */
  readonly code: string;
  #hint: string | (() => string | undefined) | undefined;

  /**
   * Creates an error with a code, a message and an optional fix. The fix may be a function,
   * evaluated the first time it is read (did-you-mean searches cost more than the error).
   */
  constructor(code: string, message: string, hint?: string | (() => string | undefined)) {
    super(message);
    this.name = "PvkitError";
    this.code = code;
    this.#hint = hint;
  }

  /** How to fix the mistake, when pvkit knows. */
  get hint(): string | undefined {
    if (typeof this.#hint === "function") this.#hint = this.#hint();
    return this.#hint;
  }
}

/**
 * A guest-physical access outside guest RAM, or with a size the accessor does not support.
 *
 * @example
 * ```ts
 * import { GuestMemoryError } from "@pvkit/machine";
 * const e = new GuestMemoryError(0x1000n, 8, 0x1000);
 * console.log(e.message);
 * ```
 */
export class GuestMemoryError extends PvkitError {
  /** The first guest-physical address of the access. */
  readonly gpa: bigint;
  /** The access length in bytes. */
  readonly length: number;

  /** Creates the error for an access of `length` bytes at `gpa` in a RAM of `ramSize` bytes. */
  constructor(gpa: bigint, length: number, ramSize: number) {
    super(
      "gpa-out-of-range",
      `guest-physical access of ${length} byte(s) at 0x${gpa.toString(16)} ` +
        `is outside guest RAM (0x0-0x${Math.max(ramSize - 1, 0).toString(16)})`,
      "use an address inside the machine's memory, or give the machine more memory",
    );
    this.name = "GuestMemoryError";
    this.gpa = gpa;
    this.length = length;
  }
}

/**
 * A plugin manifest that does not follow the manifest schema, or a registration that clashes
 * with another plugin (same name, alias or CPUID bit).
 *
 * @example
 * ```ts
 * import { ManifestError } from "@pvkit/machine";
 * console.log(new ManifestError("$.name", "must be a string").message);
 * ```
 */
export class ManifestError extends PvkitError {
  /** The JSON path of the offending value, e.g. `$.cpuid.bits[0]`. */
  readonly path: string;

  /** Creates the error for the value at `path`. */
  constructor(path: string, problem: string, hint?: string) {
    super("bad-manifest", `plugin manifest ${path}: ${problem}`, hint);
    this.name = "ManifestError";
    this.path = path;
  }
}

/**
 * A plugin's code threw: while it created its hooks, or in one of them while a machine ran.
 * The message names the plugin and the hook; `cause` holds what it threw.
 *
 * @example
 * ```ts
 * import { PluginHookError } from "@pvkit/machine";
 * const e = new PluginHookError("acme-doorbell", "hypercalls.call", new Error("boom"));
 * console.log(e.message); // plugin acme-doorbell failed in hypercalls.call: boom
 * ```
 */
export class PluginHookError extends PvkitError {
  /** The plugin's feature name. */
  readonly plugin: string;
  /** The hook that threw, e.g. `"lifecycle.onEntry"` or `"createHooks"`. */
  readonly hook: string;

  /** Creates the error for `thrown`, raised by `plugin` in `hook`. */
  constructor(plugin: string, hook: string, thrown: unknown) {
    super(
      "plugin-failed",
      `plugin ${plugin} failed in ${hook}: ${
        thrown instanceof Error ? thrown.message : String(thrown)
      }`,
      `this is a bug in the plugin ${plugin}; report it to its authors, or leave the plugin out`,
    );
    this.name = "PluginHookError";
    this.plugin = plugin;
    this.hook = hook;
    this.cause = thrown;
  }
}
