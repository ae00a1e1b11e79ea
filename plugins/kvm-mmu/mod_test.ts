import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_MMU_OP, KVM_HC_MMU_OP } from "@pvkit/abi";
import {
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmMmu } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmMmu]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-mmu", enabled: true, form: "api" },
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

Deno.test("kvm-mmu manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
  const m = kvmMmu.manifest;
  assertEquals(m.name, "kvm-mmu");
  assertEquals(m.package, "@pvkit/kvm-mmu");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_MMU_OP]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_MMU_OP]);
});

Deno.test("kvm-mmu was removed from KVM: asking for it is an error", () => {
  const machine = composeAlone("on");
  assertStringIncludes(machine.errors.join("\n"), "[rule kvm-mmu/removed]");
});
