/**
 * KVM's per-vCPU `pv_unhalted` flag (vcpu->arch.pv.pv_unhalted): set by a KICK_CPU (an
 * APIC_DM_REMRD delivery), consumed by HLT. The LAPIC sets it; kvm-pv-unhalt reads it.
 *
 * @module
 */

import { type SharedKey, sharedKey, type VcpuContext } from "@pvkit/machine";

/**
 * KVM's per-vCPU `vcpu->arch.pv` as far as PV spinlocks use it.
 *
 * @example
 * ```ts
 * import type { PvUnhaltState } from "@pvkit/abi";
 * const state: PvUnhaltState = { pvUnhalted: false };
 * console.log(state.pvUnhalted); // false
 * ```
 */
export interface PvUnhaltState {
  /** `pv_unhalted`: a kick arrived; the next HLT does not block (Documentation/virt/kvm/x86/hypercalls.rst). */
  pvUnhalted: boolean;
}

/**
 * The per-vCPU PV-unhalt state ({@linkcode VcpuContext.shared} key `"kvm.pv-unhalt"`), created
 * cleared. KICK_CPU and a SEND_IPI in remote-read mode both set it.
 *
 * @example
 * ```ts
 * import { PV_UNHALT_STATE } from "@pvkit/abi";
 * import { standInVcpu } from "@pvkit/machine";
 * console.log(PV_UNHALT_STATE.name, standInVcpu().shared(PV_UNHALT_STATE)); // kvm.pv-unhalt { pvUnhalted: false }
 * ```
 */
export const PV_UNHALT_STATE: SharedKey<PvUnhaltState> = sharedKey(
  "kvm.pv-unhalt",
  () => ({ pvUnhalted: false }),
);

/**
 * The PV-unhalt state of a vCPU (created cleared on first use).
 *
 * @example
 * ```ts
 * import { pvUnhaltState } from "@pvkit/abi";
 * import { standInVcpu } from "@pvkit/machine";
 * console.log(pvUnhaltState(standInVcpu()).pvUnhalted); // false
 * ```
 */
export function pvUnhaltState(vcpu: VcpuContext): PvUnhaltState {
  return vcpu.shared(PV_UNHALT_STATE);
}
