import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_CLOCKSOURCE_STABLE_BIT } from "@pvkit/abi";
import { composeSolo } from "@pvkit/machine";
import { kvmclockStableBit } from "./mod.ts";

Deno.test("kvmclock-stable-bit manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmclockStableBit.manifest;
  assertEquals(m.name, "kvmclock-stable-bit");
  assertEquals(m.package, "@pvkit/kvmclock-stable-bit");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_CLOCKSOURCE_STABLE_BIT]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvmclock-stable-bit composed without kvmclock fails naming the missing plugin", () => {
  const machine = composeSolo(kvmclockStableBit);
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvmclock-stable-bit requires kvmclock");
});
