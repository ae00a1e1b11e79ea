/**
 * The `pvkit` command: dispatch, output and exit codes. A user mistake prints its message and
 * exits with 2 (never a stack trace).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { parseDescribeArgs } from "./cli_args.ts";
import { bold, red } from "./colors.ts";
import { cpuHelpText } from "./cpu_help_text.ts";
import { renderDescription } from "./describe_table.ts";
import { probeBackend, renderProbeReports, runProbeFiles } from "./probe_command.ts";
import { doctorCommand } from "./doctor_command.ts";
import { benchCommand } from "./bench_command.ts";
import { renderFeatureTable, runFeatureProbes } from "./feature_table.ts";
import { diffProbeFiles, renderDiff } from "./diff_command.ts";
import { EmuProbeBackend } from "@pvkit/emu";
import { probeKvm } from "@pvkit/kvm";
import { optionalPlugins } from "@pvkit/pvkit";
import type { ProbeRunOptions } from "@pvkit/probe";
import { positiveIntegerOption } from "./integer_option.ts";

/** Where the command writes. */
export interface CliOutput {
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
}

/** Output to the process's stdout/stderr. */
export const processOutput: CliOutput = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

const USAGE = `pvkit: what KVM paravirtual features a guest sees, and why

usage:
  pvkit describe [-cpu M,FLAGS] [-machine T,kernel-irqchip=on|split|off] [-smp N] [-accel kvm|tcg]
                 [--host kvm|linux-X.Y] [--rules strict|qemu] [--qemu-version current|7.2] [--json]
  pvkit cpu-help [--qemu-version current|7.2]
  pvkit probe FILE.json... [--backend emu|kvm] [--timeout MS] [--json]
  pvkit diff FILE.json... [--timeout MS] [--json]
  pvkit doctor [--json]
  pvkit bench exits [--count N] [--rounds R] [--json]
  pvkit demo
  pvkit help`;

function describe(argv: readonly string[], io: CliOutput): number {
  const args = parseDescribeArgs(argv);
  if (args.positional.length > 0) {
    throw new PvkitError("bad-cli-option", `unexpected argument "${args.positional[0]}"`);
  }
  const machine = compose({
    ...(args.cpu !== undefined ? { cpu: args.cpu } : {}),
    ...(args.machine !== undefined ? { machine: args.machine } : {}),
    ...(args.smp !== undefined ? { smp: args.smp } : {}),
    ...(args.accel !== undefined ? { accel: args.accel } : {}),
    ...(args.host !== undefined ? { host: args.host } : {}),
    rules: args.rules,
    qemuVersion: args.qemuVersion,
  });
  io.out(args.json ? JSON.stringify(machine) : renderDescription(machine));
  return machine.ok ? 0 : 2;
}

/** The demo's watchdog per vCPU on KVM, in ms. */
const DEMO_VCPU_TIMEOUT_MS = 2000;

async function demo(io: CliOutput): Promise<number> {
  io.out(bold("pvkit demo: the default machine (QEMU defaults: -cpu qemu64 -machine pc -smp 1)"));
  io.out(`${bold("$")} pvkit describe\n`);
  let status = describe([], io);
  io.out(`\n${bold("$")} pvkit describe -cpu host -machine q35,kernel-irqchip=split -smp 4\n`);
  describe(["-cpu", "host", "-machine", "q35,kernel-irqchip=split", "-smp", "4"], io);
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
    io.out(`\nThe same probes on KVM: skipped (/dev/kvm unusable: ${kvm.reason})`);
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

/** `FILE... [--json] [--timeout MS]` (and `--backend B` where `backends` is true). */
function probeFileArgs(argv: readonly string[], command: string, backends: boolean) {
  let backend = "emu";
  let json = false;
  let timeoutMs: number | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") json = true;
    else if (backends && arg === "--backend") backend = argv[++i] ?? "";
    else if (backends && arg.startsWith("--backend=")) backend = arg.slice("--backend=".length);
    else if (arg === "--timeout") timeoutMs = positiveIntegerOption(arg, argv[++i]);
    else if (arg.startsWith("--timeout=")) {
      timeoutMs = positiveIntegerOption("--timeout", arg.slice("--timeout=".length));
    } else if (arg.startsWith("-")) {
      throw new PvkitError("bad-cli-option", `unknown option ${arg}`);
    } else files.push(arg);
  }
  if (files.length === 0) {
    throw new PvkitError("bad-cli-option", `pvkit ${command} needs at least one probe file`);
  }
  const options: ProbeRunOptions = timeoutMs !== undefined ? { timeoutMs } : {};
  return { backend, json, files, options };
}

async function diff(argv: readonly string[], io: CliOutput): Promise<number> {
  const { json, files, options } = probeFileArgs(argv, "diff", false);
  const { text, status } = renderDiff(await diffProbeFiles(files, options), json);
  io.out(text);
  return status;
}

async function probe(argv: readonly string[], io: CliOutput): Promise<number> {
  const { backend, json, files, options } = probeFileArgs(argv, "probe", true);
  const { reports, status } = await runProbeFiles(files, probeBackend(backend), options);
  io.out(renderProbeReports(reports, json));
  return status;
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
    switch (command) {
      case "probe":
        return await probe(rest, io);
      case "diff":
        return await diff(rest, io);
      case "describe":
        return describe(rest, io);
      case "cpu-help": {
        const args = parseDescribeArgs(rest);
        io.out(cpuHelpText(args.qemuVersion).replace(/\n$/, ""));
        return 0;
      }
      case "demo":
        return await demo(io);
      case "doctor":
        return await doctorCommand(rest, io);
      case "bench":
        return await benchCommand(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new PvkitError("bad-cli-option", `unknown command "${command}"`, "run `pvkit help`");
    }
  } catch (e) {
    if (!(e instanceof PvkitError)) throw e;
    io.err(`${red("pvkit:")} ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    return 2;
  }
}
