import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_ASYNC_PF_INT, MSR_KVM_ASYNC_PF_ACK, MSR_KVM_ASYNC_PF_INT } from "@pvkit/abi";
import {
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmAsyncpfInt } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmAsyncpfInt]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-asyncpf-int", enabled: true, form: "api" },
      { feature: "x2apic", enabled: irqchip !== "off", form: "api" },
    ],
    host: {
      name: "all",
      kvmLeaf: { eax: 0xffffffff, edx: 0xffffffff },
      x2apicApi: true,
      maxVcpus: 4096,
    },
    rules: "strict",
  });
}

Deno.test("kvm-asyncpf-int manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
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
  const machine = composeAlone("split");
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvm-asyncpf-int requires kvm-asyncpf");
});

Deno.test("kvm-asyncpf-int needs an in-kernel irqchip", () => {
  const machine = composeAlone("off");
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-asyncpf-int/in-kernel-irqchip]");
});
