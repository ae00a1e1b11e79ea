import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_PV_SCHED_YIELD, KVM_HC_SCHED_YIELD } from "@pvkit/abi";
import {
  type ComposedMachine,
  composeMachine,
  type IrqchipMode,
  PluginRegistry,
  simpleTopology,
} from "@pvkit/machine";
import { kvmPvSchedYield } from "./mod.ts";

/** Composes a machine that has only this plugin, turned on, on a host that supports every bit. */
function composeAlone(irqchip: IrqchipMode): ComposedMachine {
  return composeMachine({
    registry: new PluginRegistry([kvmPvSchedYield]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(2) },
    settings: [
      { feature: "kvm-pv-sched-yield", enabled: true, form: "api" },
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

Deno.test("kvm-pv-sched-yield manifest matches the PV ABI (kvm-pv-abi.md §1-§5)", () => {
  const m = kvmPvSchedYield.manifest;
  assertEquals(m.name, "kvm-pv-sched-yield");
  assertEquals(m.package, "@pvkit/kvm-pv-sched-yield");
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_PV_SCHED_YIELD]);
  assertEquals(m.msrs.map((x) => x.index), []);
  assertEquals(m.hypercalls.map((x) => x.nr), [KVM_HC_SCHED_YIELD]);
});

Deno.test("kvm-pv-sched-yield composed without kvm-steal-time fails naming the missing plugin", () => {
  const machine = composeAlone("split");
  assertEquals(machine.ok, false);
  assertStringIncludes(machine.errors[0], "kvm-pv-sched-yield requires kvm-steal-time");
});
