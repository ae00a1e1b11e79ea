import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_ASYNC_PF_VMEXIT, MSR_KVM_ASYNC_PF_EN } from "@pvkit/abi";
import { composeSolo } from "@pvkit/machine";
import { kvmAsyncpfVmexit } from "./mod.ts";

Deno.test("kvm-asyncpf-vmexit manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmAsyncpfVmexit.manifest;
  assertEquals(m.name, "kvm-asyncpf-vmexit");
  assertEquals(m.package, "@pvkit/kvm-asyncpf-vmexit");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_ASYNC_PF_VMEXIT]);
  assertEquals(m.msrs.map((x) => x.index), [MSR_KVM_ASYNC_PF_EN]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-asyncpf-vmexit composed without kvm-asyncpf fails naming the missing plugin", () => {
  const machine = composeSolo(kvmAsyncpfVmexit);
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvm-asyncpf-vmexit requires kvm-asyncpf");
});
