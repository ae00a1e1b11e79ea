import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_TLB_FLUSH } from "@pvkit/abi";
import { composeSolo } from "@pvkit/machine";
import { kvmPvTlbFlush } from "./mod.ts";

Deno.test("kvm-pv-tlb-flush manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmPvTlbFlush.manifest;
  assertEquals(m.name, "kvm-pv-tlb-flush");
  assertEquals(m.package, "@pvkit/kvm-pv-tlb-flush");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_TLB_FLUSH]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-pv-tlb-flush composed without kvm-steal-time fails naming the missing plugin", () => {
  const machine = composeSolo(kvmPvTlbFlush);
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvm-pv-tlb-flush requires kvm-steal-time");
});
