import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_MSI_EXT_DEST_ID } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmMsiExtDestId } from "./mod.ts";

Deno.test("kvm-msi-ext-dest-id manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmMsiExtDestId.manifest;
  assertEquals(m.name, "kvm-msi-ext-dest-id");
  assertEquals(m.package, "@pvkit/kvm-msi-ext-dest-id");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_MSI_EXT_DEST_ID]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-msi-ext-dest-id composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmMsiExtDestId);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-msi-ext-dest-id"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmMsiExtDestId.manifest.cpuid.bits));
});

Deno.test("kvm-msi-ext-dest-id needs an in-kernel irqchip", () => {
  const machine = composeSolo(kvmMsiExtDestId, { irqchip: "off" });
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-msi-ext-dest-id/split-irqchip]");
});
