/**
 * The help of `pvkit` and of each subcommand (`pvkit help`, `pvkit CMD --help`).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { didYouMean } from "@pvkit/qemu";
import { NESTED_HELP } from "./nested_command.ts";
import { BOOT_HELP } from "./boot_command.ts";

const DESCRIBE_OPTIONS = `options:
  -cpu MODEL[,FLAG=on|off...]   QEMU's -cpu (default qemu64); -cpu help lists the models
  -machine TYPE[,kernel-irqchip=on|split|off]
                                QEMU's -machine (default pc); -machine help lists the types
  -smp N[,maxcpus=M,...]        QEMU's -smp (default 1)
  -accel kvm|tcg                QEMU's -accel (default kvm)
  --host kvm|linux-X.Y          the host whose KVM to assume (default: /dev/kvm where usable)
  --rules strict|qemu           pvkit's rules (default), or QEMU's behaviour bit for bit
  --qemu-version current|7.2    the QEMU whose behaviour to reproduce (default current = 10.2)
  --plugin FILE                 also load the plugins FILE exports (repeatable)
  --json                        print the result as JSON (--json=false: text)`;

/**
 * Each subcommand's help, in the order `pvkit help` lists them.
 *
 * @example
 * ```ts
 * import { COMMAND_HELP } from "@pvkit/cli";
 * console.log(Object.keys(COMMAND_HELP).includes("explain")); // true
 * ```
 */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  describe: `pvkit describe: what a QEMU command line gives a guest, and why

usage: pvkit describe [-cpu ...] [-machine ...] [-smp N] [-accel kvm|tcg] [--host H]
                      [--rules strict|qemu] [--qemu-version V] [--plugin FILE] [--json]

${DESCRIBE_OPTIONS}

--rules qemu reproduces QEMU's leaves, filtering and messages for the KVM PV features and x2apic
only; QEMU's warnings about other CPUID features (e.g. those TCG cannot provide) are not modelled.
Exit status: 0, or 2 when the machine cannot be built (the errors go to stderr; --json still
prints the result on stdout).`,
  "cpu-help": `pvkit cpu-help: QEMU's "-cpu help" text, byte for byte

usage: pvkit cpu-help [--qemu-version current|7.2]`,
  features: `pvkit features: every PV feature pvkit knows, with its CPUID bit and summary

usage: pvkit features [--plugin FILE] [--json]`,
  explain: `pvkit explain: one feature in full (CPUID bit, MSRs, hypercalls, rules, what Linux
does with it, what it saves)

usage: pvkit explain FEATURE [--plugin FILE] [--json]`,
  rules: `pvkit rules: every composition rule, and the graph of what requires what

usage: pvkit rules [--graph text|dot|mermaid] [--plugin FILE] [--json]

--graph dot prints Graphviz input (pvkit rules --graph dot | dot -Tsvg > rules.svg);
--graph mermaid prints a Mermaid flowchart.`,
  probe: `pvkit probe: run probe programs (packages/probe/README.md has the format)

usage: pvkit probe FILE.json... [--backend emu|kvm] [--timeout MS] [--plugin FILE] [--json]
                  [--full]

  --backend emu|kvm   the emulated backend (default) or this host's /dev/kvm
  --timeout MS        the vCPU watchdog on KVM (default 5000; x20 inside pvkit nested)
  --plugin FILE       plugins a probe may name in machine.plugins (repeatable)
  --json              one JSON array of reports, one per file
  --full              every step even for large probes (default: at most 40 per vCPU)

Paths are relative to the folder you ran the command in. Exit status: 0 when every expectation
holds, 1 when one fails, 2 for a bad probe file or option.`,
  diff: `pvkit diff: run probes on the emulated backend and on KVM, and list the differences

usage: pvkit diff FILE.json... [--timeout MS] [--plugin FILE] [--json]

Exit status: 0 when the backends agree, 1 when they differ, 2 for a bad file or no /dev/kvm.`,
  doctor: `pvkit doctor: what this host's KVM offers pvkit

usage: pvkit doctor [--json]`,
  bench: `pvkit bench: how fast pvkit's VMM is, against a baseline

usage: pvkit bench exits [--count N] [--rounds R] [--json]
       pvkit bench boot [--rounds N] [--json] -kernel FILE [-initrd FILE] [-append CMDLINE]
                        [-cpu M,FLAGS] [-machine T,...] [-smp N] [-m SIZE] [--timeout S]
                        [--idle-timeout S]

exits   the Deno VMM's port-I/O exit round trip against the same loop in C (gcc -O2)
boot    boot time to /init of pvkit's VMM against QEMU (qemu-system-x86_64 -accel kvm) on the
        same KVM, with the same kernel, initramfs, command line and -cpu/-machine/-smp/-m (as
        for pvkit boot; -cpu defaults to host for both). Both run as child processes (pvkit
        boot --quiet, and QEMU with -nodefaults -serial stdio -no-reboot), in interleaved ABBA
        rounds (default 3), each timed from its spawn to /init's first console line
        (pvkit-boot: init) and killed there. A boot whose console is silent for --idle-timeout
        is retried once, said on stderr. Progress goes to stderr; --json prints
        {rounds, pvkitMs, qemuMs, medianPvkitMs, medianQemuMs, ratio}, ratio being the median
        of the per-round ratios pvkit / QEMU. Needs a usable /dev/kvm (else run it inside
        pvkit nested) and qemu-system-x86.`,
  nested: NESTED_HELP,
  boot: BOOT_HELP,
  demo: `pvkit demo: the default machine, -cpu host, and the built-in probes on each backend

usage: pvkit demo
       pvkit demo linux   boot Linux on pvkit's VMM and show the PV features it took
                          (deno task demo:linux; inside pvkit nested without a real KVM)`,
  help: `pvkit help: this text, or one subcommand's

usage: pvkit help [COMMAND]`,
};

