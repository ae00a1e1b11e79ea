import { assertEquals } from "@std/assert";
import { checkExpectations, checkStep } from "./expect.ts";
import { parseProbe } from "./parse_probe.ts";
import type { Probe, Step, StepResult } from "./types.ts";

/** Parses one step (through the real validator, so widths and defaults apply). */
function step(json: Record<string, unknown>): Step {
  return parseProbe({ name: "t", machine: {}, vcpus: [{ steps: [json] }] }).vcpus[0].steps[0];
}

function statuses(s: Step, result: StepResult | undefined): string[] {
  return checkStep(s, result).map((c) => c.status);
}

function oneStep(json: Record<string, unknown>): Probe {
  return parseProbe({ name: "t", machine: {}, vcpus: [{ steps: [json] }] });
}

const M = 1n << 64n;

Deno.test("fault expectations: GP, UD and no fault", () => {
  const gp = step({ op: "rdmsr", msr: "0x4b564d03", expect: { fault: "GP" } });
  assertEquals(checkStep(gp, { op: "rdmsr", fault: "GP" }), [
    { expected: "fault GP", actual: "fault GP", status: "pass" },
  ]);
  assertEquals(checkStep(gp, { op: "rdmsr", value: 0n }), [
    { expected: "fault GP", actual: "value 0x0", status: "fail" },
  ]);
  const wr = step({ op: "wrmsr", msr: 1, value: 0, expect: { fault: "GP" } });
  assertEquals(checkStep(wr, { op: "wrmsr" }), [
    { expected: "fault GP", actual: "no fault", status: "fail" },
  ]);
  const none = step({ op: "wrmsr", msr: 1, value: 0, expect: { fault: null } });
  assertEquals(statuses(none, { op: "wrmsr" }), ["pass"]);
  assertEquals(checkStep(none, { op: "wrmsr", fault: "GP" }), [
    { expected: "no fault", actual: "fault GP", status: "fail" },
  ]);
  const ud = step({ op: "hypercall", nr: 11, expect: { fault: "UD" } });
  assertEquals(statuses(ud, { op: "hypercall", fault: "UD" }), ["pass"]);
  assertEquals(statuses(ud, { op: "hypercall", ret: 0n }), ["fail"]);
});

Deno.test("value equality is unsigned 64-bit: -1 is 2^64 - 1", () => {
  const s = step({ op: "rdmsr", msr: 1, expect: { value: "-1" } });
  assertEquals(statuses(s, { op: "rdmsr", value: M - 1n }), ["pass"]);
  assertEquals(statuses(s, { op: "rdmsr", value: 0xffffffffn }), ["fail"]);
  // A value check on a step that faulted fails, showing the fault.
  assertEquals(checkStep(s, { op: "rdmsr", fault: "GP" }), [
    { expected: "value = 0xffffffffffffffff", actual: "fault GP", status: "fail" },
  ]);
});

Deno.test("hypercall ret -1000 compares mod 2^64, or mod 2^32 in 32-bit mode", () => {
  const s64 = step({ op: "hypercall", nr: 5, expect: { ret: "-1000" } });
  assertEquals(checkStep(s64, { op: "hypercall", ret: M - 1000n }), [
    {
      expected: "ret = 0xfffffffffffffc18 (-1000)",
      actual: "ret 0xfffffffffffffc18 (-1000)",
      status: "pass",
    },
  ]);
  assertEquals(checkStep(s64, { op: "hypercall", ret: 0xfffffc18n }), [
    {
      expected: "ret = 0xfffffffffffffc18 (-1000)",
      actual: "ret 0xfffffc18",
      status: "fail",
    },
  ]);
  const s32 = step({ op: "hypercall", nr: 5, mode: "32", expect: { ret: "-1000" } });
  assertEquals(checkStep(s32, { op: "hypercall", ret: 0xfffffc18n }), [
    { expected: "ret = 0xfffffc18 (-1000)", actual: "ret 0xfffffc18 (-1000)", status: "pass" },
  ]);
  // KVM truncates RAX to 32 bits for a 32-bit caller; upper bits are not compared either way.
  assertEquals(statuses(s32, { op: "hypercall", ret: M - 1000n }), ["pass"]);
  assertEquals(statuses(s32, { op: "hypercall", ret: 0n }), ["fail"]);
  const min32 = step({ op: "hypercall", nr: 5, mode: "32", expect: { min: "0x80000000" } });
  assertEquals(statuses(min32, { op: "hypercall", ret: 0x1_0000_0005n }), ["fail"]);
});

