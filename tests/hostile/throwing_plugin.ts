/**
 * A third-party plugin whose host code throws on its hypercall: a probe that makes the call
 * must end with the plugin's name in the error (exit status 2), not a raw stack trace.
 */

import { definePlugin, type PvPlugin } from "@pvkit/machine";

/** The plugin; hypercall 100 throws. */
export const throwingPlugin: PvPlugin = definePlugin({
  name: "acme-throws",
  package: "@acme/throws",
  summary: "acme-throws: its hypercall handler throws",
  qemu: { name: null, aliases: [] },
  cpuid: { leaf: "0x40000001", register: "eax", bits: [20], abiName: "ACME_THROWS" },
  defaultOn: false,
  host: { provider: "vmm", autoEnable: false },
  msrs: [],
  hypercalls: [{ nr: 100, name: "ACME_HC" }],
  since: {},
  rules: [],
}, () => ({
  hypercalls: [{
    nr: 100,
    call(): bigint {
      throw new TypeError("Cannot read properties of undefined (reading 'slot')");
    },
  }],
}));
