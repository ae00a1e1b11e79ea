/**
 * The compositions the Linux boot tests run, on pvkit's VMM (`linux_boot_matrix_test.ts`:
 * against `@pvkit/guest`'s prediction and `describe`) and on QEMU (`linux_qemu_compare_test.ts`:
 * the kernel takes the same PV features under both). Data only, plus the guest's command line.
 */

import { hostTimeScale } from "@pvkit/kvm";
import { DEFAULT_BOOT_CMDLINE } from "@pvkit/vmm";

/** One machine to boot. */
export interface BootComposition {
  /** A name for test output. */
  readonly name: string;
  /** `-cpu`. */
  readonly cpu: string;
  /** `-smp`. */
  readonly smp: number;
  /** Features the kernel must (true) or must not (false) take, besides agreeing with the model. */
  readonly expect: Readonly<Record<string, boolean>>;
}

/** The boot matrix: QEMU's default model, host, kvm=off, each hypercall feature off, 1 vs 2 vCPUs, dedicated vCPUs, no PV EOI. */
export const BOOT_MATRIX: readonly BootComposition[] = [
  {
    name: "QEMU's default model",
    cpu: "qemu64",
    smp: 2,
    expect: { kvmclock: true, "steal-time": true, "pv-eoi": true, "pv-ipi": false },
  },
  {
    name: "host",
    cpu: "host",
    smp: 2,
    expect: {
      kvmclock: true,
      "steal-time": true,
      "pv-eoi": true,
      "pv-ipi": true,
      "pv-spinlock": true,
      "pv-tlb-flush": true,
      "pv-sched-yield": true,
    },
  },
  { name: "kvm=off", cpu: "host,kvm=off", smp: 2, expect: { kvmclock: false, "pv-eoi": false } },
  {
    name: "no PV IPIs",
    cpu: "host,kvm-pv-ipi=off",
    smp: 2,
    expect: { "pv-ipi": false, "pv-spinlock": true },
  },
  {
    name: "no PV unhalt",
    cpu: "host,kvm-pv-unhalt=off",
    smp: 2,
    expect: { "pv-spinlock": false, "pv-ipi": true },
  },
  {
    name: "no PV sched yield",
    cpu: "host,kvm-pv-sched-yield=off",
    smp: 2,
    expect: { "pv-sched-yield": false, "pv-ipi": true },
  },
  {
    name: "no PV TLB flush",
    cpu: "host,kvm-pv-tlb-flush=off",
    smp: 2,
    expect: { "pv-tlb-flush": false },
  },
  {
    name: "one vCPU",
    cpu: "host",
    smp: 1,
    expect: { "pv-ipi": false, "pv-spinlock": false, kvmclock: true },
  },
  {
    name: "dedicated vCPUs",
    cpu: "host,kvm-hint-dedicated=on",
    smp: 2,
    expect: { haltpoll: true, "pv-spinlock": false },
  },
  {
    name: "no PV EOI",
    cpu: "host,kvm-pv-eoi=off",
    smp: 2,
    expect: { "pv-eoi": false, kvmclock: true },
  },
];

/** The kernel command line of every matrix boot (pvkit boot's default). */
export const MATRIX_CMDLINE: string = DEFAULT_BOOT_CMDLINE;

/** Guest RAM of every matrix boot. */
export const MATRIX_MEMORY_BYTES: number = 512 * 1024 * 1024;

/** A boot that has not ended after this long failed (stretched inside pvkit nested). */
export const MATRIX_TIMEOUT_MS: number = 150_000 * Math.min(hostTimeScale(), 3);

/** No console output for this long is a hung guest (one retry, stated in the output). */
export const MATRIX_IDLE_MS: number = 30_000 * Math.min(hostTimeScale(), 3);
