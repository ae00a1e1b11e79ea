/**
 * `composeMachine()`: from a CPU model, the user's settings, the machine and the host, decide
 * what the guest sees, which rules applied, and what cannot work.
 *
 * The order follows QEMU (qemu-kvm-pv.md §2 "Precedence"): model definition, KVM defaults
 * (builtin models only), machine compat, user `name=value` in order, every `+feat`, every
 * `-feat`, host/max passthrough of untouched supported bits, `kvm=off`, host filtering.
 * `strict` mode then applies the manifests' rules (before and after filtering).
 *
 * @module
 */

import type { ConditionFacts } from "./condition.ts";
import { evaluateCondition } from "./condition.ts";
import { ComposedMachine } from "./composed_machine.ts";
import {
  type CompositionRequest,
  DEFAULT_CPU_PROPERTIES,
  type FeatureJson,
  type FeatureSetting,
  type LeafJson,
} from "./composition.ts";
import { bitMask, CPUID_REGISTERS, type CpuidRegister, hex32 } from "./cpuid.ts";
import { PvkitError } from "./errors.ts";
import { enforceFailure, unsupportedFeatureWarning } from "./feature_filter.ts";
import { FeatureWords, type WordKey, wordKeyOf } from "./feature_words.ts";
import { KVM_FEATURES_LEAF, supportedWords } from "./host_support.ts";
import { KVM_CPUID_BASE, kvmLeaves } from "./kvm_leaves.ts";
import type { PluginManifest, Rule } from "./manifest.ts";
import { parseRule } from "./manifest_parse.ts";
import machineRulesJson from "./machine_rules.json" with { type: "json" };
import type { RegisteredFeature } from "./registry.ts";
import {
  describeViolation,
  findViolations,
  type RuleDiagnostic,
  violationDiagnostic,
} from "./rule_engine.ts";
import { apicIdLimit, MAX_VCPUS, validateTopology } from "./topology.ts";
import { VcpuCpuidTable } from "./vcpu_cpuid.ts";

/** The core's machine-level rules (machine/machine_rules.json). */
export const MACHINE_RULES: readonly Rule[] = machineRulesJson.map((r, i) =>
  parseRule(r, `machine/machine_rules.json[${i}]`)
);

const KVM_EAX = wordKeyOf({ leaf: KVM_FEATURES_LEAF, register: "eax" });

interface WordInfo {
  readonly key: WordKey;
  readonly leaf: number;
  readonly register: CpuidRegister;
}

/** The words the features use, in QEMU's feature-word order (by leaf, then register). */
function wordsOf(features: readonly RegisteredFeature[]): WordInfo[] {
  const seen = new Map<WordKey, WordInfo>();
  for (const { manifest: m } of features) {
    const key = wordKeyOf(m.cpuid);
    if (!seen.has(key)) seen.set(key, { key, leaf: m.cpuid.leaf, register: m.cpuid.register });
  }
  return [...seen.values()].sort((a, b) =>
    a.leaf - b.leaf || CPUID_REGISTERS.indexOf(a.register) - CPUID_REGISTERS.indexOf(b.register)
  );
}

function bitsText(m: PluginManifest): string {
  return `${hex32(m.cpuid.leaf)}.${m.cpuid.register}[${m.cpuid.bits.join(",")}]`;
}

function leafJson(r: { eax: number; ebx: number; ecx: number; edx: number }): LeafJson {
  return { eax: hex32(r.eax), ebx: hex32(r.ebx), ecx: hex32(r.ecx), edx: hex32(r.edx) };
}

/**
 * Composes a machine. Problems the user can fix are reported in the result's `errors` (the
 * result is still complete, so a caller can show what would have happened); only a broken
 * request (a setting naming an unregistered feature, a bad topology) throws
 * {@linkcode PvkitError}.
 *
 * @example
 * ```ts
 * import { composeMachine, PluginRegistry, simpleTopology } from "@pvkit/machine";
 * const machine = composeMachine({
 *   registry: new PluginRegistry(),
 *   model: { name: "qemu64", kind: "builtin" },
 *   machine: { type: "q35", irqchip: "split", accel: "kvm", topology: simpleTopology(4) },
 *   host: { name: "example", kvmLeaf: { eax: 0x01007efb, edx: 0 }, x2apicApi: true, maxVcpus: 1024 },
 *   rules: "strict",
 * });
 * console.log(machine.isEnabled("x2apic")); // true
 * ```
 */
