/**
 * `pvkit nested` end to end: a QEMU TCG guest with KVM runs a command in this folder and hands
 * back its output and status; a job that overruns its time limit is killed with no QEMU left;
 * a missing command is named. Needs qemu-system-x86_64, or root to install it (the first run
 * provisions it and the kernel package, as CI does).
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import { runCli } from "@pvkit/cli";
import { findExecutable, NestedError, runNested } from "@pvkit/nested";

const canRun = findExecutable("qemu-system-x86_64") !== undefined || Deno.uid() === 0;
const why = canRun ? "" : " (skipped: no qemu-system-x86_64, and not root to install it)";

/** The command lines of running QEMU processes that serve a pvkit nested guest. */
function nestedQemus(): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes("qemu-system-x86_64") && cmd.includes("mount_tag=pvkit-run")) out.push(cmd);
    } catch {
      // the process ended
    }
  }
  return out;
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test({
  name: `pvkit nested runs a command in this folder with its stdout, stderr and status${why}`,
  ignore: !canRun,
  async fn() {
    const r = await runNested({
      command: ["sh", "-c", 'echo "out $(pwd) $PVKIT_NESTED"; ls -l /dev/kvm >&2; exit 3'],
      timeoutMs: 300_000,
    });
    assertEquals(r.status, 3);
    assertEquals(decode(r.stdout), `out ${Deno.cwd()} tcg\n`);
    assert(decode(r.stderr).includes("/dev/kvm"), decode(r.stderr));
    assert(r.bootMs > 0 && r.bootMs < r.totalMs);
  },
});

Deno.test({
  name: `pvkit nested kills a job that overruns --timeout, leaving no QEMU${why}`,
  ignore: !canRun,
  async fn() {
    const before = nestedQemus();
    const started = performance.now();
    const err: string[] = [];
    const status = await runCli(["nested", "--quiet", "--timeout", "25", "--", "sleep", "600"], {
      out: () => {},
      err: (t) => err.push(t),
    });
    assertEquals(status, 124, err.join("\n"));
    assert(err.join("\n").includes("ran longer than 25 s; the guest was killed"));
    assert(performance.now() - started < 60_000);
    assertEquals(nestedQemus().filter((q) => !before.includes(q)), []);
  },
});

Deno.test({
  name: `pvkit nested names a command the guest does not have${why}`,
  ignore: !canRun,
  async fn() {
    const before = nestedQemus();
    const e = await assertRejects(
      () => runNested({ command: ["no-such-command-pvkit"], timeoutMs: 300_000 }),
      NestedError,
      "not found in the guest",
    );
    assertEquals((e as NestedError).kind, "command-not-found");
    assertEquals(nestedQemus().filter((q) => !before.includes(q)), []);
  },
});
