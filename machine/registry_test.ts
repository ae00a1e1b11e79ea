import { assertEquals, assertThrows } from "@std/assert";
import { ManifestError } from "./errors.ts";
import { definePlugin } from "./plugin.ts";
import { PluginRegistry } from "./registry.ts";

function plugin(name: string, bit: number, aliases: string[] = []) {
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
