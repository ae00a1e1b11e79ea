import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_TLB_FLUSH } from "@pvkit/abi";
import {
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmPvTlbFlush } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmPvTlbFlush]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-pv-tlb-flush", enabled: true, form: "api" },
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

Deno.test("kvm-pv-tlb-flush manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
  const m = kvmPvTlbFlush.manifest;
  assertEquals(m.name, "kvm-pv-tlb-flush");
  assertEquals(m.package, "@pvkit/kvm-pv-tlb-flush");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_TLB_FLUSH]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-pv-tlb-flush composed without kvm-steal-time fails naming the missing plugin", () => {
  const machine = composeAlone("split");
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvm-pv-tlb-flush requires kvm-steal-time");
});
