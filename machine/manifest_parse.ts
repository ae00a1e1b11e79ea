/**
 * Validation of plugin manifests: JSON data in, a typed {@linkcode PluginManifest} out, or a
 * {@linkcode ManifestError} naming the JSON path of the first problem.
 *
 * @module
 */

import type { Condition, IrqchipMode, NumericRange } from "./condition.ts";
import { CPUID_REGISTERS, type CpuidRegister } from "./cpuid.ts";
import { ManifestError } from "./errors.ts";
import type {
  GovernedHypercall,
  GovernedIoPort,
  GovernedMsr,
  HostSupport,
  Lifecycle,
  PluginManifest,
  Rule,
  RuleLevel,
} from "./manifest.ts";

const FEATURE_NAME = /^[a-z][a-z0-9-]*$/;
const IRQCHIP_MODES: readonly IrqchipMode[] = ["on", "split", "off"];
const RULE_LEVELS: readonly RuleLevel[] = ["error", "warning", "note"];

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ManifestError(path, "must be an object");
  }
  return value as Record<string, unknown>;
}

function only(obj: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key)) {
      throw new ManifestError(
        `${path}.${key}`,
        "is not a known field",
        `known: ${keys.join(", ")}`,
      );
    }
  }
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ManifestError(path, "must be a non-empty string");
  }
  return value;
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : string(value, path);
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new ManifestError(path, "must be true or false");
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ManifestError(path, "must be an array");
  return value;
}

/** Reads a non-negative integer given as a JSON number or a hex/decimal string. */
function integer(value: unknown, path: string, max: number): number {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) n = Number(value);
  else throw new ManifestError(path, 'must be a number or a hex string such as "0x4b564d04"');
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new ManifestError(path, `must be an integer from 0 to ${max}`);
  }
  return n;
}

function featureName(value: unknown, path: string): string {
  const name = string(value, path);
  if (!FEATURE_NAME.test(name)) {
    throw new ManifestError(path, `"${name}" is not a feature name (lowercase, digits, '-')`);
  }
  return name;
}

function range(value: unknown, path: string): NumericRange {
  const obj = object(value, path);
  only(obj, path, ["min", "max"]);
  const out: { min?: number; max?: number } = {};
  if (obj.min !== undefined) out.min = integer(obj.min, `${path}.min`, Number.MAX_SAFE_INTEGER);
  if (obj.max !== undefined) out.max = integer(obj.max, `${path}.max`, Number.MAX_SAFE_INTEGER);
  return out;
}

/**
 * Validates a condition written as JSON.
 *
 * @example
 * ```ts
 * import { parseCondition } from "@pvkit/machine";
 * console.log(parseCondition({ irqchip: ["split"] }, "$.defaultOn"));
 * ```
 */
export function parseCondition(value: unknown, path: string): Condition {
  return conditionAt(value, path, 0);
}

/**
 * How deep conditions may nest. pvkit's own manifests nest 3 deep; the limit keeps evaluation,
 * which recurses, far from the stack's end.
 */
export const MAX_CONDITION_DEPTH = 32;

function conditionAt(value: unknown, path: string, depth: number): Condition {
  if (depth > MAX_CONDITION_DEPTH) {
    throw new ManifestError(
      path,
      `conditions nest more than ${MAX_CONDITION_DEPTH} deep`,
      "flatten the condition with all/any",
    );
  }
  if (typeof value === "boolean") return value;
  const obj = object(value, path);
  const keys = Object.keys(obj);
  if (keys.length !== 1) {
    throw new ManifestError(
      path,
      "a condition has exactly one key",
      'e.g. {"feature": "kvm-steal-time"}',
    );
  }
  const key = keys[0];
  const inner = obj[key];
  const at = `${path}.${key}`;
  switch (key) {
    case "feature":
      return { feature: featureName(inner, at) };
    case "irqchip":
      return {
        irqchip: array(inner, at).map((m, i) => {
          if (!IRQCHIP_MODES.includes(m as IrqchipMode)) {
            throw new ManifestError(`${at}[${i}]`, 'must be "on", "split" or "off"');
          }
          return m as IrqchipMode;
        }),
      };
    case "x2apic":
      return { x2apic: boolean(inner, at) };
    case "kvm":
      return { kvm: boolean(inner, at) };
    case "vcpus":
      return { vcpus: range(inner, at) };
    case "apicIdLimit":
      return { apicIdLimit: range(inner, at) };
    case "accel":
      return {
        accel: array(inner, at).map((a, i) => {
          if (a !== "kvm" && a !== "tcg") {
            throw new ManifestError(`${at}[${i}]`, 'must be "kvm" or "tcg"');
          }
          return a;
        }),
      };
    case "not":
      return { not: conditionAt(inner, at, depth + 1) };
    case "all":
      return { all: array(inner, at).map((c, i) => conditionAt(c, `${at}[${i}]`, depth + 1)) };
    case "any":
      return { any: array(inner, at).map((c, i) => conditionAt(c, `${at}[${i}]`, depth + 1)) };
    default:
      throw new ManifestError(
        at,
        "is not a condition",
        "use feature, irqchip, x2apic, kvm, vcpus, apicIdLimit, accel, not, all or any",
      );
  }
}

