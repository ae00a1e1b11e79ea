import { assertEquals, assertThrows } from "@std/assert";
import { ManifestError } from "./errors.ts";
import type { PluginManifestInput } from "./manifest.ts";
import { MAX_CONDITION_DEPTH } from "./manifest_parse.ts";
import { definePlugin } from "./plugin.ts";
import { PluginRegistry } from "./registry.ts";

function plugin(
  name: string,
  bit: number,
  aliases: string[] = [],
  extra: Partial<PluginManifestInput> = {},
) {
  return definePlugin({
    name,
    package: `@test/${name}`,
    summary: "test",
    qemu: { name, aliases },
    cpuid: { leaf: "0x40000001", register: "eax", bits: [bit], abiName: "X" },
    defaultOn: false,
    host: { provider: "vmm", autoEnable: false },
    msrs: [],
    hypercalls: [],
    since: {},
    rules: [],
    ...extra,
  });
}

Deno.test("registry holds the core x2apic feature and registered plugins", () => {
  const registry = new PluginRegistry([plugin("a", 16, ["a_x"])]);
  assertEquals(registry.lookup("a_x")?.manifest.name, "a");
  assertEquals(registry.ownerOfBit(0x40000001, "eax", 16)?.manifest.name, "a");
  assertEquals(registry.lookup("x2apic")?.manifest.cpuid.bits, [21]);
  assertEquals(registry.plugins.length, 1);
});

Deno.test("registry rejects duplicate names, aliases and CPUID bits, naming the owner", () => {
  const registry = new PluginRegistry([plugin("a", 16, ["a_x"])]);
  const byName = assertThrows(() => registry.register(plugin("a", 17)), ManifestError);
  assertEquals((byName as Error).message.includes("@test/a"), true);
  assertThrows(() => registry.register(plugin("b", 17, ["a_x"])), ManifestError);
  const byBit = assertThrows(() => registry.register(plugin("c", 16)), ManifestError);
  assertEquals((byBit as Error).message.includes("bit 16 is already owned by a"), true);
  // A failed registration leaves nothing behind.
  assertEquals(registry.lookup("c"), undefined);
});

Deno.test("two plugins claiming one MSR, hypercall or I/O port are refused, both named", () => {
  const cases: [Partial<PluginManifestInput>, string][] = [
    [{ msrs: [{ index: "0x4b564d04", name: "M" }] }, "MSR 0x4b564d04 is claimed by both a"],
    [{ hypercalls: [{ nr: 5, name: "KICK" }] }, "hypercall 5 (KICK) is claimed by both a"],
    [{ ioPorts: [{ first: "0x80", name: "P" }] }, "I/O port 0x80 is claimed by both a"],
  ];
  for (const [claim, message] of cases) {
    const registry = new PluginRegistry([plugin("a", 16, [], claim)]);
    const e = assertThrows(() => registry.register(plugin("b", 17, [], claim)), ManifestError);
    assertEquals(e.message.includes(message) && e.message.includes("and b (@test/b)"), true);
  }
  // Overlapping port ranges clash too.
  const ports = (first: number, last: number) => ({ ioPorts: [{ first, last, name: "P" }] });
  assertThrows(
    () =>
      new PluginRegistry([
        plugin("a", 16, [], ports(0x70, 0x71)),
        plugin("b", 17, [], ports(0x71, 0x72)),
      ]),
    ManifestError,
    "I/O ports 0x71-0x72 is claimed by both a",
  );
});

Deno.test("a feature may govern its parent's MSR when it requires the parent", () => {
  const msr = { msrs: [{ index: "0x4b564d02", name: "ASYNC_PF_EN" }] };
  const child = plugin("child", 17, [], {
    ...msr,
    rules: [{ id: "child/needs-a", level: "error", require: { feature: "a" }, message: "m" }],
  });
  const registry = new PluginRegistry([plugin("a", 16, [], msr), child]);
  assertEquals(registry.plugins.length, 2);
});

Deno.test("a plugin's bit outside leaf 0x40000001 is refused (the guest would never see it)", () => {
  const outside = definePlugin({
    ...plugin("a", 16).manifest,
    cpuid: { leaf: "0x40000003", register: "eax", bits: [1], abiName: "X" },
  });
  assertThrows(
    () => new PluginRegistry([outside]),
    ManifestError,
    "0x40000003 is not KVM's feature leaf",
  );
});

Deno.test("an unknown feature in defaultOn, host.when or a rule is reported with its path", () => {
  const cases: [Partial<PluginManifestInput>, string][] = [
    [{ defaultOn: { feature: "kvm-stael-time" } }, "a.defaultOn"],
    [{ host: { provider: "vmm", autoEnable: false, when: { feature: "nope" } } }, "a.host.when"],
    [{
      rules: [{ id: "a/r", level: "error", when: { not: { feature: "nope" } }, message: "m" }],
    }, "a.rules[0].when"],
    [
      { rules: [{ id: "a/r", level: "error", require: { feature: "nope" }, message: "m" }] },
      "a.rules[0].require",
    ],
  ];
  for (const [extra, path] of cases) {
    const registry = new PluginRegistry([plugin("a", 16, [], extra)]);
    const e = assertThrows(() => registry.checkReferences(), ManifestError);
    assertEquals(
      e.message.startsWith(`plugin manifest ${path}: names the feature`),
      true,
      e.message,
    );
  }
  // A feature the registry knows of but leaves out (so it is off) is not a misspelling.
  const known = plugin("a", 16, [], { defaultOn: { feature: "opt-in" } });
  new PluginRegistry([known]).checkReferences(["opt-in"]);
});

Deno.test("a condition nested 10 000 deep is refused without overflowing the stack", () => {
  let deep: PluginManifestInput["defaultOn"] = true;
  for (let i = 0; i < 10_000; i++) deep = { not: deep };
  assertThrows(
    () => plugin("a", 16, [], { defaultOn: deep }),
    ManifestError,
    `conditions nest more than ${MAX_CONDITION_DEPTH} deep`,
  );
});

Deno.test("registering something that is not a plugin says so", () => {
  const registry = new PluginRegistry();
  assertThrows(
    () => registry.register(undefined as never),
    ManifestError,
    "expected a plugin (definePlugin's result), got undefined",
  );
});
