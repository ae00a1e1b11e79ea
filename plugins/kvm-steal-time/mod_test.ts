import { assertEquals } from "@std/assert";
import { KVM_FEATURE_STEAL_TIME, MSR_KVM_STEAL_TIME } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmStealTime } from "./mod.ts";

Deno.test("kvm-steal-time manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmStealTime.manifest;
  assertEquals(m.name, "kvm-steal-time");
  assertEquals(m.package, "@pvkit/kvm-steal-time");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_STEAL_TIME]);
  assertEquals(m.msrs.map((x) => x.index), [MSR_KVM_STEAL_TIME]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-steal-time composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmStealTime);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-steal-time"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmStealTime.manifest.cpuid.bits));
});
