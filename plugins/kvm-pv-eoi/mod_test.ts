import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_EOI, MSR_KVM_PV_EOI_EN } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmPvEoi } from "./mod.ts";

Deno.test("kvm-pv-eoi manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmPvEoi.manifest;
  assertEquals(m.name, "kvm-pv-eoi");
  assertEquals(m.package, "@pvkit/kvm-pv-eoi");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_EOI]);
  assertEquals(m.msrs.map((x) => x.index), [MSR_KVM_PV_EOI_EN]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-pv-eoi composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmPvEoi);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-pv-eoi"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmPvEoi.manifest.cpuid.bits));
});

Deno.test("kvm-pv-eoi needs an in-kernel irqchip", () => {
  const machine = composeSolo(kvmPvEoi, { irqchip: "off" });
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-pv-eoi/in-kernel-irqchip]");
});
