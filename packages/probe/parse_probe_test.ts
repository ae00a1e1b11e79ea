import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { ProbeError } from "./errors.ts";
import { loadProbeFile, parseProbe } from "./parse_probe.ts";
import type { Probe } from "./types.ts";

/** A one-vCPU probe with these steps (and machine fields). */
function withSteps(steps: unknown[], machine: Record<string, unknown> = {}): unknown {
  return { name: "t", machine, vcpus: [{ steps }] };
}

function errorOf(json: unknown): ProbeError {
  return assertThrows(() => parseProbe(json), ProbeError);
}

Deno.test("parseProbe fills in the machine defaults", () => {
  const probe = parseProbe(withSteps([]));
  assertEquals(probe, {
    name: "t",
    machine: {
      cpu: "host",
      machine: "q35",
      smp: 1,
      memory: 16 * 1024 * 1024,
      tscKhz: 2_600_000,
      enforcePvCpuid: false,
      cpuid: [],
      exitHypercall: [],
      plugins: [],
    },
    vcpus: [{ steps: [] }],
  });
});

Deno.test("parseProbe reads every machine field", () => {
  const probe = parseProbe({
    name: "m",
    description: "all fields",
    machine: {
      cpu: "host,kvm-pv-ipi=off",
      machine: "q35,kernel-irqchip=split",
      smp: 2,
      memory: "1G",
      tscKhz: "1000000",
      enforcePvCpuid: true,
      cpuid: {
        "0x40000001": { eax: "0x0", edx: "-1" },
        "0x7.1": { ebx: 5 },
        "0xd.0x1": {},
      },
      exitHypercall: [12],
      plugins: ["kvm-hc-map-gpa-range"],
    },
    vcpus: [{ steps: [] }, { steps: [] }],
  });
  assertEquals(probe.description, "all fields");
  assertEquals(probe.machine, {
    cpu: "host,kvm-pv-ipi=off",
    machine: "q35,kernel-irqchip=split",
    smp: 2,
    memory: 1024 ** 3,
    tscKhz: 1_000_000,
    enforcePvCpuid: true,
    cpuid: [
      { leaf: 0x40000001, eax: 0, edx: 0xffffffff },
      { leaf: 7, subleaf: 1, ebx: 5 },
      { leaf: 0xd, subleaf: 1 },
    ],
    exitHypercall: [12],
    plugins: ["kvm-hc-map-gpa-range"],
  });
});

Deno.test("parseProbe reads every step op with its defaults", () => {
  const probe = parseProbe(withSteps([
    { op: "cpuid", leaf: "0x40000000" },
    { op: "rdmsr", msr: "0x4b564d05", label: "poll" },
    { op: "wrmsr", msr: "0x4b564d03", value: "-1", cpl: 3 },
    { op: "hypercall", nr: 11, args: [1] },
    { op: "hypercall", nr: "0x5", args: ["-1", 2, 3, 4], mode: "32" },
    { op: "read", gpa: "0x1000", size: 8 },
    { op: "write", gpa: 4096, size: 1, value: "-1" },
    { op: "zero", gpa: "0x1000", length: 64 },
    { op: "rdtsc" },
    { op: "spin", ns: 1000 },
    { op: "preempt", ns: "200000" },
    { op: "hlt" },
    { op: "out", port: "0x3f8", size: 1, value: "0x41" },
    { op: "in", port: 0x3f8, size: 2 },
    { op: "barrier", id: "start" },
    { op: "barrier", id: 2 },
    { op: "sti" },
    { op: "cli" },
    { op: "eoi" },
    { op: "wait-irq", vector: "0xec", timeoutNs: 1000000 },
    { op: "sendIpi", apicId: 1, vector: 236 },
  ]));
  assertEquals(probe.vcpus[0].steps, [
    { op: "cpuid", leaf: 0x40000000, subleaf: 0 },
    { op: "rdmsr", msr: 0x4b564d05, cpl: 0, label: "poll" },
    { op: "wrmsr", msr: 0x4b564d03, value: 0xffffffffffffffffn, cpl: 3 },
    { op: "hypercall", nr: 11n, args: [1n, 0n, 0n, 0n], mode: "64", cpl: 0, insn: "native" },
    // Full registers for a 32-bit caller too: -1 is all 64 bits (KVM truncates, not the parser).
    {
      op: "hypercall",
      nr: 5n,
      args: [0xffffffffffffffffn, 2n, 3n, 4n],
      mode: "32",
      cpl: 0,
      insn: "native",
    },
    { op: "read", gpa: 0x1000n, size: 8 },
    { op: "write", gpa: 0x1000n, size: 1, value: 0xffn },
    { op: "zero", gpa: 0x1000n, length: 64 },
    { op: "rdtsc" },
    { op: "spin", ns: 1000 },
    { op: "preempt", ns: 200000 },
    { op: "hlt" },
    { op: "out", port: 0x3f8, size: 1, value: 0x41n },
    { op: "in", port: 0x3f8, size: 2 },
    { op: "barrier", id: "start" },
    { op: "barrier", id: "2" },
    { op: "sti" },
    { op: "cli" },
    { op: "eoi" },
    { op: "wait-irq", vector: 0xec, timeoutNs: 1000000 },
    { op: "sendIpi", apicId: 1, vector: 236 },
  ]);
});

