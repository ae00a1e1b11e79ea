import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_HC_MAP_GPA_RANGE, KVM_HC_MAP_GPA_RANGE } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmHcMapGpaRange } from "./mod.ts";

Deno.test("kvm-hc-map-gpa-range manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmHcMapGpaRange.manifest;
  assertEquals(m.name, "kvm-hc-map-gpa-range");
  assertEquals(m.package, "@pvkit/kvm-hc-map-gpa-range");
  assertEquals(m.qemu, { name: null, aliases: [] });
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_HC_MAP_GPA_RANGE]);
  assertEquals(m.defaultOn, false);
  assertEquals(m.host, { provider: "vmm", autoEnable: false });
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_MAP_GPA_RANGE]);
});

Deno.test("kvm-hc-map-gpa-range composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmHcMapGpaRange);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-hc-map-gpa-range"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmHcMapGpaRange.manifest.cpuid.bits));
});

Deno.test("kvm-hc-map-gpa-range alone warns that Linux needs kvm-migration-control too", () => {
  const machine = composeSolo(kvmHcMapGpaRange);
  assertStringIncludes(
    machine.warnings.join("\n"),
    "[rule kvm-hc-map-gpa-range/needs-migration-control]",
  );
  assertStringIncludes(machine.notes.join("\n"), "KVM_CAP_EXIT_HYPERCALL");
});
