/**
 * The exit loop of one vCPU thread: KVM_RUN, then the exit dispatched to a device, until the
 * VM stops. It reads `kvm_run` through views made once and allocates nothing per exit.
 *
 * With an in-kernel irqchip and PIT, KVM handles the APIC, IOAPIC, PIC and PIT itself; what
 * reaches userspace is port I/O for the legacy devices (UART, i8042, CMOS), MMIO no memslot
 * covers, the watched PV MSR writes (see `pv_msr_watch.ts`) and the ways a guest ends.
 *
 * @module
 */

import {
  type BootShared,
  EXIT_REASON_SLOTS,
  MSR_LOG,
  MSR_TRACE_ENTRIES,
  MSR_TRACE_WORDS,
  STOP_REASON,
} from "./boot_shared.ts";
import { watchedMsrSlot } from "./pv_msr_watch.ts";

// KVM_EXIT_* (include/uapi/linux/kvm.h).
const EXIT_IO = 2;
const EXIT_HLT = 5;
const EXIT_MMIO = 6;
const EXIT_SHUTDOWN = 8;
const EXIT_FAIL_ENTRY = 9;
const EXIT_INTR = 10;
const EXIT_INTERNAL_ERROR = 17;
const EXIT_SYSTEM_EVENT = 24;
const EXIT_X86_RDMSR = 29;
const EXIT_X86_WRMSR = 30;

// The exit union (struct kvm_run @32).
const U = 32;
const IO_OUT = 1; // KVM_EXIT_IO_OUT

/** What the loop needs of a vCPU thread ({@linkcode VcpuThread} in production). */
export interface ExitLoopVcpu {
  /** `kvm_run` as little-endian fields. */
  readonly view: DataView;
  /** `exit_reason` of the last run. */
  readonly exitReason: number;
  /** errno of the last failure. */
  readonly lastErrno: number;
  /** True when the last failure was EINTR/EAGAIN. */
  readonly interrupted: boolean;
  /** One KVM_RUN: 0, or -1 on failure. */
  run(): number;
  /** KVM_SET_MSRS of one MSR: true when KVM took it. */
  setMsr(index: number, value: bigint): boolean;
}

/** What the loop needs of the port-I/O devices. */
export interface ExitLoopPorts {
  /** An `in` of `size` bytes from `port`. */
  read(port: number, size: number): number;
  /** An `out` of `size` bytes to `port`. */
  write(port: number, size: number, value: number): void;
}

/**
 * Runs vCPU `index` until the VM stops (a stop requested by any vCPU or the host), then
 * returns. Every exit is counted in `shared.exits`.
 *
 * @example
 * ```ts ignore
 * import { BootShared, runExitLoop } from "@pvkit/vmm";
 * import { VcpuThread } from "@pvkit/kvm";
 * // In a vCPU Worker, with fds posted by the main thread:
 * declare const vcpuFd: number, vmFd: number, mmapSize: number, shared: BootShared;
 * declare const ports: { read(p: number, s: number): number; write(p: number, s: number, v: number): void };
 * runExitLoop(VcpuThread.attach(vcpuFd, vmFd, mmapSize), 0, shared, ports);
 * ```
 */
export function runExitLoop(
  vcpu: ExitLoopVcpu,
  index: number,
  shared: BootShared,
  ports: ExitLoopPorts,
): void {
  const view = vcpu.view;
  const exits = shared.exits;
  const exitBase = index * EXIT_REASON_SLOTS;
  while (!shared.stopping) {
    if (vcpu.run() !== 0) {
      if (vcpu.interrupted) continue; // a kick: the loop condition decides
      shared.requestStop(STOP_REASON.runError, index, vcpu.lastErrno);
      return;
    }
    const reason = vcpu.exitReason;
    exits[exitBase + (reason < EXIT_REASON_SLOTS ? reason : EXIT_REASON_SLOTS - 1)]++;
    switch (reason) {
      case EXIT_IO:
        portIo(view, ports);
        break;
      case EXIT_MMIO:
        // No device claims MMIO outside the in-kernel APIC and IOAPIC: reads see zeros.
        if (view.getUint8(U + 20) === 0) view.setBigUint64(U + 8, 0n, true);
        Atomics.add(shared.unclaimedMmio, 0, 1);
        break;
      case EXIT_X86_WRMSR:
        msrWrite(vcpu, index, shared);
        break;
      case EXIT_X86_RDMSR:
        // The filter only covers writes; a read here is an MSR KVM refused: #GP, as KVM does.
        view.setUint8(U, 1);
        break;
      case EXIT_INTR:
        break;
      case EXIT_SHUTDOWN:
        shared.requestStop(STOP_REASON.tripleFault, index);
        return;
      case EXIT_SYSTEM_EVENT:
        shared.requestStop(STOP_REASON.systemEvent, index, view.getUint32(U, true));
        return;
      case EXIT_FAIL_ENTRY:
        // hardware_entry_failure_reason (u64 @32; its low 32 bits carry the code).
        shared.requestStop(STOP_REASON.fatalExit, index, reason, view.getUint32(U, true));
        return;
      case EXIT_INTERNAL_ERROR:
        shared.requestStop(STOP_REASON.fatalExit, index, reason, view.getUint32(U, true));
        return;
      case EXIT_HLT:
      default:
        shared.requestStop(STOP_REASON.fatalExit, index, reason, 0);
        return;
    }
  }
}

// struct kvm_run.io: direction u8 @32, size u8 @33, port u16 @34, count u32 @36,
// data_offset u64 @40 (the data lies in the kvm_run mapping at that offset).
function portIo(view: DataView, ports: ExitLoopPorts): void {
  const out = view.getUint8(U) === IO_OUT;
  const size = view.getUint8(U + 1);
  const port = view.getUint16(U + 2, true);
  const count = view.getUint32(U + 4, true);
  let at = view.getUint32(U + 8, true);
  for (let i = 0; i < count; i++, at += size) {
    if (out) {
      const value = size === 1
        ? view.getUint8(at)
        : size === 2
        ? view.getUint16(at, true)
        : view.getUint32(at, true);
      ports.write(port, size, value);
    } else {
      const value = ports.read(port, size);
      if (size === 1) view.setUint8(at, value);
      else if (size === 2) view.setUint16(at, value, true);
      else view.setUint32(at, value >>> 0, true);
    }
  }
}

// struct kvm_run.msr: error u8 @32, reason u32 @40, index u32 @44, data u64 @48.
function msrWrite(vcpu: ExitLoopVcpu, index: number, shared: BootShared): void {
  const view = vcpu.view;
  const msr = view.getUint32(U + 12, true);
  const data = view.getBigUint64(U + 16, true);
  const taken = vcpu.setMsr(msr, data);
  view.setUint8(U, taken ? 0 : 1); // error = 1: KVM injects #GP
  const slot = watchedMsrSlot(msr);
  if (slot < 0) return;
  const log = shared.msrLog;
  const at = shared.msrRecord(index, slot);
  if (!taken) {
    log[at + MSR_LOG.refused]++;
    return;
  }
  log[at + MSR_LOG.writes]++;
  const trace = shared.msrTrace;
  const base = index * MSR_TRACE_WORDS;
  const n = Number(trace[base]++);
  if (n < MSR_TRACE_ENTRIES) {
    trace[base + 1 + 2 * n] = BigInt(msr);
    trace[base + 2 + 2 * n] = data;
  }
  log[at + MSR_LOG.last] = data;
  if (data !== 0n) log[at + MSR_LOG.lastNonZero] = data;
}
