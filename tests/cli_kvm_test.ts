/**
 * The `pvkit` commands that drive KVM, on a usable /dev/kvm: `pvkit diff` over every conformance
 * probe (the emulated backend and KVM agree), and `pvkit probe --backend kvm`. Where hypercalls
 * work (a hardware KVM, or `pvkit nested`), no hypercall step may be skipped.
 */

import { assert, assertEquals } from "@std/assert";
import { runCli } from "@pvkit/cli";
import { kvmTest } from "@pvkit/kvm/testing";
import { detectHypercalls } from "@pvkit/kvm-probe";

const CONFORMANCE = new URL("./conformance/", import.meta.url).pathname;

async function conformanceProbes(): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(CONFORMANCE)) {
    if (e.name.endsWith(".json")) files.push(CONFORMANCE + e.name);
  }
  return files.sort();
}

async function cli(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status, out: out.join("\n"), err: err.join("\n") };
}

kvmTest("pvkit diff: the emulated backend and KVM agree on every conformance probe", async () => {
  const { status, out, err } = await cli("diff", ...(await conformanceProbes()));
  assertEquals(status, 0, `${out}\n${err}`);
  const hypercalls = await detectHypercalls();
  if (hypercalls.available) {
    assert(!/skipped/i.test(out), `a step was skipped although hypercalls work:\n${out}`);
  } else {
    assert(out.includes("hypercalls unavailable on this host"), out);
  }
});

kvmTest("pvkit probe --backend kvm passes every conformance probe", async () => {
  const { status, out, err } = await cli(
    "probe",
    "--backend",
    "kvm",
    ...(await conformanceProbes()),
  );
  assertEquals(status, 0, `${out}\n${err}`);
});