Deno.test("read and in compare in their access width", () => {
  const s = step({ op: "read", gpa: 0, size: 4, expect: { value: "-1" } });
  assertEquals(statuses(s, { op: "read", value: 0xffffffffn }), ["pass"]);
  const i = step({ op: "in", port: 0x80, size: 1, expect: { value: 0xff } });
  assertEquals(statuses(i, { op: "in", value: 0xffn }), ["pass"]);
});

Deno.test("even, min/max and mask/equals", () => {
  const even = step({ op: "read", gpa: 8, size: 4, expect: { even: true } });
  assertEquals(checkStep(even, { op: "read", value: 2n }), [
    { expected: "value even", actual: "value 0x2", status: "pass" },
  ]);
  assertEquals(statuses(even, { op: "read", value: 3n }), ["fail"]);
  const odd = step({ op: "rdtsc", expect: { even: false } });
  assertEquals(statuses(odd, { op: "rdtsc", value: 3n }), ["pass"]);

  const range = step({ op: "rdtsc", expect: { min: 10, max: "0x20" } });
  assertEquals(checkStep(range, { op: "rdtsc", value: 10n })[0].expected, "0xa <= value <= 0x20");
  assertEquals(statuses(range, { op: "rdtsc", value: 10n }), ["pass"]);
  assertEquals(statuses(range, { op: "rdtsc", value: 0x20n }), ["pass"]);
  assertEquals(statuses(range, { op: "rdtsc", value: 9n }), ["fail"]);
  assertEquals(statuses(range, { op: "rdtsc", value: 0x21n }), ["fail"]);
  const atLeast = step({ op: "rdtsc", expect: { min: 1 } });
  assertEquals(checkStep(atLeast, { op: "rdtsc", value: 0n })[0].expected, "value >= 0x1");
  const atMost = step({ op: "rdtsc", expect: { max: "-1" } }); // any value
  assertEquals(statuses(atMost, { op: "rdtsc", value: M - 1n }), ["pass"]);

  const mask = step({ op: "rdmsr", msr: "0x4b564d03", expect: { mask: "0x3f", equals: "0x1" } });
  assertEquals(checkStep(mask, { op: "rdmsr", value: 0x40001n }), [
    { expected: "value & 0x3f = 0x1", actual: "value 0x40001", status: "pass" },
  ]);
  assertEquals(statuses(mask, { op: "rdmsr", value: 0x40000n }), ["fail"]);
});

Deno.test("cpuid expectations are partial register equality", () => {
  const s = step({
    op: "cpuid",
    leaf: "0x40000000",
    expect: { ebx: "0x4b4d564b", eax: "0x40000001" },
  });
  const kvm: StepResult = {
    op: "cpuid",
    eax: 0x40000001n,
    ebx: 0x4b4d564bn,
    ecx: 0x564b4d56n,
    edx: 0x4dn,
  };
  assertEquals(checkStep(s, kvm), [
    { expected: "eax = 0x40000001", actual: "eax 0x40000001", status: "pass" },
    { expected: "ebx = 0x4b4d564b", actual: "ebx 0x4b4d564b", status: "pass" },
  ]);
  assertEquals(checkStep(s, { ...kvm, eax: 0n }), [
    { expected: "eax = 0x40000001", actual: "eax 0x0", status: "fail" },
    { expected: "ebx = 0x4b4d564b", actual: "ebx 0x4b4d564b", status: "pass" },
  ]);
});

