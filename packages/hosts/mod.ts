/**
 * `@pvkit/hosts`: host profiles, i.e. the KVM paravirtual features a host kernel offers.
 *
 * A host profile answers "what does `-cpu host` give a guest on Linux X": the
 * `KVM_GET_SUPPORTED_CPUID` value of leaf 0x40000001 (EAX feature bits, EDX hints) and the KVM
 * capabilities around it (`KVM_CAP_X2APIC_API`, `KVM_CAP_ENFORCE_PV_FEATURE_CPUID`,
 * `KVM_CAP_EXIT_HYPERCALL`, `KVM_CAP_MAX_VCPUS`).
 *
 * Named profiles for released Linux versions come from `profiles.json`; `SOURCES.md` cites every
 * value. A live profile read from `/dev/kvm` will be added here with the same
 * {@linkcode HostProfile} shape (`linux: null`).
 *
 * @example
 * ```ts
 * import { findNamedProfile } from "@pvkit/hosts";
 * const host = findNamedProfile("linux-4.19");
 * console.log(host?.kvmLeaf.eax.toString(16)); // "1000efb"
 * ```
 *
 * @module
 */
export * from "./named_profiles.ts";
export * from "./live_profile.ts";