export function composeMachine(request: CompositionRequest): ComposedMachine {
  const { registry, model, machine, host } = request;
  const strict = request.rules === "strict";
  const cpu = { ...DEFAULT_CPU_PROPERTIES, ...request.cpu };
  const topology = machine.topology;
  validateTopology(topology);
  const features = registry.features;
  const manifests = features.map((f) => f.manifest);
  const warnings = [...(request.diagnostics?.warnings ?? [])];
  const notes = [...(request.diagnostics?.notes ?? [])];
  const errors = [...(request.diagnostics?.errors ?? [])];
  const errorSet = new Set(errors);
  const addError = (text: string) => {
    if (!errorSet.has(text)) {
      errorSet.add(text);
      errors.push(text);
    }
  };

  const state = new FeatureWords();
  const manifestOf = (name: string): PluginManifest => {
    const found = registry.lookup(name);
    if (!found) {
      throw new PvkitError(
        "unknown-feature",
        `no registered feature is named "${name}"`,
        "register the plugin that provides it",
      );
    }
    return found.manifest;
  };
  const facts: ConditionFacts = {
    isEnabled: (name) => {
      const found = registry.lookup(name);
      return found !== undefined && state.isEnabled(found.manifest);
    },
    irqchip: machine.irqchip,
    get x2apic() {
      return facts.isEnabled("x2apic");
    },
    vcpus: topology.maxCpus,
    apicIdLimit: apicIdLimit(topology),
    accel: machine.accel,
    kvm: cpu.kvm,
  };

  // 1. The model's own definition.
  for (const name of model.features ?? []) {
    const m = manifestOf(name);
    state.put(wordKeyOf(m.cpuid), state.get(wordKeyOf(m.cpuid)) | bitMask(m.cpuid.bits));
  }
  // 2. kvm_default_props: builtin models under KVM only; each entry acts as a property.
  if (machine.accel === "kvm" && model.kind === "builtin") {
    for (const m of manifests) {
      if (m.defaultOn === false) continue;
      state.set(m, evaluateCondition(m.defaultOn, facts), "default");
    }
  }
  // 3. Machine-type compat, then 4. the user's properties in order (last one wins).
  const apply = (s: FeatureSetting, source: "default" | "user") =>
    state.set(manifestOf(s.feature), s.enabled, source);
  for (const s of request.compat ?? []) apply(s, "default");
  const settings = request.settings ?? [];
  for (const s of settings) if (s.form === "property" || s.form === "api") apply(s, "user");
  // 5. At realize: every +feat, then every -feat (so -feat wins).
  for (const s of settings) if (s.form === "plus") apply(s, "user");
  for (const s of settings) if (s.form === "minus") apply(s, "user");

  const words = wordsOf(features);
  const unnamed = new Set(request.unnamed ?? []);
  const tcgSupported = request.tcgSupported ?? [];
  const supported = () => supportedWords(features, host, facts, machine.accel, tcgSupported);

  // 6. host/max: OR in supported bits the user did not touch (named bits only if migratable).
  if (model.kind === "host" || model.kind === "max") {
    const support = supported();
    for (const word of words) {
      let named = 0;
      let noAuto = 0;
      for (const { manifest: m } of features) {
        if (wordKeyOf(m.cpuid) !== word.key) continue;
        if (!unnamed.has(m.name)) named |= bitMask(m.cpuid.bits);
        if (!m.host.autoEnable) noAuto |= bitMask(m.cpuid.bits);
      }
      const allowed = cpu.migratable ? named : 0xffffffff;
      const auto = (support.get(word.key) ?? 0) & ~state.userMask(word.key) & ~noAuto & allowed;
      const before = state.get(word.key);
      state.put(word.key, before | auto);
      for (const { manifest: m } of features) {
        if (wordKeyOf(m.cpuid) === word.key && (auto & bitMask(m.cpuid.bits)) !== 0) {
          state.setSource(m.name, "host");
        }
      }
    }
  }

  // 7. FEAT_KVM is zero unless the accelerator is KVM and kvm=on (HINTS are left alone).
  if (!cpu.kvm || machine.accel !== "kvm") {
    const source = cpu.kvm ? "default" : "user";
    for (const m of manifests) {
      if (wordKeyOf(m.cpuid) === KVM_EAX && state.isEnabled(m)) state.clear(m, source);
    }
    state.put(KVM_EAX, 0);
  }

  // strict: rules on what was asked for, before the host has its say.
  const ruleDiagnostics: RuleDiagnostic[] = [];
  const reported = new Set<string>();
  const report = (d: RuleDiagnostic) => {
    const key = `${d.rule}\0${d.feature ?? ""}`; // error rules are checked twice
    if (reported.has(key)) return;
    reported.add(key);
    ruleDiagnostics.push(d);
  };
  const applyRules = (final: boolean) => {
    for (;;) {
      const violations = findViolations(
        manifests,
        facts,
        final ? request.machineRules ?? MACHINE_RULES : [],
      );
      let dropped = false;
      for (const v of violations) {
        if (!v.owner || v.rule.level !== "error") continue;
        const source = state.sourceOf(v.owner.name);
        if (source === "user") continue;
        state.clear(v.owner, "rule");
        notes.push(`${v.owner.name} (${source}) dropped: ${describeViolation(v, facts)}`);
        report(violationDiagnostic(v, facts, true));
        dropped = true;
      }
      if (dropped) continue;
      for (const v of violations) {
        const text = describeViolation(v, facts);
        const byUser = !v.owner || state.sourceOf(v.owner.name) === "user";
        if (v.rule.level !== "error" && !final) continue;
        // A warning about a feature the user did not ask for is only a note.
        const level = v.rule.level === "warning" && !byUser ? "note" : v.rule.level;
        report({ ...violationDiagnostic(v, facts, false), level });
        if (level === "error") addError(text);
        else if (level === "warning") warnings.push(text);
        else notes.push(text);
      }
      return;
    }
  };
  if (strict) applyRules(false);

  // 8. Filtering: requested & ~supported, per bit, in feature-word order.
  const support = supported();
  const filtered: string[] = [];
  const filterWarnings: string[] = [];
  let anyFiltered = false;
  for (const word of words) {
    const unavailable = (state.get(word.key) & ~(support.get(word.key) ?? 0)) >>> 0;
    if (unavailable === 0) continue;
    anyFiltered = true;
    for (let bit = 0; bit < 32; bit++) {
      if ((unavailable & (1 << bit)) === 0) continue;
      const owner = registry.ownerOfBit(word.leaf, word.register, bit)?.manifest;
      const name = owner && !unnamed.has(owner.name) ? owner.qemu.name ?? owner.name : undefined;
      if (cpu.check || cpu.enforce) {
        filterWarnings.push(
          unsupportedFeatureWarning(machine.accel, word, bit, name, request.cpuidNotation),
        );
      }
      if (owner && !filtered.includes(owner.name)) filtered.push(owner.name);
    }
    if (!cpu.forceFeatures) {
      state.put(word.key, state.get(word.key) & ~unavailable);
      for (const { manifest: m } of features) {
        if (wordKeyOf(m.cpuid) === word.key && (unavailable & bitMask(m.cpuid.bits)) !== 0) {
          state.setSource(m.name, "filtered");
        }
      }
    }
  }
  warnings.push(...filterWarnings);
  if (cpu.enforce && anyFiltered) addError(enforceFailure(machine.accel));

  if (strict) {
    applyRules(true);
    if (machine.accel === "kvm" && topology.maxCpus > host.maxVcpus) {
      warnings.push(
        `${topology.maxCpus} vCPUs asked for, but the host profile ${host.name} runs at most ` +
          `${host.maxVcpus} vCPUs per VM (KVM_CAP_MAX_VCPUS)`,
      );
    }
    for (const m of manifests) {
      if (m.deprecated && state.isEnabled(m)) {
        const instead = m.deprecated.replacement ? `; use ${m.deprecated.replacement}` : "";
        notes.push(
          `${m.name} is deprecated since ${m.deprecated.since}: ${m.deprecated.reason}${instead}`,
        );
      }
    }
  }

  // The guest's view.
  const showLeaves = cpu.kvm && machine.accel === "kvm";
  const kvmBase = request.kvmBase ?? KVM_CPUID_BASE;
  const kvmEdx = wordKeyOf({ leaf: KVM_FEATURES_LEAF, register: "edx" });
  const shared = showLeaves ? kvmLeaves(kvmBase, state.get(KVM_EAX), state.get(kvmEdx)) : [];
  const leaves: Record<string, LeafJson> = {};
  for (const leaf of shared) leaves[hex32(leaf.leaf)] = leafJson(leaf);
  const featureJson: FeatureJson[] = manifests.map((m) => ({
    name: m.name,
    bits: bitsText(m),
    enabled: state.isEnabled(m) && (showLeaves || wordKeyOf(m.cpuid) !== kvmEdx),
    source: state.sourceOf(m.name),
  }));
  const x2apic = facts.x2apic;
  const description = {
    profile: host.name,
    rules: request.rules,
    model: model.name,
    machine: {
      type: machine.type,
      irqchip: machine.irqchip,
      x2apic,
      smp: topology.cpus,
      // Only when asked for, so descriptions without it keep their shape.
      ...(cpu.pvEnforceCpuid ? { pvEnforceCpuid: true } : {}),
    },
    leaves,
    features: featureJson,
    filtered,
    warnings,
    notes,
    errors,
  };
  return new ComposedMachine(
    description,
    registry,
    // Past the addressable limit there is no machine to run (the rule above says so).
    topology.cpus <= MAX_VCPUS ? new VcpuCpuidTable(topology, x2apic, shared) : undefined,
    filterWarnings,
    ruleDiagnostics,
  );
}