Deno.test("wait-irq timeout expectations", () => {
  const noTimeout = step({
    op: "wait-irq",
    vector: 0xec,
    timeoutNs: 1000,
    expect: { timeout: false },
  });
  assertEquals(statuses(noTimeout, { op: "wait-irq" }), ["pass"]);
  assertEquals(statuses(noTimeout, { op: "wait-irq", timeout: false }), ["pass"]);
  assertEquals(checkStep(noTimeout, { op: "wait-irq", timeout: true }), [
    { expected: "interrupt before the timeout", actual: "timeout", status: "fail" },
  ]);
  const timeout = step({
    op: "wait-irq",
    vector: 0xec,
    timeoutNs: 1000,
    expect: { timeout: true },
  });
  assertEquals(statuses(timeout, { op: "wait-irq", timeout: true }), ["pass"]);
});

Deno.test("a skipped result never fails, unless skippedOk is false", () => {
  const s = step({ op: "hypercall", nr: 5, expect: { ret: "-1000", fault: null } });
  assertEquals(checkStep(s, { op: "hypercall", skipped: "hypercalls hang on this host" }), [
    { expected: "no fault", actual: "skipped: hypercalls hang on this host", status: "skipped" },
    {
      expected: "ret = 0xfffffffffffffc18 (-1000)",
      actual: "skipped: hypercalls hang on this host",
      status: "skipped",
    },
  ]);
  const strict = step({ op: "rdtsc", expect: { skippedOk: false } });
  assertEquals(checkStep(strict, { op: "rdtsc", skipped: "no" }), [
    { expected: "not skipped", actual: "skipped: no", status: "fail" },
  ]);
  assertEquals(checkStep(strict, { op: "rdtsc", value: 1n }), []);

  const probe = oneStep({ op: "hypercall", nr: 5, expect: { ret: "-1000" } });
  const run = {
    backend: "b",
    vcpus: [{ results: [{ op: "hypercall" as const, skipped: "x" }], exits: {} }],
    notes: [],
  };
  assertEquals(checkExpectations(probe, run), []);
});

Deno.test("a step without expect has no checks", () => {
  assertEquals(checkStep(step({ op: "rdmsr", msr: 1 }), { op: "rdmsr", fault: "GP" }), []);
  assertEquals(checkStep(step({ op: "hlt" }), { op: "hlt" }), []);
});

Deno.test("results that do not fit their step fail even without expectations", () => {
  const s = step({ op: "rdmsr", msr: 1 });
  assertEquals(checkStep(s, { op: "wrmsr" }), [
    { expected: "a rdmsr result", actual: "a wrmsr result", status: "fail" },
  ]);
  const malformed = [
    { op: "rdmsr" },
    { op: "rdmsr", value: -1n },
    { op: "rdmsr", value: M },
    { op: "rdmsr", value: 1 },
    { op: "rdmsr", fault: "UD" },
    { op: "rdmsr", skipped: 1 },
  ] as unknown as StepResult[];
  for (const r of malformed) {
    assertEquals(checkStep(s, r), [{
      expected: "a rdmsr result",
      actual: "a malformed result",
      status: "fail",
    }]);
  }
  const c = step({ op: "cpuid", leaf: 0 });
  assertEquals(
    statuses(c, { op: "cpuid", eax: 1n << 32n, ebx: 0n, ecx: 0n, edx: 0n }),
    ["fail"],
  );
  assertEquals(
    statuses(
      step({ op: "hypercall", nr: 1 }),
      { op: "hypercall", fault: "GP" } as unknown as StepResult,
    ),
    [
      "fail",
    ],
  );
});

