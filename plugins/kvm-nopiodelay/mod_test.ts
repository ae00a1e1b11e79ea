import { assertEquals } from "@std/assert";
import { KVM_FEATURE_NOP_IO_DELAY } from "@pvkit/abi";
import {
  bitMask,
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmNopiodelay } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmNopiodelay]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-nopiodelay", enabled: true, form: "api" },
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

Deno.test("kvm-nopiodelay manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
  const m = kvmNopiodelay.manifest;
  assertEquals(m.name, "kvm-nopiodelay");
  assertEquals(m.package, "@pvkit/kvm-nopiodelay");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_NOP_IO_DELAY]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-nopiodelay composes on its own and sets exactly its bits", () => {
  const machine = composeAlone("split");
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-nopiodelay"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmNopiodelay.manifest.cpuid.bits));
});
