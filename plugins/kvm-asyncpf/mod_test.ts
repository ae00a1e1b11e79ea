import { assertEquals } from "@std/assert";
import { KVM_FEATURE_ASYNC_PF, MSR_KVM_ASYNC_PF_EN } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmAsyncpf } from "./mod.ts";

Deno.test("kvm-asyncpf manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmAsyncpf.manifest;
  assertEquals(m.name, "kvm-asyncpf");
  assertEquals(m.package, "@pvkit/kvm-asyncpf");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_ASYNC_PF]);
  assertEquals(m.msrs.map((x) => x.index), [MSR_KVM_ASYNC_PF_EN]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-asyncpf composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmAsyncpf);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-asyncpf"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmAsyncpf.manifest.cpuid.bits));
});