Deno.test("parseProbe normalises expectations to unsigned values in the step's width", () => {
  const probe = parseProbe(withSteps([
    { op: "hypercall", nr: 5, expect: { ret: "-1000" } },
    { op: "hypercall", nr: 5, mode: 32, expect: { ret: "-1000", fault: null } },
    { op: "rdmsr", msr: 0x12, expect: { fault: "GP", skippedOk: false } },
    { op: "rdmsr", msr: 0x12, expect: { value: "-1", even: false } },
    { op: "read", gpa: 0, size: 4, expect: { min: 1, max: "0xffffffff", mask: "0xff", equals: 1 } },
    { op: "cpuid", leaf: "0x40000000", expect: { eax: "0x40000001", ebx: "0x4b4d564b" } },
    { op: "wait-irq", vector: 0xec, timeoutNs: 10, expect: { timeout: false } },
    { op: "write", gpa: 0, size: 1, value: 0, expect: { skippedOk: true } },
  ]));
  assertEquals(probe.vcpus[0].steps.map((s) => s.expect), [
    { ret: 0xfffffffffffffc18n },
    { ret: 0xfffffc18n, fault: null },
    { fault: "GP", skippedOk: false },
    { value: 0xffffffffffffffffn, even: false },
    { min: 1n, max: 0xffffffffn, mask: 0xffn, equals: 1n },
    { eax: 0x40000001n, ebx: 0x4b4d564bn },
    { timeout: false },
    { skippedOk: true },
  ]);
});

Deno.test("a bad value names the JSON path, as the format says", () => {
  const e = errorOf(withSteps([
    { op: "cpuid", leaf: 0 },
    { op: "cpuid", leaf: 1 },
    { op: "rdtsc" },
    { op: "rdmsr", msr: "0x4b564d1g" },
  ]));
  assertEquals(
    e.message,
    'probe.json: $.vcpus[0].steps[3].msr: "0x4b564d1g" is not a number or hex string',
  );
  assertEquals(e.code, "bad-probe");
  assertEquals(e.source, "probe.json");
  assertEquals(e.path, "$.vcpus[0].steps[3].msr");
});

Deno.test("parseProbe uses the given source name", () => {
  const e = assertThrows(() => parseProbe(null, "probes/x.json"), ProbeError);
  assertEquals(
    e.message,
    'probes/x.json: $: null is not a probe object: {"name", "machine", "vcpus"}',
  );
});

const okStep = { op: "rdtsc" };
const base = { name: "t", machine: {}, vcpus: [{ steps: [okStep] }] };
const steps = (...s: unknown[]) => withSteps(s);
const machine = (m: Record<string, unknown>) => withSteps([], m);
const S = "$.vcpus[0].steps";

