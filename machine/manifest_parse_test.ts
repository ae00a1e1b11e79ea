import { assertEquals, assertThrows } from "@std/assert";
import { ManifestError } from "./errors.ts";
import { parseCondition, parseManifest } from "./manifest_parse.ts";

const valid = {
  name: "my-feature",
  package: "@acme/my-feature",
  summary: "An example",
  qemu: { name: null, aliases: [] },
  cpuid: {
    leaf: "0x40000001",
    register: "eax",
    bits: [17],
    abiName: "KVM_FEATURE_MIGRATION_CONTROL",
  },
  defaultOn: false,
  host: { provider: "vmm", autoEnable: false },
  msrs: [{ index: "0x4b564d08", name: "MSR_KVM_MIGRATION_CONTROL" }],
  hypercalls: [{ nr: 12, name: "KVM_HC_MAP_GPA_RANGE" }],
  since: { linux: "5.16" },
  rules: [{ id: "x/y", level: "warning", when: { vcpus: { max: 1 } }, message: "m" }],
};

Deno.test("parseManifest accepts a valid manifest and converts hex strings", () => {
  const m = parseManifest(valid, "acme");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.msrs[0].index, 0x4b564d08);
  assertEquals(m.rules[0].when, { vcpus: { max: 1 } });
});

Deno.test("parseManifest names the JSON path of the first problem", async (t) => {
  const cases: [unknown, string][] = [
    [{ ...valid, name: "Bad Name" }, "acme.name"],
    [{ ...valid, cpuid: { ...valid.cpuid, bits: [32] } }, "acme.cpuid.bits[0]"],
    [{ ...valid, cpuid: { ...valid.cpuid, register: "rax" } }, "acme.cpuid.register"],
    [{ ...valid, msrs: [{ index: "0xzz", name: "x" }] }, "acme.msrs[0].index"],
    [{ ...valid, rules: [{ ...valid.rules[0], level: "fatal" }] }, "acme.rules[0].level"],
    [{ ...valid, rules: [{ ...valid.rules[0], when: { cpus: 1 } }] }, "acme.rules[0].when.cpus"],
    [{ ...valid, extra: 1 }, "acme.extra"],
    [{ ...valid, host: { provider: "cloud", autoEnable: true } }, "acme.host.provider"],
    [null, "acme"],
  ];
  for (const [value, path] of cases) {
    await t.step(path, () => {
      const e = assertThrows(() => parseManifest(value, "acme"), ManifestError) as ManifestError;
      assertEquals(e.path, path);
    });
  }
});

Deno.test("parseCondition requires exactly one key", () => {
  assertThrows(() => parseCondition({ feature: "a", kvm: true }, "$"), ManifestError);
  assertEquals(parseCondition({ not: { kvm: false } }, "$"), { not: { kvm: false } });
});
