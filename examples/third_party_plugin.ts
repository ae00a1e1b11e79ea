/**
 * A VMM's own plugin: MIGRATION_CONTROL (CPUID bit 17, MSR 0x4b564d08), which KVM leaves to
 * the VMM. It registers with the same manifest shape as the built-in plugins and is checked
 * the same way: a plugin that claims a taken bit is refused.
 *
 * Run: deno run -A examples/third_party_plugin.ts
 */

import { definePlugin } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";

const migrationControl = definePlugin({
  name: "vmm-migration-control",
  package: "@example/migration-control",
  summary: "MSR_KVM_MIGRATION_CONTROL, trapped by the VMM",
  qemu: { name: null, aliases: [] },
  cpuid: {
    leaf: "0x40000001",
    register: "eax",
    bits: [17],
    abiName: "KVM_FEATURE_MIGRATION_CONTROL",
  },
  defaultOn: false,
  host: { provider: "vmm", autoEnable: false },
  msrs: [{ index: "0x4b564d08", name: "MSR_KVM_MIGRATION_CONTROL" }],
  hypercalls: [],
  since: { linux: "5.16" },
  rules: [{
    id: "vmm-migration-control/needs-kvmclock",
    level: "warning",
    require: { feature: "kvmclock" },
    message: "{feature} without kvmclock: the guest cannot tell the VMM when migration is safe",
  }],
});

const machine = compose({
  cpu: "qemu64,vmm-migration-control=on",
  plugins: [migrationControl],
  host: "linux-6.12",
});
console.log("EAX:", machine.leaves["0x40000001"].eax, "errors:", machine.errors);

// A second plugin claiming bit 17 is refused when the registry is built; compose() reports it.
const squatter = definePlugin({
  ...JSON.parse(JSON.stringify(migrationControl.manifest)),
  name: "squatter",
  package: "@example/squatter",
});
console.log(compose({ plugins: [migrationControl, squatter], host: "linux-6.12" }).errors[0]);
