/**
 * What the VMM and KVM saw while a guest ran, per vCPU: the watched PV MSR writes (see
 * `pv_msr_watch.ts`), the exits that reached userspace, and KVM's own counters from the vCPU
 * stats fd (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst "KVM_GET_STATS_FD"), among them
 * `hypercalls`: every hypercall KVM handled in the kernel.
 *
 * @module
 */

import { KVM_EXIT, type KvmStatsFd } from "@pvkit/kvm";
import {
  type BootShared,
  EXIT_REASON_SLOTS,
  MSR_LOG,
  MSR_TRACE_ENTRIES,
  MSR_TRACE_WORDS,
} from "./boot_shared.ts";
import { WATCHED_PV_MSRS } from "./pv_msr_watch.ts";

/** The guest's writes of one watched PV MSR on one vCPU. */
export interface PvMsrWrites {
  /** The MSR. */
  readonly msr: number;
  /** Writes KVM took. */
  readonly writes: number;
  /** The last value written. */
  readonly last: bigint;
  /** The last non-zero value written (0 if none). */
  readonly lastNonZero: bigint;
  /** Writes KVM refused (the guest got a #GP). */
  readonly refused: number;
}

/** One vCPU's observations. */
export interface VcpuObservations {
  /** The watched PV MSRs the guest wrote (or tried to), in MSR order. */
  readonly msrWrites: readonly PvMsrWrites[];
  /** The first writes KVM took, in order (at most {@linkcode MSR_TRACE_ENTRIES}). */
  readonly msrTrace: readonly { readonly msr: number; readonly value: bigint }[];
  /** Exits that reached the VMM, by KVM_EXIT_* name. */
  readonly userspaceExits: Readonly<Record<string, number>>;
  /** KVM's counters (those this host's KVM provides, of {@linkcode BOOT_KVM_STATS}). */
  readonly kvmStats: Readonly<Record<string, number>>;
}

/** What a boot observed. */
export interface BootObservations {
  /** Per vCPU, by index. */
  readonly vcpus: readonly VcpuObservations[];
  /** Port accesses no device claimed, busiest first. */
  readonly unclaimedPorts: readonly { readonly port: number; readonly accesses: number }[];
  /** MMIO exits no device claimed. */
  readonly unclaimedMmio: number;
}

/**
 * The KVM vCPU statistics a boot report keeps (names as in `kvm_vcpu_stats_desc`,
 * arch/x86/kvm/x86.c).
 *
 * @example
 * ```ts
 * import { BOOT_KVM_STATS } from "@pvkit/vmm";
 * console.log(BOOT_KVM_STATS.includes("hypercalls")); // true
 * ```
 */
export const BOOT_KVM_STATS: readonly string[] = [
  "exits",
  "io_exits",
  "mmio_exits",
  "halt_exits",
  "irq_exits",
  "irq_window_exits",
  "signal_exits",
  "hypercalls",
  "halt_wakeup",
  "request_irq_exits",
  "insn_emulation",
];

const EXIT_NAME_BY_REASON = new Map<number, string>(
  Object.entries(KVM_EXIT).map(([name, reason]) => [reason, name]),
);

/**
 * Reads a VM's observations after its vCPU threads stopped.
 *
 * @example
 * ```ts
 * import { BootShared, readBootObservations } from "@pvkit/vmm";
 * const shared = BootShared.create(1);
 * shared.exits[2] = 5; // five KVM_EXIT_IO on vCPU 0
 * const seen = readBootObservations(shared, [undefined]);
 * console.log(seen.vcpus[0].userspaceExits); // { KVM_EXIT_IO: 5 }
 * ```
 */
export function readBootObservations(
  shared: BootShared,
  stats: readonly (KvmStatsFd | undefined)[],
): BootObservations {
  const vcpus: VcpuObservations[] = [];
  for (let i = 0; i < shared.vcpus; i++) {
    const msrWrites: PvMsrWrites[] = [];
    WATCHED_PV_MSRS.forEach((msr, slot) => {
      const at = shared.msrRecord(i, slot);
      const log = shared.msrLog;
      const writes = Number(log[at + MSR_LOG.writes]);
      const refused = Number(log[at + MSR_LOG.refused]);
      if (writes === 0 && refused === 0) return;
      msrWrites.push({
        msr,
        writes,
        last: log[at + MSR_LOG.last],
        lastNonZero: log[at + MSR_LOG.lastNonZero],
        refused,
      });
    });
    const userspaceExits: Record<string, number> = {};
    for (let reason = 0; reason < EXIT_REASON_SLOTS; reason++) {
      const n = shared.exitCount(i, reason);
      if (n > 0) userspaceExits[EXIT_NAME_BY_REASON.get(reason) ?? `exit ${reason}`] = n;
    }
    const kvmStats: Record<string, number> = {};
    const fd = stats[i];
    if (fd) {
      for (const name of BOOT_KVM_STATS) {
        if (fd.descriptor(name)) kvmStats[name] = Number(fd.read(name));
      }
    }
    const base = i * MSR_TRACE_WORDS;
    const traced = Math.min(Number(shared.msrTrace[base]), MSR_TRACE_ENTRIES);
    const msrTrace = Array.from({ length: traced }, (_, k) => ({
      msr: Number(shared.msrTrace[base + 1 + 2 * k]),
      value: shared.msrTrace[base + 2 + 2 * k],
    }));
    vcpus.push({ msrWrites, msrTrace, userspaceExits, kvmStats });
  }
  const unclaimedPorts: { port: number; accesses: number }[] = [];
  shared.unclaimedPorts.forEach((accesses, port) => {
    if (accesses > 0) unclaimedPorts.push({ port, accesses });
  });
  unclaimedPorts.sort((a, b) => b.accesses - a.accesses || a.port - b.port);
  return { vcpus, unclaimedPorts, unclaimedMmio: shared.unclaimedMmio[0] };
}
