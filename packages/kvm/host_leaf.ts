/**
 * The host's KVM paravirtual CPUID leaves, as KVM_GET_SUPPORTED_CPUID reports them: the input
 * of pvkit's `--host kvm` profile.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { type CpuidEntry, findCpuidEntry } from "./cpuid2.ts";
import { KvmSystem } from "./system.ts";

/**
 * `KVM_CPUID_SIGNATURE`: leaf 0x40000000, EAX = highest KVM leaf, EBX:ECX:EDX = "KVMKVMKVM\0\0\0".
 *
 * @example
 * ```ts
 * import { KVM_CPUID_SIGNATURE } from "@pvkit/kvm";
 * console.log(KVM_CPUID_SIGNATURE.toString(16)); // "40000000"
 * ```
 */
export const KVM_CPUID_SIGNATURE = 0x40000000;

/**
 * `KVM_CPUID_FEATURES`: leaf 0x40000001, EAX = `KVM_FEATURE_*` bits, EDX = `KVM_HINTS_*` bits.
 *
 * @example
 * ```ts
 * import { KVM_CPUID_FEATURES } from "@pvkit/kvm";
 * console.log(KVM_CPUID_FEATURES.toString(16)); // "40000001"
 * ```
 */
export const KVM_CPUID_FEATURES = 0x40000001;

// "KVMKVMKVM\0\0\0" as three little-endian u32s (EBX, ECX, EDX).
const SIGNATURE = [0x4b4d564b, 0x564b4d56, 0x0000004d] as const;

/**
 * The host's KVM PV leaves: what a guest of this KVM could be offered.
 *
 * @example
 * ```ts
 * import type { KvmPvLeaf } from "@pvkit/kvm";
 * const leaf: KvmPvLeaf = { eax: 0x01007efb, edx: 0, signatureEax: 0x40000001 };
 * console.log((leaf.eax & 1) !== 0); // KVM_FEATURE_CLOCKSOURCE
 * ```
 */
export interface KvmPvLeaf {
  /** Leaf 0x40000001 EAX: the `KVM_FEATURE_*` bits KVM supports (0x01007efb observed here). */
  eax: number;
  /** Leaf 0x40000001 EDX: the `KVM_HINTS_*` bits (e.g. bit 0 REALTIME); 0 observed here. */
  edx: number;
  /** Leaf 0x40000000 EAX: the highest KVM leaf (0x40000001). */
  signatureEax: number;
}

/**
 * Extracts the KVM PV leaves from a CPUID list such as KVM_GET_SUPPORTED_CPUID's. Throws
 * {@linkcode PvkitError} (`kvm-pv-leaf-missing`) when the KVM signature or leaf is absent.
 *
 * @example
 * ```ts
 * import { kvmPvLeafFromCpuid } from "@pvkit/kvm";
 * const leaf = kvmPvLeafFromCpuid([
 *   { function: 0x40000000, index: 0, flags: 0, eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d },
 *   { function: 0x40000001, index: 0, flags: 0, eax: 0x01007efb, ebx: 0, ecx: 0, edx: 0 },
 * ]);
 * console.log(leaf.eax.toString(16)); // "1007efb"
 * ```
 */
export function kvmPvLeafFromCpuid(entries: readonly CpuidEntry[]): KvmPvLeaf {
  const signature = findCpuidEntry(entries, KVM_CPUID_SIGNATURE);
  if (
    signature === undefined || signature.ebx !== SIGNATURE[0] ||
    signature.ecx !== SIGNATURE[1] || signature.edx !== SIGNATURE[2]
  ) {
    throw new PvkitError(
      "kvm-pv-leaf-missing",
      'the CPUID list has no KVM signature ("KVMKVMKVM") at leaf 0x40000000',
      "read it from KVM_GET_SUPPORTED_CPUID on a KVM host",
    );
  }
  const features = findCpuidEntry(entries, KVM_CPUID_FEATURES);
  if (features === undefined || signature.eax < KVM_CPUID_FEATURES) {
    throw new PvkitError(
      "kvm-pv-leaf-missing",
      `the KVM signature leaf advertises max leaf 0x${signature.eax.toString(16)} but no ` +
        "features leaf 0x40000001 is present",
    );
  }
  return { eax: features.eax, edx: features.edx, signatureEax: signature.eax };
}

/**
 * Reads the host's KVM PV leaves with KVM_GET_SUPPORTED_CPUID, on `kvm` or on a freshly
 * opened (and closed again) `/dev/kvm`. Throws {@linkcode KvmError} or {@linkcode PvkitError}.
 *
 * @example
 * ```ts
 * import { readKvmPvLeaf } from "@pvkit/kvm";
 * const leaf = readKvmPvLeaf();
 * console.log(`0x${leaf.eax.toString(16)}`); // "0x1007efb" on the project's nested AMD hosts
 * ```
 */
export function readKvmPvLeaf(kvm?: KvmSystem): KvmPvLeaf {
  if (kvm !== undefined) return kvmPvLeafFromCpuid(kvm.kvmGetSupportedCpuid());
  using own = KvmSystem.open();
  return kvmPvLeafFromCpuid(own.kvmGetSupportedCpuid());
}
