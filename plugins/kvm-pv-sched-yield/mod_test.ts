import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_SCHED_YIELD, KVM_HC_SCHED_YIELD } from "@pvkit/abi";
import { composeSolo } from "@pvkit/machine";
import { kvmPvSchedYield } from "./mod.ts";

Deno.test("kvm-pv-sched-yield manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmPvSchedYield.manifest;
  assertEquals(m.name, "kvm-pv-sched-yield");
  assertEquals(m.package, "@pvkit/kvm-pv-sched-yield");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_SCHED_YIELD]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_SCHED_YIELD]);
});

Deno.test("kvm-pv-sched-yield composed without kvm-steal-time fails naming the missing plugin", () => {
  const machine = composeSolo(kvmPvSchedYield);
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvm-pv-sched-yield requires kvm-steal-time");
});
