import { assert, assertEquals } from "@std/assert";
import { kvmTest } from "@pvkit/kvm/testing";
import { runCli } from "./cli.ts";

kvmTest("pvkit bench exits --count 20000 --json has exactly four keys", async () => {
  const lines: string[] = [];
  const errs: string[] = [];
  const io = { out: (t: string) => lines.push(t), err: (t: string) => errs.push(t) };
  const status = await runCli(
    ["bench", "exits", "--count", "20000", "--rounds", "1", "--json"],
    io,
  );
  assertEquals(status, 0, errs.join("\n"));
  const j = JSON.parse(lines[0]) as Record<string, unknown>;
  assertEquals(Object.keys(j).sort(), ["baselineUsPerExit", "exits", "ratio", "usPerExit"]);
  assertEquals(j.exits, 20000);
  assert(typeof j.usPerExit === "number" && j.usPerExit > 0);
  if (j.baselineUsPerExit === null) assertEquals(j.ratio, null);
  else assert(typeof j.ratio === "number" && j.ratio > 0); // a figure, not asserted
});

Deno.test("pvkit bench rejects bad arguments with exit 2", async () => {
  const errs: string[] = [];
  const io = { out: () => {}, err: (t: string) => errs.push(t) };
  assertEquals(await runCli(["bench"], io), 2);
  assertEquals(await runCli(["bench", "exits", "--count", "x"], io), 2);
  assertEquals(await runCli(["bench", "nope"], io), 2);
  assert(errs.every((e) => !e.includes("    at ")), "no stack trace");
});

Deno.test("pvkit bench boot: bad arguments exit 2 before anything boots", async () => {
  const errs: string[] = [];
  const io = { out: () => {}, err: (t: string) => errs.push(t) };
  assertEquals(await runCli(["bench", "boot"], io), 2);
  assert(errs.at(-1)?.includes("pvkit bench boot needs -kernel FILE"), errs.join("\n"));
  assertEquals(await runCli(["bench", "boot", "-kernel", "k", "--rounds", "0"], io), 2);
  assertEquals(await runCli(["bench", "boot", "-kernel", "k", "-m", "1T"], io), 2);
  assertEquals(await runCli(["bench", "boot", "-kernel", "k", "--report"], io), 2);
  assert(errs.every((e) => !e.includes("    at ")), "no stack trace");
});

Deno.test("pvkit bench --help names both benchmarks", async () => {
  const out: string[] = [];
  assertEquals(await runCli(["bench", "--help"], { out: (t) => out.push(t), err: () => {} }), 0);
  assert(out.join("\n").includes("pvkit bench boot [--rounds N] [--json] -kernel FILE"));
  assert(out.join("\n").includes("pvkit bench exits"));
});
