/**
 * The `pvkit` command: dispatch, output and exit codes. A user mistake prints its message and
 * exits with 2 (never a stack trace).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { parseDescribeArgs } from "./cli_args.ts";
import { atMostPositional, parseFlags } from "./cli_flags.ts";
import { type CliOutput, processOutput } from "./cli_output.ts";
import { bold, stderrRed } from "./colors.ts";
import { COMMAND_HELP, commandHelp, unknownCommand, USAGE } from "./command_help.ts";
import { cpuHelpText } from "./cpu_help_text.ts";
import { describeCommand } from "./describe_command.ts";
import { explainCommand } from "./explain_command.ts";
import { featuresCommand } from "./features_command.ts";
import { loadPluginFiles } from "./plugin_file.ts";
import { probeBackend, renderProbeReports, runProbeFiles } from "./probe_command.ts";
import { rulesCommand } from "./rules_command.ts";
import { versionText } from "./version.ts";
import { doctorCommand } from "./doctor_command.ts";
import { benchCommand } from "./bench_command.ts";
import { nestedCommand } from "./nested_command.ts";
import { bootCommand } from "./boot_command.ts";
import { demoLinuxCommand } from "./demo_linux_command.ts";
import { renderFeatureTable, runFeatureProbes } from "./feature_table.ts";
import { diffProbeFiles, renderDiff } from "./diff_command.ts";
import { EmuProbeBackend } from "@pvkit/emu";
import { probeKvm } from "@pvkit/kvm";
import { optionalPlugins } from "@pvkit/pvkit";
import type { ProbeRunOptions } from "@pvkit/probe";
import { positiveIntegerOption } from "./integer_option.ts";

export type { CliOutput } from "./cli_output.ts";
export { processOutput } from "./cli_output.ts";

/** The demo's watchdog per vCPU on KVM, in ms. */
const DEMO_VCPU_TIMEOUT_MS = 2000;

async function demo(argv: readonly string[], io: CliOutput): Promise<number> {
  if (argv[0] === "linux") return await demoLinuxCommand(argv.slice(1), io);
  atMostPositional("demo", parseFlags("demo", argv, {}).positional, 0);
  io.out(bold("pvkit demo: the default machine (QEMU defaults: -cpu qemu64 -machine pc -smp 1)"));
  io.out(`${bold("$")} pvkit describe\n`);
  let status = await describeCommand([], io);
  io.out(`\n${bold("$")} pvkit describe -cpu host -machine q35,kernel-irqchip=split -smp 4\n`);
  await describeCommand(["-cpu", "host", "-machine", "q35,kernel-irqchip=split", "-smp", "4"], io);
  io.out(
    `\n${
      bold("Built-in probes on the emulated backend")
    } (pure TypeScript, KVM's host semantics)\n`,
  );
  const rows = await runFeatureProbes(new EmuProbeBackend({ plugins: optionalPlugins }));
  io.out(renderFeatureTable(rows));
  if (rows.some((r) => !r.passed)) status = 1;
  const kvm = probeKvm();
  if (!kvm.usable) {
    io.out(
      `\nThe same probes on KVM: skipped (/dev/kvm unusable: ${kvm.reason}); for a real KVM ` +
        "on this machine: deno task pvkit nested -- deno task demo",
    );
    return status;
  }
  io.out(
    `\n${bold("The same probes on this host's KVM")} (/dev/kvm, probes compiled to guest code)\n`,
  );
  // A shorter watchdog than the default: on hosts where hypercalls hang, the PV-unhalt probe's
  // halted vCPU can never be woken, and the demo should not sit out the full 5 s for it.
  const kvmRows = await runFeatureProbes(probeBackend("kvm"), { timeoutMs: DEMO_VCPU_TIMEOUT_MS });
  io.out(renderFeatureTable(kvmRows));
  if (kvmRows.some((r) => !r.passed)) status = 1;
  return status;
}

