/**
 * kvm-pv-eoi's host side, as KVM's local APIC implements it (Documentation/virt/kvm/x86/msr.rst PV_EOI_EN, §3
 * "PV EOI word", §6 PV EOI; [L] kvm_lapic_set_pv_eoi, apic_sync_pv_eoi_to_guest,
 * apic_sync_pv_eoi_from_guest, pv_eoi_test_and_clr_pending, kvm_lapic_reset).
 *
 * @module
 */

import {
  KVM_FEATURE_PV_EOI,
  KVM_PV_EOI_DISABLED,
  KVM_PV_EOI_ENABLED,
  KVM_PV_EOI_MASK,
  KVM_PV_EOI_RESERVED_MASK,
  MSR_KVM_PV_EOI_EN,
} from "@pvkit/abi";
import {
  gatedMsrHook,
  MSR_GP,
  MSR_OK,
  msrValue,
  type PluginEnvironment,
  type PluginHooks,
  sharedKey,
  type VcpuContext,
} from "@pvkit/machine";

/** Per-vCPU state key (private to this plugin). */
const STATE_KEY = "kvm.pv-eoi";

/** The host maps 1 byte of the PV EOI word (kvm_set_msr_common passes sizeof(u8)). */
const PV_EOI_CACHE_BYTES = 1;

/** vcpu->arch.pv_eoi plus the KVM_APIC_PV_EOI_PENDING attention bit. */
interface PvEoi {
  /** MSR_KVM_PV_EOI_EN as last stored (pv_eoi.msr_val). */
  msrVal: bigint;
  /** The byte the host set to 1 before the current entry, if it did (PV_EOI_PENDING). */
  armedGpa: bigint | undefined;
}

const PV_EOI = sharedKey<PvEoi>(STATE_KEY, () => ({ msrVal: 0n, armedGpa: undefined }));
const state = (vcpu: VcpuContext): PvEoi => vcpu.shared(PV_EOI);

/** The word's GPA: data & ~KVM_MSR_ENABLED (spec §2: b63:2, b1 is checked to be 0). */
const wordGpa = (msrVal: bigint): bigint => msrVal & ~KVM_PV_EOI_ENABLED;

/**
 * apic_sync_pv_eoi_from_guest, right after an exit (before KVM handles it): byte still 1 →
 * the guest did not EOI, clear it; byte 0 → the guest skipped its EOI write, so the host
 * performs the EOI of the highest in-service vector (spec §6).
 */
function syncFromGuest(vcpu: VcpuContext, pv: PvEoi): void {
  const gpa = pv.armedGpa;
  if (gpa === undefined) return;
  pv.armedGpa = undefined; // the pending bit is cleared in any case; re-armed at entry
  if ((vcpu.memory.readU8(gpa) & KVM_PV_EOI_MASK) !== 0) {
    vcpu.memory.writeU8(gpa, Number(KVM_PV_EOI_DISABLED));
    return;
  }
  vcpu.apic?.eoi();
}

/**
 * Creates kvm-pv-eoi's hooks for one machine: MSR 0x4b564d04 (gated by CPUID bit 6), arming
 * the PV EOI byte before entry and, after the exit, performing the EOI the guest skipped.
 *
 * @example
 * ```ts
 * import { createKvmPvEoiHooks } from "@pvkit/kvm-pv-eoi";
 * import type { PluginEnvironment } from "@pvkit/machine";
 * const env = { isEnabled: () => true } as Pick<PluginEnvironment, "isEnabled">;
 * const hooks = createKvmPvEoiHooks(env as PluginEnvironment);
 * console.log(hooks.msrs?.[0].msrs.map((m) => m.toString(16))); // ["4b564d04"]
 * ```
 */
export function createKvmPvEoiHooks(_environment: PluginEnvironment): PluginHooks {
  const msrs = gatedMsrHook({ [MSR_KVM_PV_EOI_EN]: KVM_FEATURE_PV_EOI }, {
    read: (vcpu) => msrValue(state(vcpu).msrVal),
    write(vcpu, _msr, value) {
      // kvm_lapic_set_pv_eoi: (data & ~1) must be 4-byte aligned, i.e. b1 clear (spec §2).
      if ((value & KVM_PV_EOI_RESERVED_MASK) !== 0n) return MSR_GP;
      // With b0, KVM maps the word's byte 0; a GPA outside guest memory is #GP, unstored.
      const enabling = (value & KVM_PV_EOI_ENABLED) !== 0n;
      if (enabling && !vcpu.memory.contains(wordGpa(value), PV_EOI_CACHE_BYTES)) return MSR_GP;
      // No in-kernel-LAPIC check: §2 lists none for this MSR, so the value is stored even
      // without one; it then has no effect (only the LAPIC arms the byte, §6).
      state(vcpu).msrVal = value;
      return MSR_OK;
    },
  });

  return {
    msrs: [msrs],
    lifecycle: [{
      // apic_sync_pv_eoi_to_guest, after the interrupt for this entry was injected: arm only
      // when enabled, no IRR bit is pending and an in-service vector exists (the emulated
      // machine has no IOAPIC that would need the EOI; APICv is not modelled) (spec §6).
      beforeGuest(vcpu) {
        const pv = state(vcpu);
        // Settle a previous arming the guest has not exited on yet (KVM always has).
        syncFromGuest(vcpu, pv);
        const apic = vcpu.apic;
        if (!apic?.enabled || (pv.msrVal & KVM_PV_EOI_ENABLED) === 0n) return;
        if (apic.irrPending() || apic.highestIsr() < 0) return;
        const gpa = wordGpa(pv.msrVal);
        if (!vcpu.memory.contains(gpa, PV_EOI_CACHE_BYTES)) return;
        vcpu.memory.writeU8(gpa, KVM_PV_EOI_MASK); // the whole byte, as 0x01 (spec §3)
        pv.armedGpa = gpa;
      },
      onExit(vcpu) {
        syncFromGuest(vcpu, state(vcpu));
      },
      // kvm_lapic_reset (RESET and INIT) zeroes PV_EOI_EN and the attention bits, but only
      // when there is an in-kernel LAPIC (spec §2 reset).
      onReset(vcpu) {
        if (!vcpu.apic) return;
        const pv = state(vcpu);
        pv.msrVal = 0n;
        pv.armedGpa = undefined;
      },
    }],
  };
}
