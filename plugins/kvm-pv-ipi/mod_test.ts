import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_SEND_IPI, KVM_HC_SEND_IPI } from "@pvkit/abi";
import {
  bitMask,
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmPvIpi } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmPvIpi]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-pv-ipi", enabled: true, form: "api" },
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

Deno.test("kvm-pv-ipi manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
  const m = kvmPvIpi.manifest;
  assertEquals(m.name, "kvm-pv-ipi");
  assertEquals(m.package, "@pvkit/kvm-pv-ipi");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_SEND_IPI]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_SEND_IPI]);
});

Deno.test("kvm-pv-ipi composes on its own and sets exactly its bits", () => {
  const machine = composeAlone("split");
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-pv-ipi"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmPvIpi.manifest.cpuid.bits));
});

Deno.test("kvm-pv-ipi needs an in-kernel irqchip", () => {
  const machine = composeAlone("off");
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-pv-ipi/in-kernel-irqchip]");
});
