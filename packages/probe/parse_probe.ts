/**
 * Reading probe files: JSON in, a validated {@linkcode Probe} with every default filled in
 * out, or a {@linkcode ProbeError} naming the file and the JSON path of the first problem.
 *
 * @module
 */

import { MAX_GUEST_TSC_KHZ } from "@pvkit/abi";
import { didYouMean } from "./_did_you_mean.ts";
import {
  array,
  boolean,
  JsonAt,
  member,
  object,
  onlyKnown,
  required,
  show,
  string,
} from "./_json.ts";
import { ProbeError } from "./errors.ts";
import type {
  AccessSize,
  ApicAccess,
  Cpl,
  CpuidOverride,
  CpuidRegisterName,
  Expectation,
  Fault,
  HypercallInsnChoice,
  HypercallMode,
  PortSize,
  Probe,
  ProbeClock,
  ProbeMachine,
  ProbeVcpu,
  Step,
  StepOp,
} from "./types.ts";
import { STEP_OPS } from "./types.ts";
import { parseMemorySize, parseProbeValue, toUnsigned } from "./values.ts";
import { resultWidth } from "./result_width.ts";
import { checkBarrierOrder } from "./_barrier_order.ts";
import { PROBE_LIMITS } from "./limits.ts";
import { readProbeText } from "./_probe_text.ts";

// Defaults, from the probe format.
const DEFAULT_CPU = "host";
const DEFAULT_MACHINE = "q35";
const DEFAULT_MEMORY = 16 * 1024 * 1024;
const DEFAULT_TSC_KHZ = 2_600_000;

const U32_MAX = 0xffff_ffff;
const PLUGIN_NAME = /^[a-z][a-z0-9-]*$/;
const CPUID_KEY = /^0x([0-9a-fA-F]{1,8})(?:\.(0x[0-9a-fA-F]{1,8}|[0-9]{1,10}))?$/;
const REGISTERS = ["eax", "ebx", "ecx", "edx"] as const;

const PROBE_FIELDS = ["name", "description", "machine", "vcpus"];
const MACHINE_FIELDS = [
  "cpu",
  "machine",
  "smp",
  "memory",
  "tscKhz",
  "enforcePvCpuid",
  "cpuid",
  "exitHypercall",
  "plugins",
  "clock",
];
const STEP_COMMON = ["op", "label", "expect"];

/** Each op's operands, as a probe writes them (`?` = optional). */
const OPERANDS: Readonly<Record<StepOp, readonly string[]>> = {
  cpuid: ["leaf", "subleaf?"],
  rdmsr: ["msr", "cpl?"],
  wrmsr: ["msr", "value", "cpl?"],
  hypercall: ["nr", "args?", "mode?", "cpl?", "insn?"],
  read: ["gpa", "size"],
  write: ["gpa", "size", "value"],
  zero: ["gpa", "length"],
  rdtsc: [],
  spin: ["ns"],
  preempt: ["ns"],
  hlt: [],
  out: ["port", "size", "value"],
  in: ["port", "size"],
  barrier: ["id"],
  sti: [],
  cli: [],
  eoi: [],
  "wait-irq": ["vector", "timeoutNs"],
  sendIpi: ["apicId", "vector"],
  "apic-read": ["reg", "via?"],
  "apic-write": ["reg", "value", "via?"],
  init: [],
  reset: [],
};

/** What each op's result can be checked for: the clauses, the faults, the aliases to suggest. */
interface ExpectRule {
  readonly keys: readonly string[];
  readonly faults: readonly Fault[];
  readonly aliases: Readonly<Record<string, string>>;
}

const VALUE_KEYS = ["value", "even", "min", "max", "mask", "equals", "inClockBracket"];
const VALUE_RULE: ExpectRule = { keys: VALUE_KEYS, faults: [], aliases: { ret: "value" } };
const NO_RESULT: ExpectRule = { keys: [], faults: [], aliases: {} };

