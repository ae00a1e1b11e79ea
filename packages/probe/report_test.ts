import { assertEquals, assertStringIncludes } from "@std/assert";
import { parseProbe } from "./parse_probe.ts";
import { formatProbeReport, probeExitStatus, probeReport } from "./report.ts";
import type { ProbeRun, StepResult } from "./types.ts";

const probe = parseProbe({
  name: "mixed",
  machine: { smp: 2 },
  vcpus: [
    {
      steps: [
        { op: "cpuid", leaf: "0x40000000", expect: { eax: "0x40000001" } },
        { op: "rdmsr", msr: "0x4b564d03", label: "steal", expect: { fault: "GP" } },
        { op: "hypercall", nr: 11, args: [1], expect: { ret: "-1000" } },
        { op: "hypercall", nr: 5, mode: "32", cpl: 3, expect: { ret: "-1000" } },
        { op: "barrier", id: "go" },
      ],
    },
    {
      steps: [
        { op: "barrier", id: "go" },
        { op: "wait-irq", vector: "0xec", timeoutNs: 1000000, expect: { timeout: false } },
        { op: "spin", ns: 500 },
      ],
    },
  ],
});

const run: ProbeRun = {
  backend: "emulated",
  vcpus: [
    {
      results: [
        { op: "cpuid", eax: 0x40000001n, ebx: 0x4b4d564bn, ecx: 0x564b4d56n, edx: 0x4dn },
        { op: "rdmsr", value: 0n },
        { op: "hypercall", ret: (1n << 64n) - 1000n },
        { op: "hypercall", skipped: "no 32-bit mode" },
        { op: "barrier" },
      ],
      exits: { ipi: 0, hypercall: 1, "msr-read": 1, mmio: 0, custom: 2 },
    },
    {
      results: [{ op: "barrier" }, { op: "wait-irq", timeout: true }, { op: "spin" }],
      exits: { hlt: 1 },
    },
  ],
  notes: ["hypercalls in 32-bit mode are not emulated"],
};

Deno.test("probeReport produces plain JSON with 0x values", () => {
  const report = probeReport(probe, run);
  assertEquals(report, {
    probe: "mixed",
    backend: "emulated",
    passed: false,
    vcpus: [
      {
        results: [
          { op: "cpuid", eax: "0x40000001", ebx: "0x4b4d564b", ecx: "0x564b4d56", edx: "0x4d" },
          { op: "rdmsr", value: "0x0" },
          { op: "hypercall", ret: "0xfffffffffffffc18" },
          { op: "hypercall", skipped: "no 32-bit mode" },
          { op: "barrier" },
        ],
        exits: { "msr-read": 1, hypercall: 1, ipi: 0, custom: 2, mmio: 0 },
        steps: [
          {
            op: "cpuid",
            operands: { leaf: "0x40000000", subleaf: "0x0" },
            checks: [{ expected: "eax = 0x40000001", actual: "eax 0x40000001", status: "pass" }],
          },
          {
            op: "rdmsr",
            label: "steal",
            operands: { msr: "0x4b564d03", cpl: 0 },
            checks: [{ expected: "fault GP", actual: "value 0x0", status: "fail" }],
          },
          {
            op: "hypercall",
            operands: {
              nr: "0xb",
              args: ["0x1", "0x0", "0x0", "0x0"],
              mode: "64",
              cpl: 0,
              insn: "native",
            },
            checks: [{
              expected: "ret = 0xfffffffffffffc18 (-1000)",
              actual: "ret 0xfffffffffffffc18 (-1000)",
              status: "pass",
            }],
          },
          {
            op: "hypercall",
            operands: {
              nr: "0x5",
              args: ["0x0", "0x0", "0x0", "0x0"],
              mode: "32",
              cpl: 3,
              insn: "native",
            },
            checks: [{
              expected: "ret = 0xfffffc18 (-1000)",
              actual: "skipped: no 32-bit mode",
              status: "skipped",
            }],
          },
          { op: "barrier", operands: { id: "go" }, checks: [] },
        ],
      },
      {
        results: [{ op: "barrier" }, { op: "wait-irq", timeout: true }, { op: "spin" }],
        exits: { hlt: 1 },
        steps: [
          { op: "barrier", operands: { id: "go" }, checks: [] },
          {
            op: "wait-irq",
            operands: { vector: "0xec", timeoutNs: 1000000 },
            checks: [{
              expected: "interrupt before the timeout",
              actual: "timeout",
              status: "fail",
            }],
          },
          { op: "spin", operands: { ns: 500 }, checks: [] },
        ],
      },
    ],
    failures: [
      {
        vcpu: 0,
        step: 1,
        label: "steal",
        op: "rdmsr",
        expected: "fault GP",
        actual: "value 0x0",
      },
      {
        vcpu: 1,
        step: 1,
        op: "wait-irq",
        expected: "interrupt before the timeout",
        actual: "timeout",
      },
    ],
    notes: ["hypercalls in 32-bit mode are not emulated"],
  });
  // Plain JSON: no bigint anywhere, and a round trip changes nothing.
  assertEquals(JSON.parse(JSON.stringify(report)), report);
  assertEquals(probeExitStatus(report), 1);
});

