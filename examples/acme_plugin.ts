/**
 * A third-party plugin as a module the `pvkit` command can load with `--plugin`:
 *
 *   deno task pvkit describe --plugin examples/acme_plugin.ts -cpu qemu64,acme-doorbell=on
 *   deno task pvkit explain acme-doorbell --plugin examples/acme_plugin.ts
 *
 * The feature is made up (CPUID 0x40000001 EAX bit 20 is not assigned by KVM); it shows the
 * shape: a manifest checked by `definePlugin()`, exported by name.
 *
 * Run: deno run -A examples/acme_plugin.ts
 */

import { definePlugin, type PvPlugin } from "@pvkit/machine";

/** An example VMM feature: a doorbell the guest may ring when it needs the VMM's attention. */
export const acmeDoorbell: PvPlugin = definePlugin({
  name: "acme-doorbell",
  package: "@acme/doorbell",
  summary: "acme-doorbell: an example VMM-provided feature (not a KVM feature)",
  qemu: { name: null, aliases: [] },
  cpuid: { leaf: "0x40000001", register: "eax", bits: [20], abiName: "ACME_FEATURE_DOORBELL" },
  defaultOn: false,
  host: { provider: "vmm", autoEnable: false },
  msrs: [],
  hypercalls: [],
  since: {},
  rules: [{
    id: "acme-doorbell/needs-kvmclock",
    level: "warning",
    require: { feature: "kvmclock" },
    message: "{feature} without kvmclock: the doorbell's timestamps are meaningless",
  }],
});

if (import.meta.main) {
  console.log(acmeDoorbell.manifest.name, acmeDoorbell.manifest.cpuid.bits);
}
