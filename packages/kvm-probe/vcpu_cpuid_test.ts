import { assertEquals } from "@std/assert";
import { compose } from "@pvkit/pvkit";
import { vcpuCpuid } from "./vcpu_cpuid.ts";

const entry = (fn: number, index = 0) => ({
  function: fn,
  index,
  flags: 0,
  eax: 0,
  ebx: 0,
  ecx: 0,
  edx: 0,
});
const table = [entry(1), entry(0xb, 0), entry(0xb, 1), entry(0x40000000), entry(0x40000001)];

Deno.test("each vCPU gets its own APIC ID in leaf 1 and leaf 0xB, and the composed x2apic bit", () => {
  const machine = compose({ cpu: "host", machine: "q35", smp: 4, host: "linux-6.18" });
  const cpuid = vcpuCpuid(table, machine, 3);
  assertEquals(cpuid[0].ebx >>> 24, 3);
  assertEquals((cpuid[0].ecx >>> 21) & 1, 1); // x2apic
  assertEquals((cpuid[0].ecx >>> 31) & 1, 1); // hypervisor
  assertEquals([cpuid[1].edx, cpuid[2].edx], [3, 3]);
  const noX2apic = vcpuCpuid(table, compose({ cpu: "host,x2apic=off", host: "linux-6.18" }), 0);
  assertEquals((noX2apic[0].ecx >>> 21) & 1, 0);
});

Deno.test("kvm=off removes every KVM leaf", () => {
  const cpuid = vcpuCpuid(table, compose({ cpu: "host,kvm=off", host: "linux-6.18" }), 0);
  assertEquals(cpuid.some((e) => e.function >= 0x40000000), false);
});