Deno.test("a run where every expectation holds passes with status 0", () => {
  const good: ProbeRun = {
    ...run,
    vcpus: [
      {
        ...run.vcpus[0],
        results: run.vcpus[0].results.map((r, i): StepResult =>
          i === 1 ? { op: "rdmsr", fault: "GP" } : r
        ),
      },
      { ...run.vcpus[1], results: [{ op: "barrier" }, { op: "wait-irq" }, { op: "spin" }] },
    ],
  };
  const report = probeReport(probe, good);
  assertEquals(report.passed, true);
  assertEquals(report.failures, []);
  assertEquals(probeExitStatus(report), 0);
  assertStringIncludes(
    formatProbeReport(report),
    "probe mixed on emulated: passed (4 checks passed, 1 skipped)",
  );
});

Deno.test("formatProbeReport lists steps, results, checks, exits, failures and notes", () => {
  const text = formatProbeReport(probeReport(probe, run));
  const lines = text.split("\n");
  assertEquals(
    lines[0],
    "probe mixed on emulated: FAILED, 2 failures (2 checks passed, 1 skipped)",
  );
  assertEquals(lines[1], "vCPU 0");
  const line = (prefix: string): string => {
    const found = lines.map((l) => l.replaceAll(/ +/g, " ").trim()).find((l) =>
      l.startsWith(prefix)
    );
    if (found === undefined) throw new Error(`no line starting with ${prefix}:\n${text}`);
    return found;
  };
  assertEquals(
    line("0 cpuid"),
    "0 cpuid leaf=0x40000000 subleaf=0x0 eax=0x40000001 ebx=0x4b4d564b ecx=0x564b4d56 edx=0x4d ✓ eax = 0x40000001",
  );
  assertEquals(
    line("1 rdmsr"),
    "1 rdmsr msr=0x4b564d03 [steal] value 0x0 ✗ fault GP (got value 0x0)",
  );
  assertEquals(
    line("2 hypercall"),
    "2 hypercall nr=0xb args=0x1,0x0,0x0,0x0 ret 0xfffffffffffffc18 (-1000) ✓ ret = 0xfffffffffffffc18 (-1000)",
  );
  assertEquals(
    line("3 hypercall"),
    "3 hypercall nr=0x5 args=0x0,0x0,0x0,0x0 mode=32 cpl=3 skipped: no 32-bit mode ○ ret = 0xfffffc18 (-1000) (skipped)",
  );
  assertEquals(line("4 barrier"), "4 barrier id=go ok");
  assertEquals(line("exits: msr"), "exits: msr-read 1, hypercall 1, custom 2");
  assertEquals(line("exits: hlt"), "exits: hlt 1");
  assertEquals(
    line("1 wait-irq"),
    "1 wait-irq vector=0xec timeoutNs=1000000 timeout ✗ interrupt before the timeout (got timeout)",
  );
  const tail = lines.slice(lines.indexOf("failures"));
  assertEquals(tail, [
    "failures",
    "  vCPU 0 step 1 rdmsr [steal]: expected fault GP, got value 0x0",
    "  vCPU 1 step 1 wait-irq: expected interrupt before the timeout, got timeout",
    "notes",
    "  - hypercalls in 32-bit mode are not emulated",
  ]);
});

Deno.test("reports survive a run that stopped early or returned bad values", () => {
  const short: ProbeRun = {
    backend: "kvm",
    vcpus: [{ results: [{ op: "rdmsr", value: -1n } as unknown as StepResult], exits: {} }],
    notes: ["timed out after 1000 ms"],
  };
  const report = probeReport(probe, short);
  assertEquals(report.passed, false);
  assertEquals(report.vcpus[0].results, [{ op: "rdmsr", value: "-1" }]);
  assertEquals(report.vcpus[1].results, []);
  assertEquals(report.vcpus[1].exits, {});
  const text = formatProbeReport(report);
  assertStringIncludes(text, "(no result)");
  assertStringIncludes(text, "exits: none");
  assertStringIncludes(text, "vCPU 0 step 0 cpuid: expected a cpuid result, got a rdmsr result");
  assertStringIncludes(text, "vCPU 1 step 0 barrier: expected a result for every step");
});
