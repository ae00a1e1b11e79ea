/**
 * KVM detection the way a Linux guest does it (kvm_cpuid_base, hypervisor_cpuid_base): the
 * hypervisor bit, then a signature scan of the 0x40000000 range, then the feature and hint
 * words of the KVM leaf. The result, {@linkcode KvmGuestInfo}, is what every driver's
 * predicate reads.
 *
 * Source: spec §1 ([G] kvm_cpuid_base, kvm_arch_para_features/hints; asm/cpuid/api.h).
 *
 * @module
 */

import {
  CPUID_1_ECX_HYPERVISOR_BIT,
  HYPERVISOR_CPUID_BASE_FIRST,
  HYPERVISOR_CPUID_BASE_LAST,
  HYPERVISOR_CPUID_BASE_STEP,
  KVM_CPUID_FEATURES,
  KVM_SIGNATURE_EBX,
  KVM_SIGNATURE_ECX,
  KVM_SIGNATURE_EDX,
} from "@pvkit/abi";
import { PvkitError } from "@pvkit/machine";
import type { GuestCpu } from "./guest_cpu.ts";

/**
 * CPUID.1:ECX bit 3 (MONITOR/MWAIT): Linux's `boot_cpu_has(X86_FEATURE_MWAIT)`, which turns
 * off PV TLB flush and PV sched yield.
 *
 * @example
 * ```ts
 * import { CPUID_1_ECX_MWAIT_BIT } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(CPUID_1_ECX_MWAIT_BIT, 3);
 * ```
 */
export const CPUID_1_ECX_MWAIT_BIT = 3; // SDM: CPUID.01H:ECX.MONITOR[bit 3]

/**
 * CPUID.1:ECX bit 21 (x2APIC): Linux's `X86_FEATURE_X2APIC`, which check_x2apic needs before
 * try_to_enable_x2apic may turn x2APIC mode on.
 *
 * @example
 * ```ts
 * import { CPUID_1_ECX_X2APIC_BIT } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(CPUID_1_ECX_X2APIC_BIT, 21);
 * ```
 */
export const CPUID_1_ECX_X2APIC_BIT = 21; // SDM: CPUID.01H:ECX.x2APIC[bit 21]

/**
 * What a Linux guest knows about its KVM host after detection: where the KVM leaves are,
 * the feature and hint words, and the two boot-time facts the predicates also read.
 *
 * @example
 * ```ts
 * import type { KvmGuestInfo } from "@pvkit/guest";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000,
 *   maxLeaf: 0x40000001,
 *   features: 0x01007efb,
 *   hints: 0,
 *   possibleCpus: 4,
 *   mwait: false,
 * };
 * console.log(info.features.toString(16));
 * ```
 */
export interface KvmGuestInfo {
  /** The CPUID base holding the KVM signature (0x40000000, 0x40000100, …). */
  readonly base: number;
  /** Highest KVM leaf: EAX of the base leaf, or base + 1 when an old host reported 0. */
  readonly maxLeaf: number;
  /** EAX of leaf base|1: the `KVM_FEATURE_*` bits. */
  readonly features: number;
  /** EDX of leaf base|1: the `KVM_HINTS_*` bits. */
  readonly hints: number;
  /** Linux's `num_possible_cpus()`, supplied by the caller. */
  readonly possibleCpus: number;
  /** Linux's `boot_cpu_has(X86_FEATURE_MWAIT)`. */
  readonly mwait: boolean;
}

/**
 * What detection needs besides CPUID.
 *
 * @example
 * ```ts
 * import type { KvmDetectOptions } from "@pvkit/guest";
 * const opts: KvmDetectOptions = { possibleCpus: 8 };
 * console.log(opts.possibleCpus);
 * ```
 */
export interface KvmDetectOptions {
  /** Linux's `num_possible_cpus()` (at least 1). */
  readonly possibleCpus: number;
  /** Whether the boot CPU has MWAIT. Default: CPUID.1:ECX bit 3 of the detecting CPU. */
  readonly mwait?: boolean;
}

function bit(word: number, n: number): boolean {
  return ((word >>> n) & 1) === 1;
}

/**
 * Scans for the KVM signature like Linux's kvm_cpuid_base: nothing unless CPUID.1:ECX[31]
 * (HYPERVISOR) is set; then bases 0x40000000, 0x40000100, … 0x4000FF00, the first whose
 * EBX:ECX:EDX is "KVMKVMKVM\0\0\0" wins. Returns the base, or `undefined` when not on KVM.
 *
 * @example
 * ```ts
 * import { kvmCpuidBase, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu({
 *   cpuid: new Map([
 *     [1, { eax: 0, ebx: 0, ecx: 1 << 31, edx: 0 }],
 *     // Hyper-V leaves at 0x40000000, KVM's at 0x40000100.
 *     [0x40000000, { eax: 0x4000000a, ebx: 0x7263694d, ecx: 0x666f736f, edx: 0x76482074 }],
 *     [0x40000100, { eax: 0x40000101, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d }],
 *   ]),
 * });
 * assertEquals(kvmCpuidBase(cpu), 0x40000100);
 * ```
 */
