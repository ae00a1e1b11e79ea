import { assertEquals } from "@std/assert";
import {
  KVM_FEATURE_CLOCKSOURCE,
  KVM_FEATURE_CLOCKSOURCE2,
  MSR_KVM_SYSTEM_TIME,
  MSR_KVM_SYSTEM_TIME_NEW,
  MSR_KVM_WALL_CLOCK,
  MSR_KVM_WALL_CLOCK_NEW,
} from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmclock } from "./mod.ts";

Deno.test("kvmclock manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmclock.manifest;
  assertEquals(m.name, "kvmclock");
  assertEquals(m.package, "@pvkit/kvmclock");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_CLOCKSOURCE, KVM_FEATURE_CLOCKSOURCE2]);
  assertEquals(m.msrs.map((x) => x.index), [
    MSR_KVM_WALL_CLOCK,
    MSR_KVM_SYSTEM_TIME,
    MSR_KVM_WALL_CLOCK_NEW,
    MSR_KVM_SYSTEM_TIME_NEW,
  ]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvmclock composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmclock);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvmclock"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmclock.manifest.cpuid.bits));
});
