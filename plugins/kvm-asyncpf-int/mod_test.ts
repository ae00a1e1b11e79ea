import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_ASYNC_PF_INT, MSR_KVM_ASYNC_PF_ACK, MSR_KVM_ASYNC_PF_INT } from "@pvkit/abi";
import { composeSolo } from "@pvkit/machine";
import { kvmAsyncpfInt } from "./mod.ts";

Deno.test("kvm-asyncpf-int manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmAsyncpfInt.manifest;
  assertEquals(m.name, "kvm-asyncpf-int");
  assertEquals(m.package, "@pvkit/kvm-asyncpf-int");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_ASYNC_PF_INT]);
  assertEquals(m.msrs.map((x) => x.index), [MSR_KVM_ASYNC_PF_INT, MSR_KVM_ASYNC_PF_ACK]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-asyncpf-int composed without kvm-asyncpf fails naming the missing plugin", () => {
  const machine = composeSolo(kvmAsyncpfInt);
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvm-asyncpf-int requires kvm-asyncpf");
});

Deno.test("kvm-asyncpf-int needs an in-kernel irqchip", () => {
  const machine = composeSolo(kvmAsyncpfInt, { irqchip: "off" });
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-asyncpf-int/in-kernel-irqchip]");
});
