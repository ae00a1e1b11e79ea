/**
 * `pvkit`'s command-line conventions: help per command, --version, unknown arguments and
 * flags rejected (exit 2) with a did-you-mean, boolean flags, errors on stderr, no colour in
 * pipes.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { COMMAND_HELP, PVKIT_VERSION } from "@pvkit/cli";
import { probeKvm } from "@pvkit/kvm";
import { cli, pvkitProcess } from "./_cli.ts";

const HOST = ["--host", "linux-6.12"];

Deno.test("every command has --help (and -h, and `pvkit help CMD`), on stdout, exit 0", async () => {
  for (const command of Object.keys(COMMAND_HELP)) {
    for (const argv of [[command, "--help"], [command, "-h"], ["help", command]]) {
      const r = await cli(...argv);
      assertEquals(r.status, 0, argv.join(" "));
      assertMatch(r.out, new RegExp(`^pvkit ${command}`), argv.join(" "));
      assertEquals(r.err, "");
    }
  }
  assertStringIncludes((await cli("describe", "--help")).out, "-machine help lists the types");
});

Deno.test("pvkit --version prints the package version", async () => {
  const r = await cli("--version");
  assertEquals(r.status, 0);
  assertStringIncludes(r.out, `pvkit ${PVKIT_VERSION}`);
});

Deno.test("unknown commands, options and arguments exit 2 with a hint, on stderr", async () => {
  const cases: [string[], string][] = [
    [["descrbe"], 'did you mean "describe"?'],
    [["cpu-help", "--json"], "pvkit cpu-help takes only --qemu-version"],
    [["demo", "--foo"], "unknown option --foo"],
    [["help", "--foo"], "unknown option --foo"],
    [["features", "--jsn"], 'did you mean "--json"?'],
    [["features", "extra"], 'unexpected argument "extra"'],
    [["rules", "--graph", "png"], '--graph takes text, dot, mermaid, not "png"'],
    [["explain"], "pvkit explain needs a feature name"],
    [["probe", "x.json", "--backend"], "option --backend needs a value"],
    [["describe", "--json=maybe"], '--json takes true or false, not "maybe"'],
    [["bench", "exits", "--cuont", "5"], 'did you mean "--count"?'],
    [["help", "nope"], 'unknown command "nope"'],
  ];
  for (const [argv, text] of cases) {
    const r = await cli(...argv);
    assertEquals(r.status, 2, argv.join(" "));
    assertEquals(r.out, "", argv.join(" "));
    assertStringIncludes(r.err, text, argv.join(" "));
  }
});

Deno.test("-cpu hots suggests host; the did-you-mean comes after its error", async () => {
  const r = await cli("describe", ...HOST, "-cpu", "hots");
  assertEquals(r.status, 2);
  assertEquals(r.out, "", "no header with placeholders for a machine that was never built");
  assertEquals(r.err.split("\n"), [
    "error: unable to find CPU model 'hots'",
    'note: did you mean "host"?',
  ]);
});

Deno.test("--json=false prints text, --json=true JSON", async () => {
  assertStringIncludes((await cli("describe", ...HOST, "--json=false")).out, "machine pc-i440fx");
  assertEquals(
    JSON.parse((await cli("describe", ...HOST, "--json=true")).out).profile,
    "linux-6.12",
  );
  assertEquals((await cli("features", "--json=false")).out.startsWith("feature"), true);
});

Deno.test("a failed describe --json: the JSON on stdout in the documented key order, errors on stderr", async () => {
  const r = await cli("describe", "--json", ...HOST, "-cpu", "nosuch", "-machine", "q35");
  assertEquals(r.status, 2);
  const json = JSON.parse(r.out);
  assertEquals(Object.keys(json.machine), ["type", "irqchip", "x2apic", "smp"]);
  assertEquals(
    r.err,
    "error: unable to find CPU model 'nosuch'\nnote: see `pvkit cpu-help` for the models",
  );
});

Deno.test("describe -cpu host prints one note for the four one-vCPU features", async () => {
  const r = await cli("describe", ...HOST, "-cpu", "host");
  assertEquals(r.status, 0);
  const single = r.out.split("\n").filter((l) => l.includes("one possible vCPU"));
  assertEquals(single, [
    "note: kvm-pv-unhalt, kvm-pv-tlb-flush, kvm-pv-ipi, kvm-pv-sched-yield: each has no effect " +
    "with one possible vCPU: Linux does not use it when only one CPU is possible " +
    "[rule <feature>/single-vcpu]; fix: use -smp 2 or more (or maxcpus=2+), or drop <feature>",
  ]);
});

Deno.test("a QEMU 7.2 rejection never suggests the name it rejected", async () => {
  const r = await cli(
    "describe",
    ...HOST,
    "-cpu",
    "max,kvm-asyncpf-vmexit=on",
    "--qemu-version",
    "7.2",
  );
  assertEquals(r.status, 2);
  assertStringIncludes(r.err, "QEMU 7.2 does not have kvm-asyncpf-vmexit");
  assertEquals(r.err.includes('did you mean "kvm-asyncpf-vmexit"'), false);
});

Deno.test("pipes get no colour codes, and errors go to stderr", async () => {
  const ok = await pvkitProcess(["describe", ...HOST, "-cpu", "host"]);
  assertEquals(ok.status, 0);
  assert(!ok.out.includes("\x1b["), "no ANSI codes in a pipe");
  const bad = await pvkitProcess(["describe", ...HOST, "-cpu", "qemu64,kvm-pv-ip=on", "--json"]);
  assertEquals(bad.status, 2);
  assertEquals(JSON.parse(bad.out).errors.length, 1);
  assertStringIncludes(bad.err, "Property 'qemu64-x86_64-cpu.kvm-pv-ip' not found");
  assert(!bad.err.includes("\x1b["));
});

const kvm = probeKvm();
Deno.test({
  name: "without /dev/kvm, pvkit diff's hint is one diff users can follow (no --backend)",
  ignore: kvm.usable,
  async fn() {
    const file = new URL("./conformance/a5-cpuid-signature.json", import.meta.url).pathname;
    const r = await cli("diff", file);
    assertEquals(r.status, 2);
    assertStringIncludes(r.err, "pvkit diff compares against KVM");
    assertStringIncludes(r.err, "`pvkit probe FILE` runs the probes on the emulated backend alone");
    assertEquals(r.err.includes("--backend"), false);
  },
});