Deno.test("checkExpectations reports failures with vCPU, step, label and op", () => {
  const probe = parseProbe({
    name: "t",
    machine: {},
    vcpus: [
      {
        steps: [
          { op: "rdmsr", msr: "0x12", label: "SYSTEM_TIME", expect: { fault: "GP" } },
          { op: "hypercall", nr: 5, expect: { ret: "-1000" } },
        ],
      },
      { steps: [{ op: "rdtsc", expect: { even: true } }] },
    ],
  });
  const failures = checkExpectations(probe, {
    backend: "b",
    vcpus: [
      {
        results: [{ op: "rdmsr", fault: "GP" }, { op: "hypercall", ret: 0n }],
        exits: {},
      },
      { results: [{ op: "rdtsc", value: 7n }], exits: {} },
    ],
    notes: [],
  });
  assertEquals(failures, [
    {
      vcpu: 0,
      step: 1,
      op: "hypercall",
      expected: "ret = 0xfffffffffffffc18 (-1000)",
      actual: "ret 0x0",
    },
    { vcpu: 1, step: 0, op: "rdtsc", expected: "value even", actual: "value 0x7" },
  ]);
});

Deno.test("a vCPU that stopped early fails once; extra results fail too", () => {
  const probe = parseProbe({
    name: "t",
    machine: { smp: 2 },
    vcpus: [
      { steps: [{ op: "rdtsc" }, { op: "hlt", label: "halt" }, { op: "rdtsc" }] },
      { steps: [{ op: "rdtsc" }] },
    ],
  });
  const failures = checkExpectations(probe, {
    backend: "b",
    vcpus: [
      { results: [{ op: "rdtsc", value: 1n }], exits: {} },
      { results: [{ op: "rdtsc", value: 1n }, { op: "hlt" }], exits: {} },
    ],
    notes: ["timed out"],
  });
  assertEquals(failures, [
    {
      vcpu: 0,
      step: 1,
      label: "halt",
      op: "hlt",
      expected: "a result for every step",
      actual: "no result for steps 1-2: the vCPU stopped early",
    },
    {
      vcpu: 1,
      step: 1,
      op: "hlt",
      expected: "no result: the vCPU has 1 steps",
      actual: "a hlt result",
    },
  ]);
  // A run with no entry for a vCPU is a vCPU that never started.
  const missing = checkExpectations(probe, { backend: "b", vcpus: [], notes: [] });
  assertEquals(missing.map((f) => [f.vcpu, f.step, f.actual]), [
    [0, 0, "no result for steps 0-2: the vCPU stopped early"],
    [1, 0, "no result for step 0: the vCPU stopped early"],
  ]);
  // No result: every clause is "missing" (the vCPU-level failure is the one that counts).
  assertEquals(statuses(step({ op: "rdtsc", expect: { min: 1 } }), undefined), ["missing"]);
});

Deno.test("inClockBracket: the value lies within the run's kvmclock bracket, whatever its width", () => {
  const probe = parseProbe({
    name: "bracket",
    machine: {},
    vcpus: [{ steps: [{ op: "read", gpa: "0x1010", size: 8, expect: { inClockBracket: true } }] }],
  });
  const step = probe.vcpus[0].steps[0];
  const bracket = { before: 100n, after: 5_000_000_000n };
  assertEquals(checkStep(step, { op: "read", value: 100n }, bracket)[0].status, "pass");
  assertEquals(checkStep(step, { op: "read", value: 5_000_000_000n }, bracket)[0].status, "pass");
  assertEquals(checkStep(step, { op: "read", value: 99n }, bracket)[0].status, "fail");
  assertEquals(checkStep(step, { op: "read", value: 5_000_000_001n }, bracket)[0].status, "fail");
  // A backend that measured no bracket cannot pass the clause.
  assertEquals(checkStep(step, { op: "read", value: 100n })[0].status, "fail");
  const run = {
    backend: "t",
    clockBracket: bracket,
    vcpus: [{ results: [{ op: "read" as const, value: 7n }], exits: {} }],
    notes: [],
  };
  assertEquals(checkExpectations(probe, run).length, 1);
});
