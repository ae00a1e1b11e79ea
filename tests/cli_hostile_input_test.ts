/**
 * Issue 10's hostile inputs through the `pvkit` command: each is refused with exit status 2 and
 * a message that says what was wrong, or gives the right result. No stack traces.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { cli } from "./_cli.ts";

const here = (path: string) => new URL(path, import.meta.url).pathname;

/** Writes a probe to a temporary file and runs `pvkit probe` on it (emulated backend). */
async function probeRun(probe: unknown, ...flags: string[]) {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(probe));
    return await cli("probe", file, "--backend", "emu", ...flags);
  } finally {
    await Deno.remove(file);
  }
}

const probe = (machine: object, steps: unknown[] = []) => ({
  name: "hostile",
  machine,
  vcpus: [{ steps }],
});

function refused(run: { status: number; err: string }, message: string): void {
  assertEquals(run.status, 2, run.err);
  assertStringIncludes(run.err, message);
  assert(!/^\s+at /m.test(run.err), `a stack trace:\n${run.err}`);
}

Deno.test("memory of 64G or 0x1000000000000 in a probe: exit 2, the limit named", async () => {
  for (const memory of ["64G", "0x1000000000000"]) {
    refused(await probeRun(probe({ memory })), "is more than the 1G of RAM a probe may have");
  }
});

Deno.test("a chain of 10 000 barriers on one vCPU runs (exit 0)", async () => {
  const steps = Array.from({ length: 10_000 }, (_, i) => ({ op: "barrier", id: `b${i}` }));
  const run = await probeRun(probe({}, steps), "--json");
  assertEquals(run.status, 0, run.err);
});

Deno.test("zero over all of a probe's RAM runs, in place", async () => {
  const run = await probeRun(
    probe({ memory: "256M" }, [{ op: "zero", gpa: "0x0", length: 256 << 20 }]),
  );
  assertEquals(run.status, 0, run.err);
});

Deno.test("more steps than a probe may have: exit 2, the limit named", async () => {
  const steps = Array.from({ length: (1 << 17) + 1 }, () => ({ op: "cli" }));
  refused(await probeRun(probe({}, steps)), "steps in all; a probe may have at most 131072");
});

Deno.test("tscKhz 0xffffffff: exit 2 (beyond KVM_SET_TSC_KHZ's limit)", async () => {
  refused(
    await probeRun(probe({ tscKhz: 0xffffffff })),
    "$.machine.tscKhz: 4294967295 is out of range",
  );
});

Deno.test("a FIFO or /dev/zero as the probe path: exit 2 without reading", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/probe.json`;
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    refused(await cli("probe", fifo, "--backend", "emu"), "is not a regular file");
    refused(await cli("probe", "/dev/zero", "--backend", "emu"), "is not a regular file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plugin claiming another plugin's hypercall: exit 2 naming both", async () => {
  const run = await cli(
    "describe",
    "--plugin",
    here("./hostile/kick_squatter_plugin.ts"),
    "-cpu",
    "host",
  );
  refused(run, "hypercall 5 (KVM_HC_KICK_CPU) is claimed by both kvm-pv-unhalt");
  assertStringIncludes(run.err, "acme-kick (@acme/kick)");
});

Deno.test("a plugin hook that throws during a probe: exit 2 naming the plugin", async () => {
  const run = await probeRun(
    probe({ cpu: "host,acme-throws=on", plugins: ["acme-throws"] }, [
      { op: "hypercall", nr: 100 },
    ]),
    "--plugin",
    here("./hostile/throwing_plugin.ts"),
  );
  refused(run, "plugin acme-throws failed in hypercalls.call: Cannot read properties");
});
