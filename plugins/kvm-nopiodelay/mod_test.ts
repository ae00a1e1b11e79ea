import { assertEquals } from "@std/assert";
import { KVM_FEATURE_NOP_IO_DELAY } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmNopiodelay } from "./mod.ts";

Deno.test("kvm-nopiodelay manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmNopiodelay.manifest;
  assertEquals(m.name, "kvm-nopiodelay");
  assertEquals(m.package, "@pvkit/kvm-nopiodelay");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_NOP_IO_DELAY]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-nopiodelay composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmNopiodelay);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-nopiodelay"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmNopiodelay.manifest.cpuid.bits));
});
