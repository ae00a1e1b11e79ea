/**
 * `pvkit demo linux` (`deno task demo:linux`): boots Debian's Linux kernel with pvkit's
 * initramfs on pvkit's own VMM, two vCPUs and `-cpu host`, and prints the guest's console and
 * the PV-feature report. Where this machine has no real KVM (no /dev/kvm, or one whose
 * hypercalls hang) it runs the same command inside `pvkit nested`, and says so.
 *
 * @module
 */

import { detectKvmKind } from "@pvkit/kvm";
import { runNested } from "@pvkit/nested";
import { provisionLinuxGuest } from "@pvkit/vmm";
import { bootCommand } from "./boot_command.ts";
import { atMostPositional, parseFlags } from "./cli_flags.ts";
import type { CliOutput } from "./cli_output.ts";

/** The help of `pvkit demo linux`. */
export const DEMO_LINUX_HELP =
  `pvkit demo linux: boot Linux on pvkit's VMM and show which PV features it took

usage: pvkit demo linux

Provides Debian's kernel and pvkit's initramfs (deno task linux-guest), then runs
  pvkit boot -kernel K -initrd I -smp 2 --report
here when /dev/kvm is a real KVM, else inside pvkit nested (a QEMU TCG guest with KVM).`;

/**
 * Runs `pvkit demo linux` (the arguments after `linux`).
 *
 * @example
 * ```ts ignore
 * import { demoLinuxCommand } from "@pvkit/cli";
 * const status = await demoLinuxCommand([], { out: console.log, err: console.error });
 * ```
 */
export async function demoLinuxCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  atMostPositional("demo linux", parseFlags("demo linux", argv, {}).positional, 0);
  const guest = await provisionLinuxGuest({ progress: (m) => io.err(`linux-guest: ${m}`) });
  const bootArgs = ["-kernel", guest.kernel, "-initrd", guest.initrd, "-smp", "2", "--report"];
  io.err(`pvkit demo linux: Debian's kernel ${guest.kernelVersion} with pvkit's initramfs`);
  const kind = await detectKvmKind();
  if (kind.real) {
    io.err(`pvkit demo linux: ${kind.detail}; booting here`);
    return await bootCommand(bootArgs, io);
  }
  io.err(
    `pvkit demo linux: no real KVM here (${kind.detail}); booting inside pvkit nested ` +
      "(a QEMU TCG guest with KVM: slower, the same answers)",
  );
  const main = new URL("./main.ts", import.meta.url).pathname;
  const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const r = await runNested({
    command: [Deno.execPath(), "run", "-A", main, "boot", ...bootArgs],
    cwd: root,
    workdir: root,
    timeoutMs: 20 * 60_000,
    idleTimeoutMs: 5 * 60_000,
    progress: (m) => io.err(`pvkit nested: ${m}`),
    stdout: (c) => Deno.stdout.writeSync(c),
    stderr: (c) => Deno.stderr.writeSync(c),
  });
  return r.status;
}
