import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_MMU_OP, KVM_HC_MMU_OP } from "@pvkit/abi";
import { composeSolo } from "@pvkit/machine";
import { kvmMmu } from "./mod.ts";

Deno.test("kvm-mmu manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmMmu.manifest;
  assertEquals(m.name, "kvm-mmu");
  assertEquals(m.package, "@pvkit/kvm-mmu");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_MMU_OP]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_MMU_OP]);
});

Deno.test("kvm-mmu was removed from KVM: asking for it is an error", () => {
  const machine = composeSolo(kvmMmu, { irqchip: "on" });
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-mmu/removed]");
});