/** [probe JSON, the path the error must name, a fragment of the message or hint]. */
const BAD: [string, unknown, string, string][] = [
  ["not an object", [], "$", "is not a probe object"],
  ["unknown top field", { ...base, vcpu: [] }, "$.vcpu", 'did you mean "vcpus"?'],
  ["missing name", { machine: {}, vcpus: [] }, "$.name", "is required"],
  ["empty name", { ...base, name: "" }, "$.name", "is not a non-empty string"],
  ["bad description", { ...base, description: 5 }, "$.description", "non-empty string"],
  ["missing machine", { name: "t", vcpus: [{ steps: [] }] }, "$.machine", "is required"],
  ["missing vcpus", { name: "t", machine: {} }, "$.vcpus", "is required"],
  ["empty vcpus", { ...base, vcpus: [] }, "$.vcpus", "at least one vCPU"],
  ["vcpu not an object", { ...base, vcpus: [[]] }, "$.vcpus[0]", "is not a vCPU object"],
  ["vcpu typo", { ...base, vcpus: [{ step: [] }] }, "$.vcpus[0].step", 'did you mean "steps"?'],
  ["vcpu without steps", { ...base, vcpus: [{}] }, "$.vcpus[0].steps", "is required"],
  ["steps not an array", { ...base, vcpus: [{ steps: {} }] }, "$.vcpus[0].steps", "not an array"],
  ["machine not an object", { ...base, machine: "q35" }, "$.machine", "is not a machine object"],
  ["machine typo", machine({ tsckhz: 1 }), "$.machine.tsckhz", 'did you mean "tscKhz"?'],
  ["smp mismatch", machine({ smp: 2 }), "$.machine.smp", "does not match the 1 vCPU(s)"],
  ["smp zero", machine({ smp: 0 }), "$.machine.smp", "out of range"],
  ["cpu empty", machine({ cpu: "" }), "$.machine.cpu", "non-empty string"],
  ["machine type", machine({ machine: 35 }), "$.machine.machine", "non-empty string"],
  ["memory", machine({ memory: "16X" }), "$.machine.memory", "is not a memory size"],
  ["tscKhz zero", machine({ tscKhz: 0 }), "$.machine.tscKhz", "out of range"],
  ["tscKhz wide", machine({ tscKhz: "0x100000000" }), "$.machine.tscKhz", "out of range"],
  ["enforce", machine({ enforcePvCpuid: "yes" }), "$.machine.enforcePvCpuid", "true or false"],
  ["cpuid not obj", machine({ cpuid: [] }), "$.machine.cpuid", "is not an object of leaves"],
  [
    "cpuid decimal key",
    machine({ cpuid: { "1073741825": {} } }),
    '$.machine.cpuid["1073741825"]',
    "is not a CPUID leaf",
  ],
  [
    "cpuid key junk",
    machine({ cpuid: { "0x4000000g": {} } }),
    '$.machine.cpuid["0x4000000g"]',
    "is not a CPUID leaf",
  ],
  [
    "cpuid leaf 9 digits",
    machine({ cpuid: { "0x140000001": {} } }),
    '$.machine.cpuid["0x140000001"]',
    "is not a CPUID leaf",
  ],
  [
    "cpuid subleaf wide",
    machine({ cpuid: { "0x7.4294967296": {} } }),
    '$.machine.cpuid["0x7.4294967296"]',
    "subleaf",
  ],
  [
    "cpuid duplicate",
    machine({ cpuid: { "0x7": {}, "0x7.0": {} } }),
    '$.machine.cpuid["0x7.0"]',
    'same leaf and subleaf as "0x7"',
  ],
  [
    "cpuid regs not obj",
    machine({ cpuid: { "0x1": 5 } }),
    '$.machine.cpuid["0x1"]',
    "is not an object of registers",
  ],
  [
    "cpuid register",
    machine({ cpuid: { "0x1": { rax: 0 } } }),
    '$.machine.cpuid["0x1"].rax',
    'did you mean "eax"?',
  ],
  [
    "cpuid value",
    machine({ cpuid: { "0x1": { ecx: "0x100000000" } } }),
    '$.machine.cpuid["0x1"].ecx',
    "does not fit in 32 bits",
  ],
  [
    "cpuid negative",
    machine({ cpuid: { "0x1": { ecx: "-2147483649" } } }),
    '$.machine.cpuid["0x1"].ecx',
    "does not fit in 32 bits",
  ],
  ["exitHypercall", machine({ exitHypercall: 12 }), "$.machine.exitHypercall", "not an array"],
  [
    "exitHypercall 64",
    machine({ exitHypercall: [64] }),
    "$.machine.exitHypercall[0]",
    "out of range (0 to 63)",
  ],
  [
    "exitHypercall twice",
    machine({ exitHypercall: [12, "0xc"] }),
    "$.machine.exitHypercall[1]",
    "listed twice",
  ],
  ["plugin name", machine({ plugins: ["Kvm PV"] }), "$.machine.plugins[0]", "is not a plugin name"],
  ["plugin twice", machine({ plugins: ["a", "a"] }), "$.machine.plugins[1]", "listed twice"],
  ["step not object", steps(5), `${S}[0]`, "is not a step object"],
  ["missing op", steps({ msr: 1 }), `${S}[0].op`, "is required"],
  ["unknown op", steps({ op: "rdmsrr", msr: 1 }), `${S}[0].op`, 'did you mean "rdmsr"?'],
  ["op case", steps({ op: "wait_irq" }), `${S}[0].op`, 'did you mean "wait-irq"?'],
  ["op type", steps({ op: 5 }), `${S}[0].op`, "is not a step op"],
  ["unknown field", steps({ op: "rdmsr", mrs: 1 }), `${S}[0].mrs`, 'did you mean "msr"?'],
  [
    "field of another op",
    steps({ op: "rdtsc", msr: 1 }),
    `${S}[0].msr`,
    "is not a field of a rdtsc step",
  ],
  ["missing msr", steps({ op: "rdmsr" }), `${S}[0].msr`, "is required (rdmsr {msr, cpl?})"],
  ["msr wide", steps({ op: "rdmsr", msr: "0x100000000" }), `${S}[0].msr`, "out of range"],
  ["msr negative", steps({ op: "rdmsr", msr: -1 }), `${S}[0].msr`, "out of range"],
  ["cpl", steps({ op: "rdmsr", msr: 1, cpl: 4 }), `${S}[0].cpl`, "is not one of 0, 1, 2 or 3"],
  [
    "wrmsr value",
    steps({ op: "wrmsr", msr: 1, value: "0x1ffffffffffffffff" }),
    `${S}[0].value`,
    "64 bits",
  ],
  ["wrmsr no value", steps({ op: "wrmsr", msr: 1 }), `${S}[0].value`, "is required"],
  ["cpuid leaf", steps({ op: "cpuid" }), `${S}[0].leaf`, "is required"],
  [
    "cpuid subleaf",
    steps({ op: "cpuid", leaf: 0, subleaf: 1.5 }),
    `${S}[0].subleaf`,
    "not an integer",
  ],
  ["hypercall nr", steps({ op: "hypercall" }), `${S}[0].nr`, "is required"],
  ["hypercall args", steps({ op: "hypercall", nr: 5, args: 0 }), `${S}[0].args`, "not an array"],
  [
    "hypercall 5 args",
    steps({ op: "hypercall", nr: 5, args: [0, 0, 0, 0, 0] }),
    `${S}[0].args`,
    "at most 4",
  ],
  [
    "hypercall arg",
    steps({ op: "hypercall", nr: 5, args: [0, "x"] }),
    `${S}[0].args[1]`,
    "not a number",
  ],
  [
    "hypercall mode",
    steps({ op: "hypercall", nr: 5, mode: "16" }),
    `${S}[0].mode`,
    "is not a mode",
  ],
  [
    "nr wider than a register",
    steps({ op: "hypercall", nr: "0x10000000000000005", mode: "32" }),
    `${S}[0].nr`,
    "does not fit in 64 bits",
  ],
  [
    "hypercall insn",
    steps({ op: "hypercall", nr: 5, insn: "vmcal" }),
    `${S}[0].insn`,
    '"vmcal" is not one of "native", "vmcall", "vmmcall"',
  ],
  [
    "site on rdmsr",
    steps({ op: "rdmsr", msr: 1, expect: { site: "vmcall" } }),
    `${S}[0].expect.site`,
    "is not a field of an expectation on a rdmsr step",
  ],
  [
    "hypercall site",
    steps({ op: "hypercall", nr: 5, expect: { site: "int3" } }),
    `${S}[0].expect.site`,
    '"int3" is not one of "vmcall", "vmmcall"',
  ],
  [
    "apic register offset",
    steps({ op: "apic-read", reg: "0xf4" }),
    `${S}[0].reg`,
    "0xf4 is not an APIC register offset",
  ],
  [
    "apic register past the page",
    steps({ op: "apic-read", reg: "0x400" }),
    `${S}[0].reg`,
    "out of range",
  ],
  [
    "apic access",
    steps({ op: "apic-read", reg: "0xf0", via: "mmi" }),
    `${S}[0].via`,
    '"mmi" is not one of "msr", "mmio"',
  ],
  [
    "apic write wider than the register",
    steps({ op: "apic-write", reg: "0xf0", value: "0x100000000" }),
    `${S}[0].value`,
    "does not fit in 32 bits (APIC registers are 32-bit, except the x2APIC ICR)",
  ],
  [
    "apic write needs a value",
    steps({ op: "apic-write", reg: "0xf0" }),
    `${S}[0].value`,
    "",
  ],
  [
    "operand on init",
    steps({ op: "init", reg: 1 }),
    `${S}[0].reg`,
    "is not a field of a init step",
  ],
  [
    "cpuid mask on no register",
    steps({ op: "cpuid", leaf: 1, expect: { mask: "0x20" } }),
    `${S}[0].expect.mask`,
    "masks no register",
  ],
  [
    "cpuid mask drops wanted bits",
    steps({ op: "cpuid", leaf: 1, expect: { ecx: "0x30", mask: { ecx: "0x20" } } }),
    `${S}[0].expect.ecx`,
    "has bits outside the ecx mask",
  ],
  [
    "cpuid mask of an unchecked register",
    steps({ op: "cpuid", leaf: 1, expect: { ecx: "0x20", mask: { ecx: "0x20", edx: "0x1" } } }),
    `${S}[0].expect.mask.edx`,
    "masks edx, which the expectation does not check",
  ],
  [
    "cpuid mask register name",
    steps({ op: "cpuid", leaf: 1, expect: { ecx: "0x20", mask: { exc: "0x20" } } }),
    `${S}[0].expect.mask.exc`,
    "",
  ],
  [
    "mode on rdmsr",
    steps({ op: "rdmsr", msr: 1, mode: "32" }),
    `${S}[0].mode`,
    "is not a field of a rdmsr step",
  ],
  [
    "read size",
    steps({ op: "read", gpa: 0, size: 3 }),
    `${S}[0].size`,
    "is not one of 1, 2, 4 or 8",
  ],
  ["read gpa negative", steps({ op: "read", gpa: -8, size: 8 }), `${S}[0].gpa`, "is negative"],
  [
    "read past RAM",
    steps({ op: "read", gpa: "0xfffffc", size: 8 }),
    `${S}[0].gpa`,
    "outside guest RAM (0x0-0xffffff)",
  ],
  [
    "write value",
    steps({ op: "write", gpa: 0, size: 1, value: "0x100" }),
    `${S}[0].value`,
    "does not fit in 8 bits (size is 1)",
  ],
  [
    "write negative",
    steps({ op: "write", gpa: 0, size: 1, value: -129 }),
    `${S}[0].value`,
    "8 bits",
  ],
  ["zero length", steps({ op: "zero", gpa: 0, length: 0 }), `${S}[0].length`, "out of range"],
  [
    "zero past RAM",
    steps({ op: "zero", gpa: "0x800000", length: "0x800001" }),
    `${S}[0].gpa`,
    "outside guest RAM",
  ],
  ["spin ns", steps({ op: "spin", ns: -1 }), `${S}[0].ns`, "out of range"],
  ["preempt ns", steps({ op: "preempt" }), `${S}[0].ns`, "is required"],
  [
    "out port",
    steps({ op: "out", port: 0x10000, size: 1, value: 0 }),
    `${S}[0].port`,
    "out of range (0 to 0xffff)",
  ],
  [
    "out size",
    steps({ op: "out", port: 0x80, size: 8, value: 0 }),
    `${S}[0].size`,
    "is not one of 1, 2 or 4",
  ],
  [
    "out value",
    steps({ op: "out", port: 0x80, size: 2, value: 0x10000 }),
    `${S}[0].value`,
    "16 bits",
  ],
  ["in size", steps({ op: "in", port: 0x80 }), `${S}[0].size`, "is required"],
  ["barrier id", steps({ op: "barrier", id: "" }), `${S}[0].id`, "non-empty string"],
  [
    "barrier twice",
    steps({ op: "barrier", id: "a" }, okStep, { op: "barrier", id: "a" }),
    `${S}[2].id`,
    "already appears at step 0",
  ],
  [
    "wait-irq vector",
    steps({ op: "wait-irq", vector: 256, timeoutNs: 1 }),
    `${S}[0].vector`,
    "out of range (0 to 255)",
  ],
  ["wait-irq timeout", steps({ op: "wait-irq", vector: 32 }), `${S}[0].timeoutNs`, "is required"],
  ["sendIpi apicId", steps({ op: "sendIpi", vector: 32 }), `${S}[0].apicId`, "is required"],
  ["label", steps({ op: "rdtsc", label: 5 }), `${S}[0].label`, "non-empty string"],
  ["expect not object", steps({ op: "rdtsc", expect: 5 }), `${S}[0].expect`, "is not an object"],
  [
    "expect value on hypercall",
    steps({ op: "hypercall", nr: 5, expect: { value: 0 } }),
    `${S}[0].expect.value`,
    'did you mean "ret"?',
  ],
  [
    "expect ret on rdmsr",
    steps({ op: "rdmsr", msr: 1, expect: { ret: 0 } }),
    `${S}[0].expect.ret`,
    'did you mean "value"?',
  ],
  [
    "expect typo",
    steps({ op: "rdmsr", msr: 1, expect: { faults: "GP" } }),
    `${S}[0].expect.faults`,
    'did you mean "fault"?',
  ],
  [
    "expect on write",
    steps({ op: "write", gpa: 0, size: 1, value: 0, expect: { value: 0 } }),
    `${S}[0].expect.value`,
    "known: skippedOk",
  ],
  [
    "fault GP on hypercall",
    steps({ op: "hypercall", nr: 5, expect: { fault: "GP" } }),
    `${S}[0].expect.fault`,
    'use "UD"',
  ],
  [
    "fault UD on rdmsr",
    steps({ op: "rdmsr", msr: 1, expect: { fault: "UD" } }),
    `${S}[0].expect.fault`,
    "is not a fault rdmsr can raise",
  ],
  [
    "fault on cpuid",
    steps({ op: "cpuid", leaf: 0, expect: { fault: null } }),
    `${S}[0].expect.fault`,
    "is not a field",
  ],
  [
    "fault and value",
    steps({ op: "rdmsr", msr: 1, expect: { fault: "GP", value: 0 } }),
    `${S}[0].expect.value`,
    "expected to fault with GP",
  ],
  [
    "expect value",
    steps({ op: "rdmsr", msr: 1, expect: { value: "0x10000000000000000" } }),
    `${S}[0].expect.value`,
    "64 bits",
  ],
  [
    "expect 32-bit ret",
    steps({ op: "hypercall", nr: 5, mode: "32", expect: { ret: "0x100000000" } }),
    `${S}[0].expect.ret`,
    "32 bits (the step's mode is 32)",
  ],
  [
    "expect read width",
    steps({ op: "read", gpa: 0, size: 2, expect: { value: "0x10000" } }),
    `${S}[0].expect.value`,
    "16 bits (size is 2)",
  ],
  [
    "expect cpuid reg",
    steps({ op: "cpuid", leaf: 0, expect: { eax: "0x100000000" } }),
    `${S}[0].expect.eax`,
    "32 bits",
  ],
  [
    "expect even",
    steps({ op: "rdtsc", expect: { even: "yes" } }),
    `${S}[0].expect.even`,
    "true or false",
  ],
  [
    "expect min > max",
    steps({ op: "rdtsc", expect: { min: 5, max: 4 } }),
    `${S}[0].expect.min`,
    "is above max",
  ],
  [
    "expect mask alone",
    steps({ op: "rdtsc", expect: { mask: 1 } }),
    `${S}[0].expect.equals`,
    "is required with mask",
  ],
  [
    "expect equals alone",
    steps({ op: "rdtsc", expect: { equals: 1 } }),
    `${S}[0].expect.mask`,
    "is required with equals",
  ],
  [
    "expect equals outside mask",
    steps({ op: "rdtsc", expect: { mask: 1, equals: 2 } }),
    `${S}[0].expect.equals`,
    "bits outside mask",
  ],
  [
    "expect timeout",
    steps({ op: "wait-irq", vector: 32, timeoutNs: 1, expect: { timeout: 1 } }),
    `${S}[0].expect.timeout`,
    "true or false",
  ],
  [
    "skippedOk",
    steps({ op: "rdtsc", expect: { skippedOk: "no" } }),
    `${S}[0].expect.skippedOk`,
    "true or false",
  ],
];

