/**
 * `pvkit describe`: what a QEMU command line gives a guest. `-cpu help` and `-machine help`
 * list the models and machine types, as QEMU's do.
 *
 * @module
 */

import { compose, optionalPluginsNamedIn } from "@pvkit/pvkit";
import { parseDescribeArgs } from "./cli_args.ts";
import { atMostPositional } from "./cli_flags.ts";
import type { CliOutput } from "./cli_output.ts";
import { cpuHelpText } from "./cpu_help_text.ts";
import { renderDescription, renderFailure } from "./describe_table.ts";
import { machineTypesText } from "./machine_types.ts";
import { loadPluginFiles } from "./plugin_file.ts";

const isHelp = (value: string | undefined) => value === "help" || value === "?";

/**
 * Runs `pvkit describe` (the arguments after `describe`). The result goes to stdout (text or
 * `--json`); when the machine cannot be built its errors also go to stderr and the status is 2.
 *
 * @throws {PvkitError} for a bad command line (unknown option, unloadable `--plugin`)
 * @example
 * ```ts
 * import { describeCommand } from "@pvkit/cli";
 * const status = await describeCommand(["-cpu", "host", "--host", "linux-6.12"], {
 *   out: console.log,
 *   err: console.error,
 * });
 * console.log(status); // 0
 * ```
 */
export async function describeCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const args = parseDescribeArgs(argv);
  atMostPositional("describe", args.positional, 0);
  if (isHelp(args.cpu)) {
    io.out(cpuHelpText(args.qemuVersion).trimEnd());
    return 0;
  }
  if (isHelp(args.machine)) {
    io.out(machineTypesText(args.qemuVersion));
    return 0;
  }
  // Naming an opt-in plugin on -cpu asks for it; QEMU itself knows none of them.
  const optional = args.rules === "strict" && args.cpu ? optionalPluginsNamedIn(args.cpu) : [];
  const machine = compose({
    ...(args.cpu !== undefined ? { cpu: args.cpu } : {}),
    ...(args.machine !== undefined ? { machine: args.machine } : {}),
    ...(args.smp !== undefined ? { smp: args.smp } : {}),
    ...(args.accel !== undefined ? { accel: args.accel } : {}),
    ...(args.host !== undefined ? { host: args.host } : {}),
    plugins: [...optional, ...await loadPluginFiles(args.plugins)],
    rules: args.rules,
    qemuVersion: args.qemuVersion,
  });
  const text = args.json ? JSON.stringify(machine) : renderDescription(machine);
  if (text) io.out(text);
  const failure = renderFailure(machine);
  if (failure) io.err(failure);
  return machine.ok ? 0 : 2;
}