/**
 * Validates a rule written as JSON.
 *
 * @example
 * ```ts
 * import { parseRule } from "@pvkit/machine";
 * const rule = parseRule({
 *   id: "x/needs-steal", level: "error", require: { feature: "kvm-steal-time" },
 *   message: "{feature} needs kvm-steal-time",
 * }, "$.rules[0]");
 * console.log(rule.level);
 * ```
 */
export function parseRule(value: unknown, path: string): Rule {
  const obj = object(value, path);
  only(obj, path, ["id", "level", "when", "require", "message", "fix", "source"]);
  const level = obj.level;
  if (!RULE_LEVELS.includes(level as RuleLevel)) {
    throw new ManifestError(`${path}.level`, 'must be "error", "warning" or "note"');
  }
  const rule: {
    id: string;
    level: RuleLevel;
    message: string;
    when?: Condition;
    require?: Condition;
    fix?: string;
    source?: string;
  } = {
    id: string(obj.id, `${path}.id`),
    level: level as RuleLevel,
    message: string(obj.message, `${path}.message`),
  };
  if (obj.when !== undefined) rule.when = parseCondition(obj.when, `${path}.when`);
  if (obj.require !== undefined) rule.require = parseCondition(obj.require, `${path}.require`);
  const fix = optionalString(obj.fix, `${path}.fix`);
  if (fix !== undefined) rule.fix = fix;
  const source = optionalString(obj.source, `${path}.source`);
  if (source !== undefined) rule.source = source;
  return rule;
}

function lifecycle(value: unknown, path: string): Lifecycle | undefined {
  if (value === undefined) return undefined;
  const obj = object(value, path);
  only(obj, path, ["since", "reason", "replacement"]);
  const out: { since: string; reason: string; replacement?: string } = {
    since: string(obj.since, `${path}.since`),
    reason: string(obj.reason, `${path}.reason`),
  };
  const replacement = optionalString(obj.replacement, `${path}.replacement`);
  if (replacement !== undefined) out.replacement = replacement;
  return out;
}

function hostSupport(value: unknown, path: string): HostSupport {
  const obj = object(value, path);
  only(obj, path, ["provider", "when", "autoEnable"]);
  if (obj.provider !== "kernel" && obj.provider !== "vmm") {
    throw new ManifestError(`${path}.provider`, 'must be "kernel" or "vmm"');
  }
  const out: { provider: "kernel" | "vmm"; autoEnable: boolean; when?: Condition } = {
    provider: obj.provider,
    autoEnable: boolean(obj.autoEnable, `${path}.autoEnable`),
  };
  if (obj.when !== undefined) out.when = parseCondition(obj.when, `${path}.when`);
  return out;
}

/**
 * Validates a plugin manifest (parsed JSON or an object written in code).
 *
 * @param value the manifest data
 * @param origin where it came from, used as the root of error paths (e.g. a file name)
 * @throws {ManifestError} naming the path of the first problem
 *
 * @example
 * ```ts
 * import { parseManifest } from "@pvkit/machine";
 * const manifest = parseManifest({
 *   name: "my-feature", package: "@acme/my-feature", summary: "An example",
 *   qemu: { name: null, aliases: [] },
 *   cpuid: { leaf: "0x40000001", register: "eax", bits: [17], abiName: "KVM_FEATURE_MIGRATION_CONTROL" },
 *   defaultOn: false, host: { provider: "vmm", autoEnable: false },
 *   msrs: [], hypercalls: [], since: {}, rules: [],
 * }, "my-feature");
 * console.log(manifest.cpuid.bits);
 * ```
 */