const EXPECT_RULES: Readonly<Record<StepOp, ExpectRule>> = {
  cpuid: { keys: [...REGISTERS, "mask"], faults: [], aliases: { value: "eax" } },
  rdmsr: { keys: ["fault", ...VALUE_KEYS], faults: ["GP"], aliases: { ret: "value" } },
  wrmsr: { keys: ["fault"], faults: ["GP"], aliases: {} },
  hypercall: {
    keys: ["fault", "ret", "even", "min", "max", "mask", "equals", "site"],
    faults: ["UD"],
    aliases: { value: "ret" },
  },
  read: VALUE_RULE,
  write: NO_RESULT,
  zero: NO_RESULT,
  rdtsc: VALUE_RULE,
  spin: NO_RESULT,
  preempt: NO_RESULT,
  hlt: NO_RESULT,
  out: NO_RESULT,
  in: VALUE_RULE,
  barrier: NO_RESULT,
  sti: NO_RESULT,
  cli: NO_RESULT,
  eoi: NO_RESULT,
  "wait-irq": { keys: ["timeout"], faults: [], aliases: {} },
  sendIpi: NO_RESULT,
  "apic-read": { keys: ["fault", ...VALUE_KEYS], faults: ["GP"], aliases: { ret: "value" } },
  "apic-write": { keys: ["fault"], faults: ["GP"], aliases: {} },
  init: NO_RESULT,
  reset: NO_RESULT,
};

const INSNS: readonly HypercallInsnChoice[] = ["native", "vmcall", "vmmcall"];
const APIC_ACCESSES: readonly ApicAccess[] = ["msr", "mmio"];
/** The x2APIC ICR (offset 0x300) is the one 64-bit APIC register. */
const APIC_ICR = 0x300;

// ---------------------------------------------------------------------------------------------
// Numbers with a width

function value(json: unknown, at: JsonAt): bigint {
  return parseProbeValue(json, at.path, at.source);
}

/** A count, index or time: a non-negative integer from `min` to `max`. */
function count(json: unknown, at: JsonAt, min: number, max: number): number {
  const v = value(json, at);
  if (v < BigInt(min) || v > BigInt(max)) {
    const top = max === Number.MAX_SAFE_INTEGER
      ? "2^53 - 1"
      : max >= 0xffff
      ? `0x${max.toString(16)}`
      : `${max}`;
    at.fail(`${show(json)} is out of range (${min} to ${top})`);
  }
  return Number(v);
}

/** An unsigned value of `bits` bits; negative values are not allowed (addresses, indices). */
function address(json: unknown, at: JsonAt, bits: number): bigint {
  const v = value(json, at);
  if (v < 0n) at.fail(`${show(json)} is negative`);
  if (v >> BigInt(bits) !== 0n) at.fail(`${show(json)} does not fit in ${bits} bits`);
  return v;
}

/**
 * A register-sized value of `bits` bits: a negative value is its two's complement (it must
 * fit as a signed value), a positive one must fit unsigned.
 */
function register(json: unknown, at: JsonAt, bits: number, why = ""): bigint {
  const v = value(json, at);
  const limit = 1n << BigInt(bits);
  if (v < -(limit >> 1n) || v >= limit) at.fail(`${show(json)} does not fit in ${bits} bits${why}`);
  return toUnsigned(v, bits);
}

function oneOf<T extends number>(json: unknown, at: JsonAt, allowed: readonly T[]): T {
  const v = value(json, at);
  const n = Number(v);
  if (!allowed.includes(n as T)) {
    at.fail(`${show(json)} is not one of ${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`);
  }
  return n as T;
}

/** One of a few strings; the error lists them. */
function choice<T extends string>(json: unknown, at: JsonAt, allowed: readonly T[]): T {
  if (typeof json !== "string" || !(allowed as readonly string[]).includes(json)) {
    at.fail(
      `${show(json)} is not one of ${allowed.map((a) => `"${a}"`).join(", ")}`,
      () =>
        (typeof json === "string" ? didYouMean(json, allowed) : undefined) ??
          `use ${allowed.map((a) => `"${a}"`).join(" or ")}`,
    );
  }
  return json as T;
}

