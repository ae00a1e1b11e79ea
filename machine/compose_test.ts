import { assertEquals } from "@std/assert";
import { composeMachine } from "./compose.ts";
import type { CompositionRequest, FeatureSetting } from "./composition.ts";
import { definePlugin } from "./plugin.ts";
import { PluginRegistry } from "./registry.ts";
import { simpleTopology } from "./topology.ts";

/** A feature on bit `bit` of 0x40000001 EAX, default on for named models. */
function feature(name: string, bit: number, defaultOn = false) {
  return definePlugin({
    name,
    package: `@test/${name}`,
    summary: "test",
    qemu: { name, aliases: [] },
    cpuid: { leaf: "0x40000001", register: "eax", bits: [bit], abiName: "X" },
    defaultOn,
    host: { provider: "kernel", autoEnable: true },
    msrs: [],
    hypercalls: [],
    since: {},
    rules: [],
  });
}

const registry = new PluginRegistry([feature("a", 0, true), feature("b", 1), feature("c", 2)]);
const host = { name: "h", kvmLeaf: { eax: 0b011, edx: 0 }, x2apicApi: true, maxVcpus: 64 };

function compose(
  kind: "builtin" | "host" | "base",
  settings: FeatureSetting[] = [],
  extra: Partial<CompositionRequest> = {},
) {
  return composeMachine({
    registry,
    model: { name: kind, kind },
    machine: { type: "t", irqchip: "on", accel: "kvm", topology: simpleTopology(2) },
    host,
    rules: "qemu",
    settings,
    ...extra,
  });
}

const eax = (m: ReturnType<typeof compose>) => Number(m.leaves["0x40000001"].eax);

Deno.test("defaults apply to builtin models only", () => {
  assertEquals(eax(compose("builtin")), 0b001);
  assertEquals(eax(compose("base")), 0);
});

Deno.test("-feat beats +feat, and both beat name=value, whatever the order", () => {
  const m = compose("base", [
    { feature: "b", enabled: false, form: "minus" },
    { feature: "b", enabled: true, form: "plus" },
    { feature: "b", enabled: true, form: "property" },
    { feature: "c", enabled: false, form: "property" },
    { feature: "c", enabled: true, form: "plus" },
  ]);
  assertEquals(m.isEnabled("b"), false);
  assertEquals(m.isEnabled("c"), false); // filtered: the host lacks bit 2
  assertEquals(m.filtered, ["c"]);
  assertEquals(m.warnings, [
    "host doesn't support requested feature: CPUID.40000001H:EAX.c [bit 2]",
  ]);
});

Deno.test("host passthrough adds supported bits the user did not touch, with source host", () => {
  const m = compose("host", [{ feature: "b", enabled: false, form: "property" }]);
  assertEquals(eax(m), 0b001);
  assertEquals(m.features.find((f) => f.name === "a")?.source, "host");
  assertEquals(m.features.find((f) => f.name === "b")?.source, "user");
});

Deno.test("unnamed features pass through only with migratable=off; warnings drop the name", () => {
  assertEquals(eax(compose("host", [], { unnamed: ["b"] })), 0b001);
  assertEquals(eax(compose("host", [], { unnamed: ["b"], cpu: { migratable: false } })), 0b011);
  const m = compose("base", [{ feature: "c", enabled: true, form: "property" }], {
    unnamed: ["c"],
    cpuidNotation: "bracketed",
  });
  assertEquals(m.warnings, [
    "host doesn't support requested feature: CPUID[eax=40000001h].EAX [bit 2]",
  ]);
});

Deno.test("check=off filters silently; enforce=on fails; x-force-features keeps the bit", () => {
  const asked: FeatureSetting[] = [{ feature: "c", enabled: true, form: "property" }];
  assertEquals(compose("base", asked, { cpu: { check: false } }).warnings, []);
  assertEquals(compose("base", asked, { cpu: { enforce: true } }).errors, [
    "Host doesn't support requested features",
  ]);
  assertEquals(eax(compose("base", asked, { cpu: { forceFeatures: true } })), 0b100);
});

Deno.test("Hyper-V enlightenments move the KVM leaves to 0x40000100", () => {
  const m = compose("builtin", [], { kvmBase: 0x40000100 });
  assertEquals(Object.keys(m.leaves), ["0x40000100", "0x40000101"]);
  assertEquals(m.leaves["0x40000100"].eax, "0x40000101");
});

Deno.test("per-vCPU CPUID carries each vCPU's APIC ID in leaf 1 and leaf 0xB", () => {
  const m = compose("builtin");
  const [leaf1, smt, core] = m.vcpus!.entries(1);
  assertEquals(leaf1.ebx >>> 24, 1);
  assertEquals(smt.edx, 1);
  assertEquals(core.edx, 1);
  assertEquals(m.vcpus!.shared.length, 2);
});

Deno.test("ruleDiagnostics: each broken rule as fields, reported once, at the level it was reported", () => {
  const registry = new PluginRegistry();
  const machine = composeMachine({
    registry,
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip: "on", accel: "kvm", topology: simpleTopology(300) },
    host: { name: "h", kvmLeaf: { eax: 0, edx: 0 }, x2apicApi: true, maxVcpus: 32768 },
    rules: "strict",
  });
  const x2apic = machine.ruleDiagnostics.filter((d) => d.rule === "apic/x2apic-above-254");
  assertEquals(x2apic.length, 1);
  assertEquals([x2apic[0].level, x2apic[0].dropped, x2apic[0].require], ["error", false, {
    x2apic: true,
  }]);
  assertEquals(machine.errors[0].startsWith(x2apic[0].message), true);
});
