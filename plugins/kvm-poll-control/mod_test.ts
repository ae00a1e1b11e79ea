import { assertEquals } from "@std/assert";
import { KVM_FEATURE_POLL_CONTROL, MSR_KVM_POLL_CONTROL } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmPollControl } from "./mod.ts";

Deno.test("kvm-poll-control manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmPollControl.manifest;
  assertEquals(m.name, "kvm-poll-control");
  assertEquals(m.package, "@pvkit/kvm-poll-control");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_POLL_CONTROL]);
  assertEquals(m.msrs.map((x) => x.index), [MSR_KVM_POLL_CONTROL]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-poll-control composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmPollControl);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-poll-control"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmPollControl.manifest.cpuid.bits));
});
