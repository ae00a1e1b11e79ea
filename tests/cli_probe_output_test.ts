/**
 * `pvkit probe` output: `--json` always an array, the verdict last, large probes summarised,
 * and paths relative to the caller's folder (INIT_CWD under `deno task`).
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { cli } from "./_cli.ts";

const CONFORMANCE = new URL("./conformance/", import.meta.url).pathname;

Deno.test("probe --json is an array for one file and for two", async () => {
  const one = JSON.parse(
    (await cli("probe", `${CONFORMANCE}a5-cpuid-signature.json`, "--json")).out,
  );
  assertEquals(Array.isArray(one) && one.length, 1);
  const two = await cli(
    "probe",
    `${CONFORMANCE}a5-cpuid-signature.json`,
    `${CONFORMANCE}a1-pv-enforcement.json`,
    "--json",
  );
  assertEquals(JSON.parse(two.out).length, 2);
});

Deno.test("a large probe prints a sample with the verdict last; --full prints all", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/wide.json`;
  const steps = Array.from({ length: 50 }, () => ({ op: "cpuid", leaf: "0x40000000" }));
  await Deno.writeTextFile(
    file,
    JSON.stringify({ name: "wide", machine: { smp: 64 }, vcpus: Array(64).fill({ steps }) }),
  );
  const r = await cli("probe", file);
  assertEquals(r.status, 0);
  const lines = r.out.split("\n");
  assert(lines.length < 60, `${lines.length} lines`);
  assertEquals(lines.at(-1), "probe wide on emu: passed (0 checks passed)");
  assertStringIncludes(r.out, "… 10 more steps (--full shows them)");
  assertStringIncludes(r.out, "… 63 more vCPUs not shown (--full shows them)");
  const full = (await cli("probe", file, "--full")).out.split("\n");
  assertEquals(full.length, 64 * 52 + 1);
  assertEquals(full.at(-1), lines.at(-1));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("paths are relative to INIT_CWD when deno task sets it", async () => {
  const saved = Deno.env.get("INIT_CWD");
  Deno.env.set("INIT_CWD", CONFORMANCE);
  try {
    const r = await cli("probe", "a5-cpuid-signature.json");
    assertEquals(r.status, 0, r.err);
  } finally {
    if (saved === undefined) Deno.env.delete("INIT_CWD");
    else Deno.env.set("INIT_CWD", saved);
  }
});

Deno.test("`deno task pvkit probe FILE` inside tests/conformance finds FILE there", async () => {
  // A shell's environment: this test may itself run under a task that set INIT_CWD.
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "pvkit", "probe", "a2-steal-time.json", "--json"],
    cwd: CONFORMANCE,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 0, err);
  const [report] = JSON.parse(new TextDecoder().decode(output.stdout));
  assertEquals(report.passed, true);
});

Deno.test("a probe with few vCPUs shows every one of them", async () => {
  const { out } = await cli("probe", `${CONFORMANCE}a1v2-pv-unhalt-kick.json`);
  assertStringIncludes(out, "vCPU 1\n");
  assertStringIncludes(out, "[woke up]");
  assert(!out.includes("more vCPUs not shown"), out);
});
