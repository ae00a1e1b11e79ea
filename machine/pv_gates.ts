/**
 * KVM's CPUID gates on PV MSRs and hypercalls (guest_pv_has, kvm-pv-abi.md §2 "Gate failure"
 * and §7): one place for the rule, so every plugin applies it the same way.
 *
 * @module
 */

import {
  type HypercallArgs,
  type HypercallHook,
  MSR_GP,
  MSR_OK,
  type MsrHook,
  type MsrInitiator,
  type MsrReadResult,
  type MsrWriteResult,
} from "./hooks.ts";
import type { VcpuContext } from "./vcpu_context.ts";

/** What a host-initiated read of a gated-off MSR returns. */
const HOST_READ_ZERO: MsrReadResult = Object.freeze({ kind: "value", value: 0n });

/** A plugin's MSR behaviour once the CPUID gate has let the access through. */
export interface GatedMsrHandler {
  /** RDMSR. */
  read(vcpu: VcpuContext, msr: number, initiator: MsrInitiator): MsrReadResult;
  /** WRMSR. */
  write(vcpu: VcpuContext, msr: number, value: bigint, initiator: MsrInitiator): MsrWriteResult;
}

/**
 * Wraps an MSR handler in KVM's gate: when `guest_pv_has(bit)` is false, a guest RDMSR/WRMSR
 * gets #GP; a host-initiated read returns 0 and a host write of 0 succeeds.
 *
 * @param gates MSR index → the KVM_FEATURE_* bit that gates it
 * @example
 * ```ts
 * import { gatedMsrHook, msrValue, MSR_OK } from "@pvkit/machine";
 * const hook = gatedMsrHook({ 0x4b564d05: 12 }, {
 *   read: () => msrValue(1n),
 *   write: () => MSR_OK,
 * });
 * console.log(hook.msrs); // [1263357189]
 * ```
 */
export function gatedMsrHook(
  gates: Readonly<Record<number, number>>,
  handler: GatedMsrHandler,
): MsrHook {
  const msrs = Object.keys(gates).map(Number);
  const bits = msrs.map((msr) => gates[msr]);
  // One gate bit per MSR; a scan of a handful of numbers beats a Map on this hot path.
  const bitOf = (msr: number): number => {
    for (let i = 0; i < msrs.length; i++) if (msrs[i] === msr) return bits[i];
    return -1;
  };
  return {
    msrs,
    gated: { bitOf, read: handler.read, write: handler.write },
    read(vcpu, msr, initiator) {
      if (!vcpu.pvHas(bitOf(msr))) return initiator === "host" ? HOST_READ_ZERO : MSR_GP;
      return handler.read(vcpu, msr, initiator);
    },
    write(vcpu, msr, value, initiator) {
      if (!vcpu.pvHas(bitOf(msr))) {
        return initiator === "host" && value === 0n ? MSR_OK : MSR_GP;
      }
      return handler.write(vcpu, msr, value, initiator);
    },
  };
}

/** -KVM_ENOSYS, what an ungated or unknown hypercall returns. */
const ENOSYS = -1000n;

/**
 * A hypercall gated on a KVM_FEATURE_* bit: -KVM_ENOSYS (-1000) when `guest_pv_has(bit)` is
 * false (kvm-pv-abi.md §7), else `call`. Pass `undefined` for an ungated hypercall.
 *
 * @example
 * ```ts
 * import { gatedHypercall } from "@pvkit/machine";
 * const kick = gatedHypercall(5, 7, () => 0n);
 * console.log(kick.nr); // 5
 * ```
 */
export function gatedHypercall(
  nr: number,
  bit: number | undefined,
  call: (vcpu: VcpuContext, args: HypercallArgs) => bigint,
): HypercallHook {
  return {
    nr,
    call: (vcpu, args) => (bit !== undefined && !vcpu.pvHas(bit) ? ENOSYS : call(vcpu, args)),
  };
}
