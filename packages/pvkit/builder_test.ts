import { assertEquals, assertThrows } from "@std/assert";
import { definePlugin, PvkitError, type PvPlugin } from "@pvkit/machine";
import { compose } from "./compose.ts";
import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";
import { kvmPvTlbFlush } from "@pvkit/kvm-pv-tlb-flush";
import { MachineBuilder } from "./builder.ts";
import { builderFix } from "./builder_fix.ts";

Deno.test("use(undefined) (a misspelt import) is a clear error, not a TypeError", () => {
  assertThrows(
    () => new MachineBuilder().use(undefined as unknown as PvPlugin),
    PvkitError,
    "MachineBuilder.use() needs a plugin, got undefined",
  );
  assertThrows(
    () => new MachineBuilder().disable({} as PvPlugin),
    PvkitError,
    "MachineBuilder.disable() needs a plugin, got object",
  );
});

Deno.test("compose() reports a plugin rule that names a feature no plugin provides", () => {
  const misspelt = definePlugin({
    name: "acme-needs-steal",
    package: "@acme/needs-steal",
    summary: "a rule with a misspelt feature",
    qemu: { name: null, aliases: [] },
    cpuid: { leaf: "0x40000001", register: "eax", bits: [20], abiName: "ACME" },
    defaultOn: false,
    host: { provider: "vmm", autoEnable: false },
    msrs: [],
    hypercalls: [],
    since: {},
    rules: [{
      id: "acme/needs-steal",
      level: "error",
      require: { feature: "kvm-stael-time" },
      message: "{feature} needs steal time",
    }],
  });
  const composed = compose({ cpu: "host", host: "linux-6.18", plugins: [misspelt] });
  assertEquals(composed.errors, [
    'plugin manifest acme-needs-steal.rules[0].require: names the feature "kvm-stael-time", ' +
    "which no registered plugin provides",
  ]);
});

Deno.test("diagnostics(): each broken rule as fields, the fix in builder calls", () => {
  assertEquals(new MachineBuilder().use(kvmPvTlbFlush).smp(2).diagnostics(), [{
    rule: "kvm-pv-tlb-flush/requires-kvm-steal-time",
    level: "error",
    feature: "kvm-pv-tlb-flush",
    message: "kvm-pv-tlb-flush requires kvm-steal-time: the guest reads and sets the preempted " +
      "byte of the steal-time record",
    fix: ".use(kvmStealTime), or .disable(kvmPvTlbFlush)",
    source: "arch/x86/kernel/kvm.c pv_tlb_flush_supported() (needs KVM_FEATURE_STEAL_TIME)",
    dropped: false,
    require: { feature: "kvm-steal-time" },
  }]);
  const [x2apic] = new MachineBuilder().smp(300).diagnostics();
  assertEquals([x2apic.rule, x2apic.level, x2apic.fix], [
    "apic/x2apic-above-254",
    "error",
    ".x2apic()",
  ]);
  const eoi = new MachineBuilder().use(kvmPvEoi).irqchip("off").diagnostics();
  assertEquals(eoi[0].fix, '.irqchip("on") or .irqchip("split"), or .disable(kvmPvEoi)');
});

Deno.test("builderFix keeps the rule's own words where no builder call expresses it", () => {
  const d = {
    rule: "r",
    level: "warning" as const,
    message: "m",
    fix: "turn x on",
    dropped: false,
  };
  assertEquals(builderFix(d), "turn x on");
  assertEquals(
    builderFix({ ...d, require: { not: { feature: "kvm-pv-eoi" } } }),
    ".disable(kvmPvEoi)",
  );
  assertEquals(
    builderFix({ ...d, require: { all: [{ x2apic: true }, { vcpus: { min: 2 } }] } }),
    ".x2apic() and .smp(2)",
  );
});