Deno.test("every validation error names the JSON path of the bad value", async (t) => {
  for (const [name, json, path, fragment] of BAD) {
    await t.step(name, () => {
      const e = errorOf(json);
      assertEquals(e.path, path);
      assertEquals(e.message.startsWith(`probe.json: ${path}: `), true, e.message);
      assertStringIncludes(`${e.message} ${e.hint ?? ""}`, fragment);
    });
  }
});

Deno.test("barriers met in different orders are rejected as a deadlock", () => {
  const e = errorOf({
    name: "t",
    machine: {},
    vcpus: [
      { steps: [{ op: "barrier", id: "a" }, { op: "barrier", id: "b" }] },
      { steps: [{ op: "barrier", id: "b" }, { op: "barrier", id: "c" }] },
      { steps: [{ op: "barrier", id: "c" }, { op: "barrier", id: "a" }] },
    ],
  });
  assertEquals(e.path, "$.vcpus[2].steps[1].id");
  assertStringIncludes(e.message, '"a" → "b" → "c" → "a"');
  // The same barriers in the same order are fine, and so is a barrier only one vCPU has.
  parseProbe({
    name: "t",
    machine: {},
    vcpus: [
      { steps: [{ op: "barrier", id: "a" }, { op: "barrier", id: "b" }] },
      { steps: [{ op: "barrier", id: "a" }, okStep, { op: "barrier", id: "b" }] },
      { steps: [{ op: "barrier", id: "solo" }, { op: "barrier", id: "b" }] },
    ],
  });
});

