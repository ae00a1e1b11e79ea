/**
 * The live `kvm` host profile: what this machine's /dev/kvm reports, read through Deno FFI.
 *
 * @module
 */

import { KVM_CAP, KvmSystem, probeKvm, readKvmPvLeaf } from "@pvkit/kvm";
import type { HostProfile } from "./named_profiles.ts";

/** A host profile read from /dev/kvm, with the recommended vCPU count QEMU warns above. */
export interface LiveHostProfile extends HostProfile {
  /** KVM_CAP_NR_VCPUS: the recommended maximum (QEMU warns above it). */
  recommendedVcpus: number;
}

/**
 * Reads the live profile from /dev/kvm, or explains why it cannot: the result is either the
 * profile or the reason (/dev/kvm missing, FFI not permitted, …).
 *
 * @example
 * ```ts
 * import { readLiveProfile } from "@pvkit/hosts";
 * const live = readLiveProfile();
 * console.log("profile" in live ? live.profile.kvmLeaf.eax.toString(16) : live.reason);
 * ```
 */
export function readLiveProfile(
  path = "/dev/kvm",
): { profile: LiveHostProfile } | { reason: string } {
  const availability = probeKvm(path);
  if (!availability.usable) return { reason: availability.reason };
  const kvm = KvmSystem.open(path);
  try {
    const leaf = readKvmPvLeaf(kvm);
    const cap = (n: number) => kvm.kvmCheckExtension(n);
    const maxVcpus = cap(KVM_CAP.KVM_CAP_MAX_VCPUS) || cap(KVM_CAP.KVM_CAP_NR_VCPUS) || 4;
    return {
      profile: {
        name: "kvm",
        description: `live: KVM_GET_SUPPORTED_CPUID and KVM_CHECK_EXTENSION of ${path}`,
        linux: null,
        kvmLeaf: { eax: leaf.eax, edx: leaf.edx },
        x2apicApi: cap(KVM_CAP.KVM_CAP_X2APIC_API) !== 0,
        enforcePvFeatureCpuid: cap(KVM_CAP.KVM_CAP_ENFORCE_PV_FEATURE_CPUID) !== 0,
        exitHypercall: cap(KVM_CAP.KVM_CAP_EXIT_HYPERCALL) !== 0,
        maxVcpus,
        recommendedVcpus: cap(KVM_CAP.KVM_CAP_NR_VCPUS) || maxVcpus,
        source: `${path}, read at run time`,
      },
    };
  } catch (e) {
    return { reason: e instanceof Error ? e.message : String(e) };
  } finally {
    kvm.close();
  }
}
