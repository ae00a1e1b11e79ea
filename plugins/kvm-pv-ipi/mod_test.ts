import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_SEND_IPI, KVM_HC_SEND_IPI } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmPvIpi } from "./mod.ts";

Deno.test("kvm-pv-ipi manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmPvIpi.manifest;
  assertEquals(m.name, "kvm-pv-ipi");
  assertEquals(m.package, "@pvkit/kvm-pv-ipi");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_SEND_IPI]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_SEND_IPI]);
});

Deno.test("kvm-pv-ipi composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmPvIpi);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-pv-ipi"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmPvIpi.manifest.cpuid.bits));
});

Deno.test("kvm-pv-ipi needs an in-kernel irqchip", () => {
  const machine = composeSolo(kvmPvIpi, { irqchip: "off" });
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-pv-ipi/in-kernel-irqchip]");
});