/** `FILE... [--json] [--timeout MS] [--plugin FILE]` (and `--backend B`, `--full` for probe). */
async function probeFileArgs(argv: readonly string[], command: "probe" | "diff") {
  const flags = parseFlags(command, argv, {
    booleans: command === "probe" ? ["--json", "--full"] : ["--json"],
    values: command === "probe" ? ["--backend", "--timeout"] : ["--timeout"],
    lists: ["--plugin"],
  });
  if (flags.positional.length === 0) {
    throw new PvkitError(
      "bad-cli-option",
      `pvkit ${command} needs at least one probe file`,
      `see \`pvkit ${command} --help\``,
    );
  }
  const timeout = flags.values.get("--timeout");
  const options: ProbeRunOptions = timeout !== undefined
    ? { timeoutMs: positiveIntegerOption("--timeout", timeout) }
    : {};
  return {
    backend: flags.values.get("--backend") ?? "emu",
    json: flags.on.has("--json"),
    full: flags.on.has("--full"),
    files: flags.positional,
    options,
    plugins: await loadPluginFiles(flags.lists.get("--plugin")!),
  };
}

async function diff(argv: readonly string[], io: CliOutput): Promise<number> {
  const { json, files, options, plugins } = await probeFileArgs(argv, "diff");
  const { text, status } = renderDiff(await diffProbeFiles(files, options, plugins), json);
  io.out(text);
  return status;
}

async function probe(argv: readonly string[], io: CliOutput): Promise<number> {
  const { backend, json, full, files, options, plugins } = await probeFileArgs(argv, "probe");
  const { reports, status } = await runProbeFiles(files, probeBackend(backend, plugins), options);
  io.out(renderProbeReports(reports, json, full));
  return status;
}

function cpuHelp(argv: readonly string[], io: CliOutput): number {
  const args = parseDescribeArgs(argv, "cpu-help");
  if (args.json || args.cpu || args.machine || args.smp || args.accel || args.host) {
    throw new PvkitError(
      "bad-cli-option",
      "pvkit cpu-help takes only --qemu-version",
      "see `pvkit cpu-help --help`",
    );
  }
  atMostPositional("cpu-help", args.positional, 0);
  io.out(cpuHelpText(args.qemuVersion).replace(/\n$/, ""));
  return 0;
}

function help(argv: readonly string[], io: CliOutput): number {
  const { positional } = parseFlags("help", argv, {});
  atMostPositional("help", positional, 1);
  io.out(positional.length === 0 ? USAGE : commandHelp(positional[0]));
  return 0;
}

/**
 * Runs `pvkit` with the given arguments and returns the exit status.
 *
 * @example
 * ```ts
 * import { runCli } from "@pvkit/cli";
 * const lines: string[] = [];
 * const status = await runCli(["describe", "--json", "--host", "linux-6.12"], {
 *   out: (t) => lines.push(t),
 *   err: (t) => lines.push(t),
 * });
 * console.log(status, JSON.parse(lines[0]).profile); // 0 linux-6.12
 * ```
 */
export async function runCli(
  argv: readonly string[],
  io: CliOutput = processOutput,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // `pvkit CMD --help` (before `--`) for every command that has a help text.
    const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
    if (
      command !== undefined && Object.hasOwn(COMMAND_HELP, command) &&
      (options.includes("--help") || options.includes("-h"))
    ) {
      io.out(commandHelp(command));
      return 0;
    }
    switch (command) {
      case "probe":
        return await probe(rest, io);
      case "diff":
        return await diff(rest, io);
      case "describe":
        return await describeCommand(rest, io);
      case "cpu-help":
        return cpuHelp(rest, io);
      case "features":
        return await featuresCommand(rest, io);
      case "explain":
        return await explainCommand(rest, io);
      case "rules":
        return await rulesCommand(rest, io);
      case "demo":
        return await demo(rest, io);
      case "doctor":
        return await doctorCommand(rest, io);
      case "bench":
        return await benchCommand(rest, io);
      case "nested":
        return await nestedCommand(rest, io);
      case "boot":
        return await bootCommand(rest, io);
      case "help":
        return help(rest, io);
      case "--help":
      case "-h":
        return help([], io);
      case "--version":
      case "-V":
        atMostPositional("--version", rest, 0);
        io.out(versionText());
        return 0;
      case undefined:
        io.err(USAGE);
        return 2;
      default:
        throw unknownCommand(command);
    }
  } catch (e) {
    if (!(e instanceof PvkitError)) throw e;
    io.err(`${stderrRed("pvkit:")} ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    return 2;
  }
}
