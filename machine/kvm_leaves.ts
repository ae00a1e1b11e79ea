/**
 * The KVM CPUID leaves a guest sees: the signature leaf and the feature leaf
 * (kvm-pv-abi.md §1; QEMU's kvm_arch_init_vcpu, qemu-kvm-pv.md §1).
 *
 * @module
 */

import type { CpuidRegisters } from "./cpuid.ts";

/** The default KVM base leaf. */
export const KVM_CPUID_BASE = 0x40000000;

/** "KVMK" in EBX of the signature leaf (kvm-pv-abi.md §1). */
export const KVM_SIGNATURE_EBX = 0x4b4d564b;
/** "VMKV" in ECX of the signature leaf. */
export const KVM_SIGNATURE_ECX = 0x564b4d56;
/** "M\0\0\0" in EDX of the signature leaf. */
export const KVM_SIGNATURE_EDX = 0x0000004d;

/** One CPUID leaf/subleaf with its registers. */
export interface CpuidLeaf extends CpuidRegisters {
  /** The leaf (input EAX). */
  readonly leaf: number;
  /** The subleaf (input ECX). */
  readonly subleaf: number;
}

/**
 * Builds the two KVM leaves at `base`: the signature leaf (EAX = base + 1, the highest KVM
 * leaf) and the feature leaf (EAX = features, EBX = ECX = 0, EDX = hints).
 *
 * @example
 * ```ts
 * import { kvmLeaves } from "@pvkit/machine";
 * const [signature, features] = kvmLeaves(0x40000000, 0x01007efb, 0);
 * console.log(signature.eax.toString(16), features.eax.toString(16)); // 40000001 1007efb
 * ```
 */
export function kvmLeaves(base: number, features: number, hints: number): [CpuidLeaf, CpuidLeaf] {
  return [
    {
      leaf: base,
      subleaf: 0,
      eax: base + 1,
      ebx: KVM_SIGNATURE_EBX,
      ecx: KVM_SIGNATURE_ECX,
      edx: KVM_SIGNATURE_EDX,
    },
    { leaf: base + 1, subleaf: 0, eax: features >>> 0, ebx: 0, ecx: 0, edx: hints >>> 0 },
  ];
}
