/**
 * `pvkit nested [--smp N] [--memory SIZE] [--timeout S] [...] -- CMD [ARGS...]`: runs CMD inside a
 * QEMU TCG guest whose Linux has a real KVM ({@linkcode runNested}), with this folder shared, and
 * exits with CMD's status. The runner's own failures exit like `docker run`'s: 125 (it could not
 * run the guest), 124 (time limit), 127 (CMD not found).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { NestedError, type NestedOptions, runNested } from "@pvkit/nested";
import { parseFlags } from "./cli_flags.ts";
import type { CliOutput } from "./cli_output.ts";
import { positiveIntegerOption } from "./integer_option.ts";
import { callerFolder, callerPath } from "./caller_path.ts";
import { memorySizeMiB } from "./memory_size.ts";

/** Exit statuses of `pvkit nested` when the job did not run to its own end. */
export const NESTED_EXIT = { runnerFailed: 125, timeout: 124, notFound: 127 } as const;

/** The help of `pvkit nested`. */
export const NESTED_HELP = `pvkit nested: run a command where a real KVM is, inside a QEMU TCG guest

usage: pvkit nested [--smp N] [--memory SIZE] [--timeout S] [--idle-timeout S] [--workdir DIR]
                    [--env K=V]... [--kernel-package PKG] [--console] [--quiet] -- CMD [ARGS...]

The guest (Debian's kernel on QEMU's TCG with an AMD SVM CPU model) loads kvm_amd, so CMD sees a
/dev/kvm whose hypercalls, HLT and kicks work, on any x86-64 Linux host. CMD runs in this folder;
the guest sees the project folder holding it (read-write), the host's /usr and Deno (read-only)
and Deno's cache (with a guest-local writable layer), nothing else. Its stdout and stderr are
CMD's; PVKIT_NESTED=tcg is set for it. The first run installs qemu-system-x86 and busybox-static
(as root) and downloads the kernel package into ~/.cache/pvkit/nested; later runs reuse them.

options:
  --smp N              guest vCPUs (default 1; QEMU 7.2's TCG has soft-locked 2-vCPU guests)
  --memory SIZE        guest RAM, in MiB or with a suffix M/G (default 4G)
  --timeout S          kill the guest after S seconds (default 900)
  --idle-timeout S     kill the guest when nothing was printed for S seconds (a hung guest)
  --workdir DIR        the folder shared read-write (default: the project holding this folder)
  --env K=V            add a variable to CMD's environment (repeatable)
  --kernel-package P   the Debian kernel package (default: linux-image-amd64's)
  --console            copy the guest's console (kernel messages) to stderr
  --quiet              no progress lines on stderr

Exit status: CMD's; 124 when it overran --timeout or --idle-timeout (the guest is killed), 125
when the guest could not run it (with the reason), 127 when CMD does not exist in the guest.`;

/**
 * Parses `pvkit nested`'s arguments into {@linkcode NestedOptions} (without the output sinks).
 *
 * @example
 * ```ts
 * import { parseNestedArgs } from "@pvkit/cli";
 * const o = parseNestedArgs(["--smp", "2", "--memory", "2G", "--", "deno", "--version"]);
 * console.log(o.smp, o.memoryMiB, o.command); // 2 2048 [ "deno", "--version" ]
 * ```
 */
export function parseNestedArgs(argv: readonly string[]): NestedOptions & { quiet: boolean } {
  const dash = argv.indexOf("--");
  if (dash < 0 || dash === argv.length - 1) {
    throw new PvkitError(
      "bad-cli-option",
      "pvkit nested needs a command after `--`",
      "e.g. pvkit nested -- deno task pvkit doctor",
    );
  }
  const flags = parseFlags("nested", argv.slice(0, dash), {
    booleans: ["--console", "--quiet"],
    values: ["--smp", "--memory", "--timeout", "--idle-timeout", "--workdir", "--kernel-package"],
    lists: ["--env"],
  });
  if (flags.positional.length) {
    throw new PvkitError(
      "bad-cli-option",
      `pvkit nested: unexpected argument "${flags.positional[0]}" before \`--\``,
      "put the command after `--`",
    );
  }
  const env: Record<string, string> = {};
  for (const kv of flags.lists.get("--env") ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
    if (!m) throw new PvkitError("bad-cli-option", `--env takes NAME=VALUE, not "${kv}"`);
    env[m[1]] = m[2];
  }
  const v = (k: string) => flags.values.get(k);
  const smp = v("--smp");
  const memory = v("--memory");
  const timeout = v("--timeout");
  const idle = v("--idle-timeout");
  const workdir = v("--workdir");
  return {
    command: argv.slice(dash + 1),
    ...(smp !== undefined ? { smp: positiveIntegerOption("--smp", smp) } : {}),
    ...(memory !== undefined ? { memoryMiB: memorySizeMiB("--memory", memory, 256) } : {}),
    ...(timeout !== undefined
      ? { timeoutMs: positiveIntegerOption("--timeout", timeout) * 1000 }
      : {}),
    ...(idle !== undefined
      ? { idleTimeoutMs: positiveIntegerOption("--idle-timeout", idle) * 1000 }
      : {}),
    ...(workdir !== undefined ? { workdir: callerPath(workdir) } : {}),
    ...(v("--kernel-package") !== undefined ? { kernelPackage: v("--kernel-package") } : {}),
    env,
    console: flags.on.has("--console") ? (line: string) => console.error(line) : undefined,
    cwd: callerFolder(),
    quiet: flags.on.has("--quiet"),
  };
}

/**
 * Runs `pvkit nested`: CMD's output goes to this process's stdout and stderr as it comes.
 *
 * @example
 * ```ts ignore
 * import { nestedCommand } from "@pvkit/cli";
 * const status = await nestedCommand(["--", "true"], { out: console.log, err: console.error });
 * ```
 */
export async function nestedCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  const { quiet, ...options } = parseNestedArgs(argv);
  try {
    const r = await runNested({
      ...options,
      progress: quiet ? undefined : (m) => io.err(`pvkit nested: ${m}`),
      stdout: (chunk) => Deno.stdout.writeSync(chunk),
      stderr: (chunk) => Deno.stderr.writeSync(chunk),
    });
    return r.status;
  } catch (e) {
    if (!(e instanceof NestedError)) throw e;
    io.err(`pvkit nested: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    if (e.kind === "timeout") return NESTED_EXIT.timeout;
    if (e.kind === "command-not-found") return NESTED_EXIT.notFound;
    if (e.kind === "bad-option") return 2;
    return NESTED_EXIT.runnerFailed;
  }
}
