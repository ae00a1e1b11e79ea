/**
 * What `@pvkit/guest`'s Linux model predicts a guest takes for the CPUID a VMM offered: the
 * model boots on scripted vCPUs that serve exactly the offered leaves.
 *
 * @module
 */

import { KVM_SIGNATURE_EBX, KVM_SIGNATURE_ECX, KVM_SIGNATURE_EDX } from "@pvkit/abi";
import { PvkitError } from "@pvkit/machine";
import {
  type FeatureDecision,
  KVM_GUEST_PERCPU_STRIDE,
  KvmGuest,
  ScriptedGuestCpu,
} from "@pvkit/guest";
import type { GuestCmdlineSwitches } from "./kernel_cmdline.ts";

/**
 * The CPUID a VMM offered its guest, as far as the PV features depend on it.
 *
 * @example
 * ```ts
 * import type { PvOffer } from "@pvkit/vmm";
 * const offer: PvOffer = {
 *   leaf40000001: { eax: 0x01007efb, edx: 0 }, // KVM's own answer
 *   leaf1Ecx: (1 << 31) | (1 << 21), // hypervisor, x2APIC
 *   vcpus: 2,
 * };
 * console.log(offer.vcpus);
 * ```
 */
export interface PvOffer {
  /**
   * CPUID 0x40000001 (KVM_CPUID_FEATURES): EAX the `KVM_FEATURE_*` bits, EDX the
   * `KVM_HINTS_*` bits. Absent when the guest sees no KVM signature at 0x40000000 (`kvm=off`).
   */
  readonly leaf40000001?: { readonly eax: number; readonly edx: number };
  /** CPUID 1 ECX: bit 31 hypervisor, bit 21 x2APIC, bit 3 MONITOR/MWAIT. */
  readonly leaf1Ecx: number;
  /** The vCPUs the machine has (the guest's possible CPUs). */
  readonly vcpus: number;
}

/**
 * The model's prediction: one decision per PV feature (in `@pvkit/guest`'s order), and the
 * kernel log lines Linux 6.1 would print.
 *
 * @example
 * ```ts
 * import type { PvPrediction } from "@pvkit/vmm";
 * const p: PvPrediction = { decisions: [], kernelLog: ["Hypervisor detected: KVM"] };
 * console.log(p.kernelLog.length);
 * ```
 */
export interface PvPrediction {
  /** What the model chose, and why, per feature. */
  readonly decisions: readonly FeatureDecision[];
  /** The lines the model's boot printed (no timestamps). */
  readonly kernelLog: readonly string[];
}

/**
 * Boots `@pvkit/guest`'s {@linkcode KvmGuest} with `possibleCpus` = the vCPUs: the boot vCPU,
 * then each other one brought online, every vCPU serving the offered leaves 1, 0x40000000 and
 * 0x40000001, with the command-line switches given.
 *
 * @example
 * ```ts
 * import { predictPvFeatures } from "@pvkit/vmm";
 * import { assertEquals } from "@std/assert";
 * const p = predictPvFeatures({
 *   leaf40000001: { eax: 0x01007efb, edx: 0 },
 *   leaf1Ecx: 1 << 31,
 *   vcpus: 2,
 * });
 * assertEquals(p.kernelLog.includes("kvm-guest: setup PV IPIs"), true);
 * assertEquals(p.decisions.find((d) => d.feature === "pv-spinlock")?.used, true);
 * ```
 */
export function predictPvFeatures(
  offer: PvOffer,
  switches: GuestCmdlineSwitches = {},
): PvPrediction {
  if (!Number.isInteger(offer.vcpus) || offer.vcpus < 1 || offer.vcpus > 4096) {
    throw new PvkitError(
      "invalid-vcpu-count",
      `the machine's vCPU count must be an integer from 1 to 4096, got ${offer.vcpus}`,
      "pass the -smp count the machine booted with",
    );
  }
  const cpuid = new Map<number, { eax: number; ebx: number; ecx: number; edx: number }>([
    [1, { eax: 0, ebx: 0, ecx: offer.leaf1Ecx >>> 0, edx: 0 }],
  ]);
  const kvm = offer.leaf40000001;
  if (kvm !== undefined) {
    cpuid.set(0x40000000, {
      eax: 0x40000001,
      ebx: KVM_SIGNATURE_EBX,
      ecx: KVM_SIGNATURE_ECX,
      edx: KVM_SIGNATURE_EDX,
    });
    cpuid.set(0x40000001, { eax: kvm.eax >>> 0, ebx: 0, ecx: 0, edx: kvm.edx >>> 0 });
  }
  const areaBase = 0x1000;
  const memory = areaBase + 64 + KVM_GUEST_PERCPU_STRIDE * offer.vcpus + 0x1000;
  const boot = new ScriptedGuestCpu({ index: 0, cpuid, memory });
  const guest = new KvmGuest({
    possibleCpus: offer.vcpus,
    areaBase: BigInt(areaBase),
    ...switches,
  });
  guest.boot(boot);
  for (let i = 1; i < offer.vcpus; i++) {
    guest.onlineCpu(new ScriptedGuestCpu({ index: i, cpuid, memory: boot.memory }));
  }
  return { decisions: guest.decisions, kernelLog: [...guest.kernelLog] };
}