export function kvmCpuidBase(cpu: GuestCpu): number | undefined {
  // [G] __kvm_cpuid_base: only look when X86_FEATURE_HYPERVISOR is set.
  if (!bit(cpu.cpuid(1).ecx, CPUID_1_ECX_HYPERVISOR_BIT)) return undefined;
  // [api.h] hypervisor_cpuid_base(KVM_SIGNATURE, 0): every 0x100 block, signature only
  // (leaves = 0, so EAX is not checked).
  for (
    let base = HYPERVISOR_CPUID_BASE_FIRST;
    base <= HYPERVISOR_CPUID_BASE_LAST;
    base += HYPERVISOR_CPUID_BASE_STEP
  ) {
    const r = cpu.cpuid(base);
    if (
      r.ebx >>> 0 === KVM_SIGNATURE_EBX && r.ecx >>> 0 === KVM_SIGNATURE_ECX &&
      r.edx >>> 0 === KVM_SIGNATURE_EDX
    ) {
      return base;
    }
  }
  return undefined;
}

/**
 * Detects KVM on `cpu` and reads its feature and hint words into a {@linkcode KvmGuestInfo};
 * `undefined` when the guest is not on KVM (Linux's `kvm_para_available()` is false).
 *
 * Throws {@linkcode PvkitError} (code `"invalid-possible-cpus"`) unless `possibleCpus` is a
 * positive integer.
 *
 * @example
 * ```ts
 * import { detectKvm, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu({
 *   cpuid: new Map([
 *     [1, { eax: 0, ebx: 0, ecx: 1 << 31, edx: 0 }],
 *     [0x40000000, { eax: 0, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d }], // old host: EAX 0
 *     [0x40000001, { eax: 0x01007efb, ebx: 0, ecx: 0, edx: 1 }],
 *   ]),
 * });
 * const info = detectKvm(cpu, { possibleCpus: 2 });
 * assertEquals(info?.maxLeaf, 0x40000001);
 * assertEquals(info?.hints, 1);
 * ```
 */
export function detectKvm(cpu: GuestCpu, options: KvmDetectOptions): KvmGuestInfo | undefined {
  const { possibleCpus } = options;
  if (!Number.isInteger(possibleCpus) || possibleCpus < 1) {
    throw new PvkitError(
      "invalid-possible-cpus",
      `num_possible_cpus() must be a positive integer, got ${possibleCpus}`,
      "pass the number of vCPUs the guest may ever bring online (at least 1)",
    );
  }
  const base = kvmCpuidBase(cpu);
  if (base === undefined) return undefined;
  const eax = cpu.cpuid(base).eax >>> 0;
  // [G] kvm_arch_para_features/hints: CPUID(base | KVM_CPUID_FEATURES).
  const leaf = cpu.cpuid((base | KVM_CPUID_FEATURES) >>> 0);
  const mwait = options.mwait ?? bit(cpu.cpuid(1).ecx, CPUID_1_ECX_MWAIT_BIT);
  return Object.freeze({
    base,
    // spec §1: old hosts returned EAX = 0 at the base, meaning "up to base + 1".
    maxLeaf: eax === 0 ? base + 1 : eax,
    features: leaf.eax >>> 0,
    hints: leaf.edx >>> 0,
    possibleCpus,
    mwait,
  });
}

/**
 * Linux's `kvm_para_available()`: true when detection found a KVM leaf.
 *
 * @example
 * ```ts
 * import { kvmParaAvailable } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(kvmParaAvailable(undefined), false);
 * ```
 */
export function kvmParaAvailable(info: KvmGuestInfo | undefined): info is KvmGuestInfo {
  return info !== undefined;
}

/**
 * Linux's `kvm_para_has_feature(bit)`: bit `bit` of EAX at base|1 (false when not on KVM).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, kvmParaHasFeature } from "@pvkit/guest";
 * import { KVM_FEATURE_PV_EOI, KVM_FEATURE_STEAL_TIME } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 6, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * assertEquals(kvmParaHasFeature(info, KVM_FEATURE_PV_EOI), true);
 * assertEquals(kvmParaHasFeature(info, KVM_FEATURE_STEAL_TIME), false);
 * ```
 */
export function kvmParaHasFeature(info: KvmGuestInfo | undefined, feature: number): boolean {
  return info !== undefined && bit(info.features, feature);
}

/**
 * Linux's `kvm_para_has_hint(bit)`: bit `bit` of EDX at base|1 (false when not on KVM).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, kvmParaHasHint } from "@pvkit/guest";
 * import { KVM_HINTS_REALTIME } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 0, hints: 1, possibleCpus: 4, mwait: false,
 * };
 * assertEquals(kvmParaHasHint(info, KVM_HINTS_REALTIME), true);
 * ```
 */
export function kvmParaHasHint(info: KvmGuestInfo | undefined, hint: number): boolean {
  return info !== undefined && bit(info.hints, hint);
}
