/**
 * The largest machine pvkit composes: 32768 vCPUs with every PV feature the ABI still has.
 * Shared by the composition bench and the heap test.
 */

import type { ComposeOptions } from "@pvkit/pvkit";

/** Every feature except kvm-mmu (removed from KVM). */
export const EVERY_FEATURE: readonly string[] = [
  "kvmclock",
  "kvm-nopiodelay",
  "kvm-asyncpf",
  "kvm-steal-time",
  "kvm-pv-eoi",
  "kvm-pv-unhalt",
  "kvm-pv-tlb-flush",
  "kvm-asyncpf-vmexit",
  "kvm-pv-ipi",
  "kvm-poll-control",
  "kvm-pv-sched-yield",
  "kvm-asyncpf-int",
  "kvm-msi-ext-dest-id",
  "kvmclock-stable-bit",
  "kvm-hint-dedicated",
];

/** `-cpu base,<every feature>=on,x2apic=on -machine pvkit,kernel-irqchip=split -smp 32768`. */
export const ALL_FEATURES_32768: ComposeOptions = {
  cpu: ["base", ...EVERY_FEATURE.map((f) => `${f}=on`), "x2apic=on"].join(","),
  machine: "pvkit,kernel-irqchip=split",
  smp: 32768,
  host: {
    name: "every-bit",
    kvmLeaf: { eax: 0x01007efb, edx: 0 },
    x2apicApi: true,
    maxVcpus: 32768,
  },
};
