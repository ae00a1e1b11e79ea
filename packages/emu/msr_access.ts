/**
 * One MSR access as the guest (WRMSR/RDMSR on a vCPU, at CPL 0) or as the host
 * (KVM_SET_MSRS/KVM_GET_MSRS), reduced to how it ended: the shape of the MSR tables of the
 * PV ABI (spec/kvm-pv-abi.md §MSRs), where the same write is legal from one side and #GP
 * from the other.
 *
 * @module
 */

import type { MsrInitiator } from "@pvkit/machine";
import type { EmuMachine } from "./emu_machine.ts";

/**
 * Writes `value` to `msr` on vCPU `vcpu` (default 0) as `by`: the guest's WRMSR, or the
 * host's KVM_SET_MSRS (which sets 1 MSR or 0). Returns `"ok"` or `"gp"` (the guest's #GP,
 * or the host's 0).
 *
 * @example
 * ```ts
 * import { EmuMachine, writeMsrAs } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", host: "linux-6.12" }));
 * console.log(writeMsrAs(vm, "guest", 0x4b564d03, 0x2n)); // "gp": STEAL_TIME bits 5:1 are reserved
 * ```
 */
export function writeMsrAs(
  vm: EmuMachine,
  by: MsrInitiator,
  msr: number,
  value: bigint,
  vcpu = 0,
): "ok" | "gp" {
  if (by === "host") return vm.setMsr(vcpu, msr, value) === 1 ? "ok" : "gp";
  return vm.runOn(vcpu, (cpu) => cpu.wrmsr(msr, value).kind);
}

/**
 * Reads `msr` on vCPU `vcpu` (default 0) as `by`: the guest's RDMSR or the host's
 * KVM_GET_MSRS. Returns the value, or `"gp"`.
 *
 * @example
 * ```ts
 * import { EmuMachine, readMsrAs } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", host: "linux-6.12" }));
 * console.log(readMsrAs(vm, "host", 0x4b564d03)); // 0n: steal time starts disabled
 * ```
 */
export function readMsrAs(vm: EmuMachine, by: MsrInitiator, msr: number, vcpu = 0): bigint | "gp" {
  if (by === "host") return vm.getMsr(vcpu, msr) ?? "gp";
  return vm.runOn(vcpu, (cpu) => {
    const r = cpu.rdmsr(msr);
    return r.kind === "value" ? r.value : "gp";
  });
}
