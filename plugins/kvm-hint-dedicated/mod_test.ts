import { assertEquals } from "@std/assert";
import { KVM_HINTS_REALTIME } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmHintDedicated } from "./mod.ts";

Deno.test("kvm-hint-dedicated manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmHintDedicated.manifest;
  assertEquals(m.name, "kvm-hint-dedicated");
  assertEquals(m.package, "@pvkit/kvm-hint-dedicated");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "edx");
  assertEquals(m.cpuid.bits, [KVM_HINTS_REALTIME]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-hint-dedicated composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmHintDedicated);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-hint-dedicated"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.edx), bitMask(kvmHintDedicated.manifest.cpuid.bits));
});