export function parseManifest(value: unknown, origin = "$"): PluginManifest {
  const root = origin;
  const obj = object(value, root);
  only(obj, root, [
    "$comment",
    "name",
    "package",
    "summary",
    "qemu",
    "cpuid",
    "defaultOn",
    "host",
    "msrs",
    "hypercalls",
    "ioPorts",
    "since",
    "deprecated",
    "removed",
    "rules",
  ]);
  const qemu = object(obj.qemu, `${root}.qemu`);
  only(qemu, `${root}.qemu`, ["name", "aliases"]);
  const cpuid = object(obj.cpuid, `${root}.cpuid`);
  only(cpuid, `${root}.cpuid`, ["leaf", "register", "bits", "abiName"]);
  const register = cpuid.register;
  if (!CPUID_REGISTERS.includes(register as CpuidRegister)) {
    throw new ManifestError(`${root}.cpuid.register`, "must be eax, ebx, ecx or edx");
  }
  const bits = array(cpuid.bits, `${root}.cpuid.bits`).map((b, i) =>
    integer(b, `${root}.cpuid.bits[${i}]`, 31)
  );
  if (bits.length === 0) {
    throw new ManifestError(`${root}.cpuid.bits`, "must name at least one bit");
  }
  const since = object(obj.since, `${root}.since`);
  only(since, `${root}.since`, ["linux", "qemu"]);
  const sinceOut: { linux?: string; qemu?: string } = {};
  const linux = optionalString(since.linux, `${root}.since.linux`);
  if (linux !== undefined) sinceOut.linux = linux;
  const qemuSince = optionalString(since.qemu, `${root}.since.qemu`);
  if (qemuSince !== undefined) sinceOut.qemu = qemuSince;

  const manifest: {
    -readonly [K in keyof PluginManifest]: PluginManifest[K];
  } = {
    name: featureName(obj.name, `${root}.name`),
    package: string(obj.package, `${root}.package`),
    summary: string(obj.summary, `${root}.summary`),
    qemu: {
      name: qemu.name === null ? null : featureName(qemu.name, `${root}.qemu.name`),
      aliases: array(qemu.aliases, `${root}.qemu.aliases`).map((a, i) =>
        string(a, `${root}.qemu.aliases[${i}]`)
      ),
    },
    cpuid: {
      leaf: integer(cpuid.leaf, `${root}.cpuid.leaf`, 0xffffffff),
      register: register as CpuidRegister,
      bits,
      abiName: string(cpuid.abiName, `${root}.cpuid.abiName`),
    },
    defaultOn: parseCondition(obj.defaultOn, `${root}.defaultOn`),
    host: hostSupport(obj.host, `${root}.host`),
    msrs: array(obj.msrs, `${root}.msrs`).map((m, i): GovernedMsr => {
      const at = `${root}.msrs[${i}]`;
      const msr = object(m, at);
      only(msr, at, ["index", "name"]);
      return {
        index: integer(msr.index, `${at}.index`, 0xffffffff),
        name: string(msr.name, `${at}.name`),
      };
    }),
    hypercalls: array(obj.hypercalls, `${root}.hypercalls`).map((h, i): GovernedHypercall => {
      const at = `${root}.hypercalls[${i}]`;
      const hc = object(h, at);
      only(hc, at, ["nr", "name"]);
      return { nr: integer(hc.nr, `${at}.nr`, 0xffffffff), name: string(hc.name, `${at}.name`) };
    }),
    since: sinceOut,
    rules: array(obj.rules, `${root}.rules`).map((r, i) => parseRule(r, `${root}.rules[${i}]`)),
  };
  if (obj.ioPorts !== undefined) {
    manifest.ioPorts = array(obj.ioPorts, `${root}.ioPorts`).map((p, i): GovernedIoPort => {
      const at = `${root}.ioPorts[${i}]`;
      const port = object(p, at);
      only(port, at, ["first", "last", "name"]);
      const first = integer(port.first, `${at}.first`, 0xffff);
      const last = port.last === undefined ? first : integer(port.last, `${at}.last`, 0xffff);
      if (last < first) throw new ManifestError(`${at}.last`, `must not be below first (${first})`);
      return { first, last, name: string(port.name, `${at}.name`) };
    });
  }
  const deprecated = lifecycle(obj.deprecated, `${root}.deprecated`);
  if (deprecated) manifest.deprecated = deprecated;
  const removed = lifecycle(obj.removed, `${root}.removed`);
  if (removed) manifest.removed = removed;
  return manifest;
}
