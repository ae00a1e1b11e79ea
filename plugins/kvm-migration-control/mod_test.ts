import { assertEquals, assertStringIncludes } from "@std/assert";
import { KVM_FEATURE_MIGRATION_CONTROL, MSR_KVM_MIGRATION_CONTROL } from "@pvkit/abi";
import { bitMask, composeSolo } from "@pvkit/machine";
import { kvmMigrationControl } from "./mod.ts";

Deno.test("kvm-migration-control manifest matches the PV ABI (Documentation/virt/kvm/x86/cpuid.rst-§5)", () => {
  const m = kvmMigrationControl.manifest;
  assertEquals(m.name, "kvm-migration-control");
  assertEquals(m.package, "@pvkit/kvm-migration-control");
  assertEquals(m.qemu, { name: null, aliases: [] });
  assertEquals(m.cpuid.leaf, 0x40000001);
  assertEquals(m.cpuid.register, "eax");
  assertEquals(m.cpuid.bits, [KVM_FEATURE_MIGRATION_CONTROL]);
  assertEquals(m.defaultOn, false);
  assertEquals(m.host, { provider: "vmm", autoEnable: false });
  assertEquals(m.msrs.map((x) => x.index), [MSR_KVM_MIGRATION_CONTROL]);
  assertEquals(m.hypercalls.map((x) => x.nr), []);
});

Deno.test("kvm-migration-control composes on its own and sets exactly its bits", () => {
  const machine = composeSolo(kvmMigrationControl);
  assertEquals(machine.errors, []);
  assertEquals(machine.isEnabled("kvm-migration-control"), true);
  const leaf = machine.leaves["0x40000001"];
  assertEquals(Number(leaf.eax), bitMask(kvmMigrationControl.manifest.cpuid.bits));
  assertStringIncludes(machine.notes.join("\n"), "[rule kvm-migration-control/vmm-msr]");
});
