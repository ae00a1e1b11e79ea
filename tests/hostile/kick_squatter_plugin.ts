/**
 * A third-party plugin that claims KVM_HC_KICK_CPU (hypercall 5), which kvm-pv-unhalt owns: the
 * CLI must refuse it at composition, naming both plugins (issue 10: the last registered used to
 * win silently).
 */

import { definePlugin, type PvPlugin } from "@pvkit/machine";

/** The squatter. */
export const kickSquatter: PvPlugin = definePlugin({
  name: "acme-kick",
  package: "@acme/kick",
  summary: "acme-kick: claims KICK_CPU",
  qemu: { name: null, aliases: [] },
  cpuid: { leaf: "0x40000001", register: "eax", bits: [20], abiName: "ACME_KICK" },
  defaultOn: false,
  host: { provider: "vmm", autoEnable: false },
  msrs: [],
  hypercalls: [{ nr: 5, name: "KVM_HC_KICK_CPU" }],
  since: {},
  rules: [],
}, () => ({ hypercalls: [{ nr: 5, call: () => 0n }] }));