/** A local APIC register offset: a multiple of 16 in the 4 KiB xAPIC page's first 1 KiB. */
function apicRegister(json: unknown, at: JsonAt): number {
  const reg = count(json, at, 0, 0x3f0);
  if (reg % 16 !== 0) {
    at.fail(
      `0x${reg.toString(16)} is not an APIC register offset (a multiple of 0x10)`,
      "use the xAPIC offset, e.g. 0xf0 for the SVR or 0x100 for ISR bits 0-31",
    );
  }
  return reg;
}

// ---------------------------------------------------------------------------------------------
// Machine

function parseCpuidOverrides(json: unknown, at: JsonAt): CpuidOverride[] {
  const obj = object(json, at, 'an object of leaves, e.g. {"0x40000001": {"eax": "0x0"}}');
  const leaves = Object.keys(obj).length;
  if (leaves > PROBE_LIMITS.cpuidOverrides) {
    at.fail(
      `has ${leaves} leaves; KVM_SET_CPUID2 takes at most ${PROBE_LIMITS.cpuidOverrides} ` +
        "entries (KVM_MAX_CPUID_ENTRIES), so a probe may override at most that many",
    );
  }
  const seen = new Map<string, string>();
  const out: CpuidOverride[] = [];
  for (const [key, regsJson] of Object.entries(obj)) {
    const keyAt: JsonAt = at.key(key);
    const match = CPUID_KEY.exec(key);
    if (match === null) {
      keyAt.fail(
        `${show(key)} is not a CPUID leaf`,
        'write the leaf in hex, with an optional subleaf: "0x40000001" or "0x7.1"',
      );
    }
    const leaf = parseInt(match[1], 16);
    const subleaf = match[2] === undefined ? undefined : Number(match[2]);
    if (subleaf !== undefined && subleaf > U32_MAX) {
      keyAt.fail(`the subleaf does not fit in 32 bits`);
    }
    const id = `${leaf}.${subleaf ?? 0}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) keyAt.fail(`sets the same leaf and subleaf as ${show(earlier)}`);
    seen.set(id, key);
    const regs = object(regsJson, keyAt, 'an object of registers, e.g. {"eax": "0x0"}');
    onlyKnown(regs, keyAt, REGISTERS, "a CPUID override");
    const override: { -readonly [K in keyof CpuidOverride]: CpuidOverride[K] } = { leaf };
    if (subleaf !== undefined) override.subleaf = subleaf;
    for (const reg of REGISTERS) {
      const r = member(regs, reg);
      if (r !== undefined) override[reg] = Number(register(r, keyAt.key(reg), 32));
    }
    out.push(override);
  }
  return out;
}

function parseNumberList(json: unknown, at: JsonAt, max: number): number[] {
  const out: number[] = [];
  array(json, at).forEach((item, i) => {
    const n = count(item, at.index(i), 0, max);
    if (out.includes(n)) at.index(i).fail(`${n} is listed twice`);
    out.push(n);
  });
  return out;
}

function parsePlugins(json: unknown, at: JsonAt): string[] {
  const out: string[] = [];
  array(json, at).forEach((item, i) => {
    const name = string(item, at.index(i));
    if (!PLUGIN_NAME.test(name)) {
      at.index(i).fail(`${show(name)} is not a plugin name (lowercase letters, digits and "-")`);
    }
    if (out.includes(name)) at.index(i).fail(`${show(name)} is listed twice`);
    out.push(name);
  });
  return out;
}

/** `clock`: KVM_SET_CLOCK before the run (`realtime` is an offset from the host's realtime). */
function parseClock(json: unknown, at: JsonAt): ProbeClock {
  const obj = object(json, at, 'a clock object such as {"clock": "180000000000"}');
  onlyKnown(obj, at, ["clock", "realtime"], "the clock");
  const clockJson = member(obj, "clock");
  if (clockJson === undefined) at.key("clock").fail("is required (kvmclock in ns)");
  const clock = parseProbeValue(clockJson, at.key("clock").path, at.source);
  if (clock < 0n) at.key("clock").fail("must not be negative");
  const realtimeJson = member(obj, "realtime");
  return realtimeJson === undefined ? { clock } : {
    clock,
    realtimeOffsetNs: parseProbeValue(realtimeJson, at.key("realtime").path, at.source),
  };
}

function parseMachine(json: unknown, at: JsonAt, vcpuCount: number): ProbeMachine {
  const obj = object(json, at, "a machine object (use {} for the defaults)");
  onlyKnown(obj, at, MACHINE_FIELDS, "the machine");
  const field = (name: string): unknown => member(obj, name);
  const smpJson = field("smp");
  if (smpJson !== undefined) {
    const smp = count(smpJson, at.key("smp"), 1, Number.MAX_SAFE_INTEGER);
    if (smp !== vcpuCount) {
      at.key("smp").fail(
        `${smp} does not match the ${vcpuCount} vCPU(s) in $.vcpus`,
        'give one {"steps": [...]} per vCPU, or leave smp out',
      );
    }
  }
  const opt = <T>(name: string, parse: (j: unknown, a: JsonAt) => T, fallback: T): T => {
    const j = field(name);
    return j === undefined ? fallback : parse(j, at.key(name));
  };
  return {
    cpu: opt("cpu", string, DEFAULT_CPU),
    machine: opt("machine", string, DEFAULT_MACHINE),
    smp: vcpuCount,
    memory: opt("memory", parseProbeMemory, DEFAULT_MEMORY),
    // KVM_SET_TSC_KHZ's limit (see MAX_GUEST_TSC_KHZ).
    tscKhz: opt("tscKhz", (j, a) => count(j, a, 1, MAX_GUEST_TSC_KHZ), DEFAULT_TSC_KHZ),
    enforcePvCpuid: opt("enforcePvCpuid", boolean, false),
    cpuid: opt("cpuid", parseCpuidOverrides, []),
    // KVM_CAP_EXIT_HYPERCALL takes a 64-bit mask of hypercall numbers.
    exitHypercall: opt("exitHypercall", (j, a) => parseNumberList(j, a, 63), []),
    plugins: opt("plugins", parsePlugins, []),
    ...(field("clock") !== undefined ? { clock: parseClock(field("clock"), at.key("clock")) } : {}),
  };
}

function parseProbeMemory(json: unknown, at: JsonAt): number {
  const bytes = parseMemorySize(json, at.path, at.source);
  if (bytes > PROBE_LIMITS.memoryBytes) {
    at.fail(
      `${show(json)} is more than the ${PROBE_LIMITS.memoryBytes >> 30}G of RAM a probe may have`,
      'probes need little memory: the default is "16M"',
    );
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Steps

function checkRange(at: JsonAt, gpa: bigint, length: number, memory: number): void {
  if (gpa + BigInt(length) > BigInt(memory)) {
    at.fail(
      `0x${gpa.toString(16)} + ${length} byte(s) is outside guest RAM (0x0-0x${
        (memory - 1).toString(16)
      })`,
      "use an address inside the machine's memory, or give the machine more memory",
    );
  }
}

function parseOperands(
  op: StepOp,
  obj: Record<string, unknown>,
  at: JsonAt,
  machine: ProbeMachine,
): Step {
  const signature = `${op} {${OPERANDS[op].join(", ")}}`;
  const need = (
    name: string,
  ): [unknown, JsonAt] => [required(obj, at, name, signature), at.key(name)];
  const maybe = (name: string): [unknown, JsonAt] | undefined => {
    const j = member(obj, name);
    return j === undefined ? undefined : [j, at.key(name)];
  };
  const cpl = (): Cpl => {
    const c = maybe("cpl");
    return c === undefined ? 0 : oneOf<Cpl>(...c, [0, 1, 2, 3]);
  };
  const gpa = (): bigint => address(...need("gpa"), 64);
  switch (op) {
    case "cpuid": {
      const sub = maybe("subleaf");
      return {
        op,
        leaf: count(...need("leaf"), 0, U32_MAX),
        subleaf: sub === undefined ? 0 : count(...sub, 0, U32_MAX),
      };
    }
    case "rdmsr":
      return { op, msr: count(...need("msr"), 0, U32_MAX), cpl: cpl() };
    case "wrmsr":
      return {
        op,
        msr: count(...need("msr"), 0, U32_MAX),
        value: register(...need("value"), 64),
        cpl: cpl(),
      };
    case "hypercall": {
      const m = maybe("mode");
      let mode: HypercallMode = "64";
      if (m !== undefined) {
        if (m[0] !== "32" && m[0] !== "64" && m[0] !== 32 && m[0] !== 64) {
          m[1].fail(`${show(m[0])} is not a mode`, 'use "64" (the default) or "32"');
        }
        mode = String(m[0]) as HypercallMode;
      }
      // Full registers in every mode: KVM truncates for a 32-bit caller (is_64_bit_hypercall).
      const nr = register(...need("nr"), 64);
      const a = maybe("args");
      const args: [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];
      if (a !== undefined) {
        const list = array(...a);
        if (list.length > 4) a[1].fail(`has ${list.length} arguments; a hypercall takes at most 4`);
        list.forEach((j, i) => args[i] = register(j, a[1].index(i), 64));
      }
      const i = maybe("insn");
      const insn = i === undefined ? "native" : choice(...i, INSNS);
      return { op, nr, args, mode, cpl: cpl(), insn };
    }
    case "read": {
      const g = gpa();
      const size = oneOf<AccessSize>(...need("size"), [1, 2, 4, 8]);
      checkRange(at.key("gpa"), g, size, machine.memory);
      return { op, gpa: g, size };
    }
    case "write": {
      const g = gpa();
      const size = oneOf<AccessSize>(...need("size"), [1, 2, 4, 8]);
      checkRange(at.key("gpa"), g, size, machine.memory);
      const v = register(...need("value"), size * 8, ` (size is ${size})`);
      return { op, gpa: g, size, value: v };
    }
    case "zero": {
      const g = gpa();
      const length = count(...need("length"), 1, Number.MAX_SAFE_INTEGER);
      checkRange(at.key("gpa"), g, length, machine.memory);
      return { op, gpa: g, length };
    }
    case "spin":
    case "preempt":
      return { op, ns: count(...need("ns"), 0, Number.MAX_SAFE_INTEGER) };
    case "out": {
      const port = count(...need("port"), 0, 0xffff);
      const size = oneOf<PortSize>(...need("size"), [1, 2, 4]);
      return { op, port, size, value: register(...need("value"), size * 8, ` (size is ${size})`) };
    }
    case "in":
      return {
        op,
        port: count(...need("port"), 0, 0xffff),
        size: oneOf<PortSize>(...need("size"), [1, 2, 4]),
      };
    case "barrier": {
      const [j, idAt] = need("id");
      if (typeof j === "number") {
        return { op, id: String(count(j, idAt, 0, Number.MAX_SAFE_INTEGER)) };
      }
      return { op, id: string(j, idAt) };
    }
    case "wait-irq":
      return {
        op,
        vector: count(...need("vector"), 0, 255),
        timeoutNs: count(...need("timeoutNs"), 0, Number.MAX_SAFE_INTEGER),
      };
    case "sendIpi":
      return {
        op,
        apicId: count(...need("apicId"), 0, U32_MAX),
        vector: count(...need("vector"), 0, 255),
      };
    case "apic-read":
    case "apic-write": {
      const reg = apicRegister(...need("reg"));
      const v = maybe("via");
      const via = v === undefined ? "msr" : choice(...v, APIC_ACCESSES);
      if (op === "apic-read") return { op, reg, via };
      const bits = reg === APIC_ICR && via === "msr" ? 64 : 32;
      const why = bits === 32 ? " (APIC registers are 32-bit, except the x2APIC ICR)" : "";
      return { op, reg, value: register(...need("value"), bits, why), via };
    }
    case "rdtsc":
    case "hlt":
    case "sti":
    case "cli":
    case "eoi":
    case "init":
    case "reset":
      return { op };
  }
}

function parseExpectation(json: unknown, at: JsonAt, step: Step): Expectation {
  const obj = object(json, at, 'an object, e.g. {"fault": "GP"} or {"value": "0x1"}');
  const rule = EXPECT_RULES[step.op];
  const what = `an expectation on a ${step.op} step`;
  onlyKnown(obj, at, [...rule.keys, "skippedOk"], what, rule.aliases);
  const bits = resultWidth(step);
  const why = step.op === "hypercall" && bits === 32
    ? " (the step's mode is 32)"
    : step.op === "read" || step.op === "in"
    ? ` (size is ${bits / 8})`
    : "";
  const out: { -readonly [K in keyof Expectation]: Expectation[K] } = {};
  let valueClause: string | undefined;
  for (const key of Object.keys(obj)) {
    const j = obj[key];
    const keyAt = at.key(key);
    switch (key) {
      case "fault":
        if (j !== null && !rule.faults.includes(j as Fault)) {
          keyAt.fail(
            `${show(j)} is not a fault ${step.op} can raise`,
            `use ${rule.faults.map((f) => `"${f}"`).join(" or ")}, or null for "no fault"`,
          );
        }
        out.fault = j as Fault | null;
        break;
      case "even":
        out.even = boolean(j, keyAt);
        valueClause ??= key;
        break;
      case "timeout":
        out.timeout = boolean(j, keyAt);
        break;
      case "site":
        out.site = choice(j, keyAt, ["vmcall", "vmmcall"]);
        break;
      case "skippedOk":
        out.skippedOk = boolean(j, keyAt);
        break;
      case "inClockBracket":
        out.inClockBracket = boolean(j, keyAt);
        valueClause ??= key;
        break;
      case "value":
      case "ret":
      case "eax":
      case "ebx":
      case "ecx":
      case "edx":
      case "min":
      case "max":
      case "mask":
      case "equals":
        if (step.op === "cpuid" && key === "mask") {
          out.registerMask = cpuidMask(j, keyAt);
          break;
        }
        out[key] = register(j, keyAt, bits, why);
        valueClause ??= key;
        break;
    }
  }
  if (step.op === "cpuid") {
    checkCpuidMask(out, at);
    return out;
  }
  if (out.fault && valueClause !== undefined) {
    at.key(valueClause).fail(
      `cannot be checked: the step is expected to fault with ${out.fault}`,
      'drop it, or expect {"fault": null}',
    );
  }
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) {
    at.key("min").fail("is above max: the check could never pass");
  }
  if ((out.mask === undefined) !== (out.equals === undefined)) {
    const missing = out.mask === undefined ? "mask" : "equals";
    at.key(missing).fail(`is required with ${missing === "mask" ? "equals" : "mask"}`);
  }
  if (out.mask !== undefined && out.equals !== undefined && (out.equals & ~out.mask) !== 0n) {
    at.key("equals").fail("has bits outside mask: the check could never pass");
  }
  return out;
}

/**
 * `mask` on a cpuid expectation: one value for every register clause, or an object of
 * per-register masks (`{"ecx": "0x80000000"}`).
 */
function cpuidMask(json: unknown, at: JsonAt): Partial<Record<CpuidRegisterName, bigint>> {
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const obj = object(json, at, 'an object of registers, e.g. {"ecx": "0x20"}');
    onlyKnown(obj, at, REGISTERS, "a cpuid mask");
    const out: Partial<Record<CpuidRegisterName, bigint>> = {};
    for (const reg of REGISTERS) {
      const r = member(obj, reg);
      if (r !== undefined) out[reg] = register(r, at.key(reg), 32);
    }
    return out;
  }
  const m = register(json, at, 32);
  return { eax: m, ebx: m, ecx: m, edx: m };
}

/** Every masked register has a clause, and no clause wants bits its mask drops. */
function checkCpuidMask(out: Expectation, at: JsonAt): void {
  const masks = out.registerMask;
  if (masks === undefined) return;
  const named = REGISTERS.filter((r) => out[r] !== undefined);
  if (named.length === 0) {
    at.key("mask").fail(
      "masks no register: name the register(s) it applies to",
      'e.g. {"ecx": "0x80000000", "mask": "0x80000000"}',
    );
  }
  for (const reg of REGISTERS) {
    const m = masks[reg];
    const want = out[reg];
    if (m === undefined) continue;
    if (want === undefined) {
      if (Object.values(masks).every((v) => v === m)) continue; // one mask for all clauses
      return at.key("mask").key(reg).fail(`masks ${reg}, which the expectation does not check`);
    }
    if ((want & ~m) !== 0n) {
      at.key(reg).fail(`has bits outside the ${reg} mask: the check could never pass`);
    }
  }
}

function parseStep(json: unknown, at: JsonAt, machine: ProbeMachine): Step {
  const obj = object(json, at, 'a step object, e.g. {"op": "rdmsr", "msr": "0x4b564d01"}');
  const opJson = required(obj, at, "op", `one of ${STEP_OPS.join(", ")}`);
  if (typeof opJson !== "string" || !(STEP_OPS as readonly string[]).includes(opJson)) {
    at.key("op").fail(
      `${show(opJson)} is not a step op`,
      () =>
        (typeof opJson === "string" ? didYouMean(opJson, STEP_OPS) : undefined) ??
          `use one of ${STEP_OPS.join(", ")}`,
    );
  }
  const op = opJson as StepOp;
  const operands = OPERANDS[op].map((o) => o.replace("?", ""));
  onlyKnown(obj, at, [...operands, ...STEP_COMMON], `a ${op} step`);
  let step: Step = parseOperands(op, obj, at, machine);
  const label = member(obj, "label");
  if (label !== undefined) step = { ...step, label: string(label, at.key("label")) };
  const expect = member(obj, "expect");
  if (expect !== undefined) {
    step = { ...step, expect: parseExpectation(expect, at.key("expect"), step) };
  }
  return step;
}

/** Refuses a probe beyond {@linkcode PROBE_LIMITS} before its steps are parsed. */
function checkSizes(vcpusJson: readonly unknown[], at: JsonAt): void {
  if (vcpusJson.length > PROBE_LIMITS.vcpus) {
    at.fail(`has ${vcpusJson.length} vCPUs; a probe may have at most ${PROBE_LIMITS.vcpus}`);
  }
  let steps = 0;
  for (const vcpu of vcpusJson) {
    const list = typeof vcpu === "object" && vcpu !== null && "steps" in vcpu ? vcpu.steps : [];
    if (Array.isArray(list)) steps += list.length;
  }
  if (steps > PROBE_LIMITS.steps) {
    at.fail(
      `has ${steps} steps in all; a probe may have at most ${PROBE_LIMITS.steps}`,
      "split the probe into several files",
    );
  }
}

function parseVcpu(json: unknown, at: JsonAt, machine: ProbeMachine): ProbeVcpu {
  const obj = object(json, at, 'a vCPU object: {"steps": [...]}');
  onlyKnown(obj, at, ["steps"], "a vCPU");
  const stepsAt = at.key("steps");
  const steps = array(required(obj, at, "steps", 'a vCPU is {"steps": [...]}'), stepsAt)
    .map((s, i) => parseStep(s, stepsAt.index(i), machine));
  const barriers = new Map<string, number>();
  steps.forEach((step, i) => {
    if (step.op === "barrier") {
      const first = barriers.get(step.id);
      if (first !== undefined) {
        stepsAt.index(i).key("id").fail(
          `barrier ${show(step.id)} already appears at step ${first} of this vCPU`,
          "give each meeting point its own id",
        );
      }
      barriers.set(step.id, i);
    }
  });
  return { steps };
}

/**
 * Validates a probe program given as parsed JSON and fills in every default. `source` names
 * the file in error messages.
 *
 * @throws {ProbeError} naming `source` and the JSON path of the first problem.
 *
 * @example
 * ```ts
 * import { parseProbe, ProbeError } from "@pvkit/probe";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const probe = parseProbe({
 *   name: "steal-time-msr",
 *   machine: {},
 *   vcpus: [{
 *     steps: [
 *       { op: "wrmsr", msr: "0x4b564d03", value: "0x40001" },
 *       { op: "rdmsr", msr: "0x4b564d03", expect: { value: "0x40001" } },
 *     ],
 *   }],
 * });
 * assertEquals(probe.machine.memory, 16 * 1024 * 1024);
 * assertEquals(probe.vcpus[0].steps[1], {
 *   op: "rdmsr", msr: 0x4b564d03, cpl: 0, expect: { value: 0x40001n },
 * });
 *
 * const e = assertThrows(
 *   () => parseProbe({ name: "x", machine: {}, vcpus: [{ steps: [{ op: "rdmsr", msr: "0x4b564d1g" }] }] }),
 *   ProbeError,
 * );
 * assertEquals(e.message, 'probe.json: $.vcpus[0].steps[0].msr: "0x4b564d1g" is not a number or hex string');
 * ```
 */
export function parseProbe(json: unknown, source = "probe.json"): Probe {
  const at: JsonAt = new JsonAt(source, "$");
  const obj = object(json, at, 'a probe object: {"name", "machine", "vcpus"}');
  onlyKnown(obj, at, PROBE_FIELDS, "a probe");
  const name = string(required(obj, at, "name", "the probe's name"), at.key("name"));
  const descriptionJson = member(obj, "description");
  const description = descriptionJson === undefined
    ? undefined
    : string(descriptionJson, at.key("description"));
  const machineJson = required(obj, at, "machine", "use {} for the default machine");
  const vcpusAt = at.key("vcpus");
  const vcpusJson = array(required(obj, at, "vcpus", 'e.g. [{"steps": [...]}]'), vcpusAt);
  if (vcpusJson.length === 0) {
    vcpusAt.fail('is empty; a probe needs at least one vCPU: [{"steps": [...]}]');
  }
  checkSizes(vcpusJson, vcpusAt);
  const machine = parseMachine(machineJson, at.key("machine"), vcpusJson.length);
  const vcpus = vcpusJson.map((v, i) => parseVcpu(v, vcpusAt.index(i), machine));
  checkBarrierOrder(vcpus, vcpusAt);
  return description === undefined
    ? { name, machine, vcpus }
    : { name, description, machine, vcpus };
}

/**
 * Reads, parses and validates a probe file.
 *
 * @throws {ProbeError} when the file is missing or unreadable, is not a regular file, is larger
 * than {@linkcode PROBE_LIMITS}`.fileBytes`, is not JSON, or is not a valid probe; the message
 * starts with `path`.
 *
 * @example
 * ```ts
 * import { loadProbeFile } from "@pvkit/probe";
 *
 * const probe = await loadProbeFile(
 *   new URL("./examples/enforcement.json", import.meta.url).pathname,
 * );
 * console.log(probe.name, probe.vcpus[0].steps.length);
 * ```
 */
export async function loadProbeFile(path: string): Promise<Probe> {
  const text = await readProbeText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProbeError(path, undefined, `is not valid JSON: ${(e as Error).message}`);
  }
  return parseProbe(json, path);
}
