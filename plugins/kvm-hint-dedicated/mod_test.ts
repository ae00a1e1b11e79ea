import { assertEquals } from "@std/assert";
import { KVM_HINTS_REALTIME } from "@pvkit/abi";
import {
  bitMask,
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmHintDedicated } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmHintDedicated]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-hint-dedicated", enabled: true, form: "api" },
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

Deno.test("kvm-hint-dedicated manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
  const m = kvmHintDedicated.manifest;
  assertEquals(m.name, "kvm-hint-dedicated");
  assertEquals(m.package, "@pvkit/kvm-hint-dedicated");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "edx");
  assertEquals(m.cpuid.bits, [KVM_HINTS_REALTIME]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-hint-dedicated composes on its own and sets exactly its bits", () => {
  const machine = composeAlone("split");
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-hint-dedicated"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.edx), bitMask(kvmHintDedicated.manifest.cpuid.bits));
});
