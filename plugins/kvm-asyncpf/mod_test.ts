import { assertEquals } from "@std/assert";
import { KVM_FEATURE_ASYNC_PF, MSR_KVM_ASYNC_PF_EN } from "@pvkit/abi";
import {
  bitMask,
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmAsyncpf } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmAsyncpf]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-asyncpf", enabled: true, form: "api" },
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

Deno.test("kvm-asyncpf manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
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
  const machine = composeAlone("split");
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-asyncpf"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmAsyncpf.manifest.cpuid.bits));
});