/**
 * The text of `pvkit help` (and, on stderr, of `pvkit` alone).
 *
 * @example
 * ```ts
 * import { USAGE } from "@pvkit/cli";
 * console.log(USAGE.split("\n")[0]);
 * ```
 */
export const USAGE = `pvkit: what KVM paravirtual features a guest sees, and why

usage:
  pvkit describe [-cpu M,FLAGS] [-machine T,kernel-irqchip=on|split|off] [-smp N] [-accel kvm|tcg]
                 [--host kvm|linux-X.Y] [--rules strict|qemu] [--qemu-version current|7.2] [--json]
  pvkit cpu-help [--qemu-version current|7.2]
  pvkit features [--json]
  pvkit explain FEATURE [--json]
  pvkit rules [--graph text|dot|mermaid] [--json]
  pvkit probe FILE.json... [--backend emu|kvm] [--timeout MS] [--json]
  pvkit diff FILE.json... [--timeout MS] [--json]
  pvkit doctor [--json]
  pvkit bench exits [--count N] [--rounds R] [--json]
  pvkit bench boot [--rounds N] [--json] -kernel FILE [-initrd FILE] [-cpu ...] [-smp N] [-m SIZE]
  pvkit nested [--smp N] [--memory SIZE] [--timeout S] -- CMD [ARGS...]
  pvkit boot -kernel FILE [-initrd FILE] [-append CMDLINE] [-cpu ...] [-smp N] [-m SIZE] [--report]
  pvkit demo [linux]
  pvkit help [COMMAND]
  pvkit --version

\`pvkit COMMAND --help\` explains one command; --plugin FILE loads a third-party plugin.`;

/**
 * The help of `command`.
 *
 * @throws {PvkitError} (`bad-cli-option`) for an unknown command, with a did-you-mean
 * @example
 * ```ts
 * import { commandHelp } from "@pvkit/cli";
 * console.log(commandHelp("features").split("\n")[0]);
 * ```
 */
export function commandHelp(command: string): string {
  const help = COMMAND_HELP[command];
  if (help === undefined) throw unknownCommand(command);
  return help;
}

/**
 * The error for a command `pvkit` does not have, with the closest one.
 *
 * @example
 * ```ts
 * import { unknownCommand } from "@pvkit/cli";
 * console.log(unknownCommand("descrbe").hint); // did you mean "describe"?
 * ```
 */
export function unknownCommand(command: string): PvkitError {
  return new PvkitError(
    "bad-cli-option",
    `unknown command "${command}"`,
    didYouMean(command, Object.keys(COMMAND_HELP)) ?? "run `pvkit help`",
  );
}
