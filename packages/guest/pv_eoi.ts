/**
 * The PV EOI guest driver (Linux's kvm_guest_apic_eoi_write): a per-CPU word the host sets
 * when an EOI may be skipped; the guest's EOI clears it instead of writing the APIC.
 *
 * Source: spec §3 ("PV EOI word") and §6 ([G] kvm_guest_cpu_init, kvm_guest_apic_eoi_write).
 *
 * @module
 */

import {
  KVM_FEATURE_PV_EOI,
  KVM_MSR_ENABLED,
  KVM_PV_EOI_MASK,
  MSR_KVM_PV_EOI_EN,
} from "@pvkit/abi";
import { type Gpa, PvkitError } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import { type KvmGuestInfo, kvmParaHasFeature } from "./kvm_detect.ts";
import { wrmsrUnchecked } from "./_msr.ts";

/**
 * The PV EOI predicate: KVM_FEATURE_PV_EOI (bit 6).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, pvEoiSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 6, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * assertEquals(pvEoiSupported(info), true);
 * ```
 */
export function pvEoiSupported(info: KvmGuestInfo | undefined): boolean {
  // [G] kvm_guest_init: if (kvm_para_has_feature(KVM_FEATURE_PV_EOI)) apic_set_eoi_write(...).
  return kvmParaHasFeature(info, KVM_FEATURE_PV_EOI);
}

/**
 * Explains the PV EOI choice.
 *
 * @example
 * ```ts
 * import { decidePvEoi } from "@pvkit/guest";
 * console.log(decidePvEoi(undefined).reason); // "not running on KVM"
 * ```
 */
export function decidePvEoi(info: KvmGuestInfo | undefined): FeatureDecision {
  const feature = "pv-eoi";
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  return pvEoiSupported(info)
    ? { feature, used: true, reason: "KVM_FEATURE_PV_EOI: EOIs the host armed skip the APIC" }
    : { feature, used: false, reason: "no KVM_FEATURE_PV_EOI (bit 6)" };
}

/**
 * How to build a {@linkcode PvEoi}.
 *
 * @example
 * ```ts
 * import type { PvEoiOptions } from "@pvkit/guest";
 * const opts: PvEoiOptions = { warnings: [] };
 * console.log(opts);
 * ```
 */
export interface PvEoiOptions {
  /** Where to collect warnings (a WRMSR that raised #GP). Default: a new array. */
  readonly warnings?: string[];
}

/**
 * PV EOI for one guest: one word per vCPU (an `unsigned long`: 8 bytes on 64-bit, 4 on
 * 32-bit), and counters of fast (no exit) and slow (native APIC write) EOIs.
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, PvEoi, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 6, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * const cpu = new ScriptedGuestCpu();
 * const pvEoi = new PvEoi(info);
 * pvEoi.enable(cpu, 0x3000n);
 * cpu.memory.writeU8(0x3000n, 1); // the host armed the word
 * assertEquals(pvEoi.eoi(cpu), true); // fast path: no APIC write
 * assertEquals(pvEoi.eoi(cpu), false); // the bit is gone: native EOI
 * assertEquals([pvEoi.fastPathEois, cpu.eoiCount], [1, 1]);
 * ```
 */
export class PvEoi {
  /** True when KVM_FEATURE_PV_EOI is present. */
  readonly active: boolean;
  /** Warnings collected. */
  readonly warnings: string[];
  /** EOIs that only cleared the bit (no VM exit). */
  fastPathEois = 0;
  /** EOIs that wrote the APIC (a VM exit). */
  slowPathEois = 0;
  readonly #words = new Map<number, Gpa>();

  /** Reads the predicate from `info`. */
  constructor(info: KvmGuestInfo | undefined, options: PvEoiOptions = {}) {
    this.active = pvEoiSupported(info);
    this.warnings = options.warnings ?? [];
  }

  /** The word GPA registered by vCPU `index`, if any. */
  wordGpa(index: number): Gpa | undefined {
    return this.#words.get(index);
  }

  /**
   * kvm_guest_cpu_init's PV EOI part on `cpu`: zero the word, WRMSR(0x4b564d04, `gpa` | 1).
   * Returns false and does nothing without bit 6.
   *
   * Throws {@linkcode PvkitError} `"misaligned-pv-eoi"` unless `gpa` is 4-byte aligned (KVM
   * #GPs otherwise), and `GuestMemoryError` when the word is not in RAM.
   */
  enable(cpu: GuestCpu, gpa: Gpa): boolean {
    if (!this.active) return false;
    if (gpa % 4n !== 0n) {
      throw new PvkitError(
        "misaligned-pv-eoi",
        `the PV EOI word at 0x${gpa.toString(16)} is not 4-byte aligned`,
        "KVM raises #GP for it; use a multiple of 4",
      );
    }
    // [G] __this_cpu_write(kvm_apic_eoi, 0); an unsigned long.
    cpu.memory.writeBytes(gpa, new Uint8Array(cpu.longMode ? 8 : 4));
    this.#words.set(cpu.index, gpa);
    wrmsrUnchecked(cpu, MSR_KVM_PV_EOI_EN, gpa | KVM_MSR_ENABLED, this.warnings);
    return true;
  }

  /** kvm_guest_cpu_offline's PV EOI part: WRMSR(0x4b564d04, 0) when bit 6 is present. */
  disable(cpu: GuestCpu): void {
    // [G] if (kvm_para_has_feature(KVM_FEATURE_PV_EOI)) wrmsrq(MSR_KVM_PV_EOI_EN, 0).
    // The word stays installed: the host no longer arms it, so EOIs go native.
    if (!this.active) return;
    wrmsrUnchecked(cpu, MSR_KVM_PV_EOI_EN, 0n, this.warnings);
  }

  /**
   * The EOI on `cpu`: if bit 0 of the word was set, clear it and return true (no exit);
   * otherwise write the APIC's EOI register and return false. A vCPU with no word always
   * takes the native path.
   */
  eoi(cpu: GuestCpu): boolean {
    const gpa = this.#words.get(cpu.index);
    if (this.active && gpa !== undefined) {
      // [G] kvm_guest_apic_eoi_write: __test_and_clear_bit(KVM_PV_EOI_BIT, word); bit 0
      // lives in byte 0, the only byte the host touches.
      const b = cpu.memory.readU8(gpa);
      if ((b & KVM_PV_EOI_MASK) !== 0) {
        cpu.memory.writeU8(gpa, b & ~KVM_PV_EOI_MASK);
        this.fastPathEois++;
        return true;
      }
    }
    // [G] apic->native_eoi_write(APIC_EOI, APIC_EOI_ACK).
    cpu.apicEoi();
    this.slowPathEois++;
    return false;
  }
}
