import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_UNHALT, KVM_HC_KICK_CPU } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmPvUnhalt } from "./mod.ts";

Deno.test("kvm-pv-unhalt manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmPvUnhalt.manifest;
  assertEquals(m.name, "kvm-pv-unhalt");
  assertEquals(m.package, "@pvkit/kvm-pv-unhalt");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_UNHALT]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_KICK_CPU]);
});

Deno.test("kvm-pv-unhalt composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmPvUnhalt);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-pv-unhalt"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmPvUnhalt.manifest.cpuid.bits));
});

Deno.test("kvm-pv-unhalt needs an in-kernel irqchip", () => {
  const machine = composeSolo(kvmPvUnhalt, { irqchip: "off" });
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-pv-unhalt/in-kernel-irqchip]");
});
