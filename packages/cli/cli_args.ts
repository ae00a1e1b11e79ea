/**
 * Command-line parsing for `pvkit`: QEMU's single-dash options (`-cpu`, `-machine`, `-smp`,
 * `-accel`) next to pvkit's own (`--host`, `--rules`, `--json`, `--qemu-version`).
 *
 * @module
 */

import { PvkitError, type RulesMode } from "@pvkit/machine";
import { QEMU_VERSIONS, type QemuVersion } from "@pvkit/qemu";
import { booleanFlagValue, unknownOption } from "./cli_flags.ts";

/** The options of `pvkit describe` (and of the commands that compose a machine). */
export interface DescribeArgs {
  /** `-cpu`. */
  cpu?: string;
  /** `-machine` / `-M`. */
  machine?: string;
  /** `-smp`. */
  smp?: string;
  /** `-accel`. */
  accel?: string;
  /** `--host`. */
  host?: string;
  /** `--rules`. */
  rules: RulesMode;
  /** `--qemu-version`. */
  qemuVersion: QemuVersion;
  /** `--json` (`--json=false` turns it off). */
  json: boolean;
  /** `--plugin FILE`, in order. */
  plugins: string[];
  /** Arguments that are not options. */
  positional: string[];
}

const VALUE_OPTIONS = new Map<string, keyof DescribeArgs>([
  ["-cpu", "cpu"],
  ["-machine", "machine"],
  ["-M", "machine"],
  ["-smp", "smp"],
  ["-accel", "accel"],
  ["--host", "host"],
  ["--rules", "rules"],
  ["--qemu-version", "qemuVersion"],
  ["--plugin", "plugins"],
]);

const KNOWN = [...VALUE_OPTIONS.keys(), "--json", "-enable-kvm"];

/**
 * Parses the arguments after the command name. `-opt value` and `-opt=value` (and `--opt`)
 * are accepted; `-enable-kvm` means `-accel kvm`; `--json=false` turns JSON off. `command`
 * names the subcommand in errors.
 *
 * @throws {PvkitError} for an unknown option, a missing value or a bad `--rules`
 * @example
 * ```ts
 * import { parseDescribeArgs } from "@pvkit/cli";
 * const args = parseDescribeArgs(["-cpu", "host", "--rules=qemu", "--json"]);
 * console.log(args.cpu, args.rules, args.json); // host qemu true
 * ```
 */
export function parseDescribeArgs(
  argv: readonly string[],
  command = "describe",
): DescribeArgs {
  const out: DescribeArgs = {
    rules: "strict",
    qemuVersion: "current",
    json: false,
    plugins: [],
    positional: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("-") || arg === "-") {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const normalized = flag.startsWith("--") && VALUE_OPTIONS.has(flag.slice(1))
      ? flag.slice(1)
      : flag;
    if (normalized === "--json") {
      out.json = eq > 0 ? booleanFlagValue(flag, arg.slice(eq + 1)) : true;
      continue;
    }
    if (normalized === "-enable-kvm" || normalized === "--enable-kvm") {
      out.accel = "kvm";
      continue;
    }
    const key = VALUE_OPTIONS.get(normalized);
    if (!key) throw unknownOption(command, flag, KNOWN);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new PvkitError("bad-cli-option", `option ${flag} needs a value`);
    if (key === "plugins") {
      out.plugins.push(value);
    } else if (key === "rules") {
      if (value !== "strict" && value !== "qemu") {
        throw new PvkitError("bad-cli-option", `--rules takes strict or qemu, not "${value}"`);
      }
      out.rules = value;
    } else if (key === "qemuVersion") {
      if (!QEMU_VERSIONS.includes(value as QemuVersion)) {
        throw new PvkitError(
          "bad-cli-option",
          `--qemu-version takes ${QEMU_VERSIONS.join(" or ")}, not "${value}"`,
        );
      }
      out.qemuVersion = value as QemuVersion;
    } else {
      (out as unknown as Record<string, string>)[key] = value;
    }
  }
  return out;
}