Deno.test("loadProbeFile reads, parses and validates a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good.json`;
    await Deno.writeTextFile(good, JSON.stringify(withSteps([okStep])));
    const probe: Probe = await loadProbeFile(good);
    assertEquals(probe.vcpus[0].steps, [{ op: "rdtsc" }]);

    const syntax = `${dir}/syntax.json`;
    await Deno.writeTextFile(syntax, '{"name": "t",}');
    let e = await loadError(syntax);
    assertEquals(e.path, undefined);
    assertStringIncludes(e.message, `${syntax}: is not valid JSON: `);

    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(bad, JSON.stringify(withSteps([{ op: "rdmsr", msr: "0x4b564d1g" }])));
    e = await loadError(bad);
    assertEquals(
      e.message,
      `${bad}: $.vcpus[0].steps[0].msr: "0x4b564d1g" is not a number or hex string`,
    );

    e = await loadError(`${dir}/missing.json`);
    assertEquals(e.message, `${dir}/missing.json: no such file`);
    assertEquals(e.code, "bad-probe");

    e = await loadError(dir);
    assertStringIncludes(e.message, `${dir}: `);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function loadError(path: string): Promise<ProbeError> {
  try {
    await loadProbeFile(path);
  } catch (e) {
    if (e instanceof ProbeError) return e;
    throw e;
  }
  throw new Error(`${path} loaded`);
}
