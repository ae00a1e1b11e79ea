/**
 * The PV IPI sender (Linux's __send_ipi_mask): destination APIC IDs packed into bitmaps of
 * 2 × BITS_PER_LONG around a minimum ID, one SEND_IPI hypercall per window.
 *
 * Source: spec §5 ("Guest sender", SEND_IPI semantics) and §6 ([G] __send_ipi_mask,
 * kvm_send_ipi_mask_allbutself, pv_ipi_supported).
 *
 * @module
 */

import { KVM_FEATURE_PV_SEND_IPI, KVM_HC_SEND_IPI } from "@pvkit/abi";
import { PvkitError } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import { type KvmGuestInfo, kvmParaHasFeature } from "./kvm_detect.ts";

/**
 * ICR delivery mode "fixed" (bits 10:8 = 000): the vector is delivered as an interrupt.
 *
 * @example
 * ```ts
 * import { APIC_DM_FIXED } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(APIC_DM_FIXED, 0);
 * ```
 */
export const APIC_DM_FIXED = 0x000; // asm/apicdef.h

/**
 * ICR delivery mode NMI (bits 10:8 = 100).
 *
 * @example
 * ```ts
 * import { APIC_DM_NMI } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(APIC_DM_NMI, 0x400);
 * ```
 */
export const APIC_DM_NMI = 0x400; // asm/apicdef.h

/**
 * The NMI "vector" Linux passes to send_IPI_mask to ask for an NMI.
 *
 * @example
 * ```ts
 * import { NMI_VECTOR } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(NMI_VECTOR, 2);
 * ```
 */
export const NMI_VECTOR = 0x02; // asm/irq_vectors.h

/**
 * The vector of Linux's smp_call_function IPIs (and so of native TLB-flush IPIs).
 *
 * @example
 * ```ts
 * import { CALL_FUNCTION_VECTOR } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(CALL_FUNCTION_VECTOR, 0xfc);
 * ```
 */
export const CALL_FUNCTION_VECTOR = 0xfc; // asm/irq_vectors.h

/**
 * KVM_IPI_CLUSTER_SIZE: the APIC-ID window of one hypercall, 2 × BITS_PER_LONG (128 for a
 * 64-bit guest, 64 for a 32-bit one).
 *
 * @example
 * ```ts
 * import { kvmIpiClusterSize } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals([kvmIpiClusterSize(true), kvmIpiClusterSize(false)], [128, 64]);
 * ```
 */
export function kvmIpiClusterSize(longMode: boolean): number {
  return 2 * (longMode ? 64 : 32); // [G] KVM_IPI_CLUSTER_SIZE (2 * BITS_PER_LONG)
}

/**
 * The ICR value __send_ipi_mask passes: APIC_DM_FIXED | vector, or APIC_DM_NMI for
 * NMI_VECTOR.
 *
 * @example
 * ```ts
 * import { pvIpiIcr } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(pvIpiIcr(0xfd), 0xfd);
 * assertEquals(pvIpiIcr(2), 0x400);
 * ```
 */
export function pvIpiIcr(vector: number): number {
  // [G] __send_ipi_mask: switch (vector) { default: FIXED | vector; case NMI_VECTOR: NMI }.
  return vector === NMI_VECTOR ? APIC_DM_NMI : APIC_DM_FIXED | (vector & 0xff);
}

/**
 * The PV IPI predicate: KVM_FEATURE_PV_SEND_IPI (bit 11) and more than one possible CPU
 * (no REALTIME or x2APIC condition).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, pvIpiSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 11, hints: 1, possibleCpus: 2,
 *   mwait: true,
 * };
 * assertEquals(pvIpiSupported(info), true);
 * assertEquals(pvIpiSupported({ ...info, possibleCpus: 1 }), false);
 * ```
 */
export function pvIpiSupported(info: KvmGuestInfo | undefined): boolean {
  return decidePvIpi(info).used;
}

/**
 * Explains the PV IPI choice (pv_ipi_supported).
 *
 * @example
 * ```ts
 * import { decidePvIpi } from "@pvkit/guest";
 * console.log(decidePvIpi(undefined)); // { feature: "pv-ipi", used: false, ... }
 * ```
 */
export function decidePvIpi(info: KvmGuestInfo | undefined): FeatureDecision {
  const feature = "pv-ipi";
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  // [G] pv_ipi_supported: PV_SEND_IPI && num_possible_cpus() != 1.
  if (!kvmParaHasFeature(info, KVM_FEATURE_PV_SEND_IPI)) {
    return { feature, used: false, reason: "no KVM_FEATURE_PV_SEND_IPI (bit 11)" };
  }
  if (info.possibleCpus === 1) return { feature, used: false, reason: "single CPU" };
  return {
    feature,
    used: true,
    reason: "KVM_FEATURE_PV_SEND_IPI: send_IPI_mask and send_IPI_mask_allbutself use SEND_IPI",
  };
}

/**
 * What one PV IPI send did: the hypercalls issued (their arguments and returns), their
 * count, the sum of their returns, and the warnings Linux would print (ret < 0).
 *
 * @example
 * ```ts
 * import type { PvIpiResult } from "@pvkit/guest";
 * const r: PvIpiResult = { hypercalls: 0, delivered: 0n, calls: [], warnings: [] };
 * console.log(r.hypercalls);
 * ```
 */
export interface PvIpiResult {
  /** Number of SEND_IPI hypercalls. */
  readonly hypercalls: number;
  /** Sum of their return values (IPIs the host accepted, or negative errors). */
  readonly delivered: bigint;
  /** Each hypercall: bitmap low long, bitmap high long, min APIC ID, ICR, and RAX. */
  readonly calls: readonly PvIpiCall[];
  /** "failed to send PV IPI" warnings (Linux WARN_ONCE), one per failing hypercall. */
  readonly warnings: readonly string[];
}

/**
 * One SEND_IPI hypercall as __send_ipi_mask issues it.
 *
 * @example
 * ```ts
 * import type { PvIpiCall } from "@pvkit/guest";
 * const c: PvIpiCall = { low: 0b101n, high: 0n, min: 4, icr: 0xfd, ret: 2n };
 * console.log(c.min);
 * ```
 */
export interface PvIpiCall {
  /** a0: bitmap bits 0..BITS_PER_LONG-1 (APIC IDs min, min+1, …). */
  readonly low: bigint;
  /** a1: bitmap bits BITS_PER_LONG.. (APIC IDs min+BITS_PER_LONG, …). */
  readonly high: bigint;
  /** a2: the lowest APIC ID of the window. */
  readonly min: number;
  /** a3: the ICR (delivery mode | vector). */
  readonly icr: number;
  /** RAX as the guest's signed long. */
  readonly ret: bigint;
}

function checkApicId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
    throw new PvkitError(
      "invalid-apic-id",
      `APIC ID ${id} is not a u32`,
      "pass x2APIC IDs as integers from 0 to 4294967295",
    );
  }
}

/**
 * __send_ipi_mask from `cpu`: walks `apicIds` in CPU order, growing a window of
 * {@linkcode kvmIpiClusterSize} IDs (downwards too, by shifting the bitmap, while the
 * window still covers the largest ID), and issues SEND_IPI(low, high, min, icr) whenever an
 * ID falls outside it, and once at the end. An empty mask sends nothing.
 *
 * Linux walks a cpumask, so each CPU appears once; pass each APIC ID once (a repeated ID
 * flushes the window, as Linux's code would).
 *
 * @example
 * ```ts
 * import { ScriptedGuestCpu, sendIpiMask } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu({ onHypercall: () => 1n });
 * const ids = Array.from({ length: 301 }, (_, i) => i); // APIC IDs 0..300
 * const r = sendIpiMask(cpu, ids, 0xfd);
 * assertEquals(r.hypercalls, 3); // windows at 0, 128 and 256
 * assertEquals(r.calls.map((c) => c.min), [0, 128, 256]);
 * ```
 */
export function sendIpiMask(cpu: GuestCpu, apicIds: Iterable<number>, vector: number): PvIpiResult {
  const cluster = kvmIpiClusterSize(cpu.longMode);
  const longBits = BigInt(cluster / 2);
  const longMask = (1n << longBits) - 1n;
  const icr = pvIpiIcr(vector);
  const calls: PvIpiCall[] = [];
  const warnings: string[] = [];
  let bitmap = 0n; // u128 on 64-bit, u64 on 32-bit
  let min = 0;
  let max = 0;

  const flush = (): void => {
    const low = bitmap & longMask;
    const high = (bitmap >> longBits) & longMask;
    // [G] kvm_hypercall4(KVM_HC_SEND_IPI, (ulong)bitmap, (ulong)(bitmap >> BITS_PER_LONG), min, icr)
    const ret = cpu.hypercall(KVM_HC_SEND_IPI, low, high, BigInt(min), BigInt(icr));
    calls.push({ low, high, min, icr, ret });
    // [G] WARN_ONCE(ret < 0, "kvm-guest: failed to send PV IPI: %ld", ret).
    if (ret < 0n) warnings.push(`kvm-guest: failed to send PV IPI: ${ret}`);
  };

  for (const apicId of apicIds) {
    checkApicId(apicId);
    if (bitmap === 0n) {
      min = max = apicId;
    } else if (apicId < min && max - apicId < cluster) {
      // [G] a lower ID that still fits: slide the window down.
      bitmap <<= BigInt(min - apicId);
      min = apicId;
    } else if (apicId > min && apicId < min + cluster) {
      max = apicId < max ? max : apicId;
    } else {
      flush();
      min = max = apicId;
      bitmap = 0n;
    }
    bitmap |= 1n << BigInt(apicId - min); // [G] __set_bit(apic_id - min, bitmap)
  }
  if (bitmap !== 0n) flush();

  return {
    hypercalls: calls.length,
    delivered: calls.reduce((sum, c) => sum + c.ret, 0n),
    calls,
    warnings,
  };
}

/**
 * kvm_send_ipi_mask_allbutself from `cpu`: the same mask without the sender's own APIC ID.
 *
 * @example
 * ```ts
 * import { ScriptedGuestCpu, sendIpiMaskAllButSelf } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu({ apicId: 1 });
 * const r = sendIpiMaskAllButSelf(cpu, [0, 1, 2], 0xfd);
 * assertEquals(r.calls[0].low, 0b101n); // IDs 0 and 2
 * ```
 */
export function sendIpiMaskAllButSelf(
  cpu: GuestCpu,
  apicIds: Iterable<number>,
  vector: number,
): PvIpiResult {
  // [G] cpumask_copy(new_mask, mask); cpumask_clear_cpu(this_cpu, new_mask).
  const self = cpu.apicId();
  return sendIpiMask(cpu, [...apicIds].filter((id) => id !== self), vector);
}

/**
 * How a driver sends the IPIs it decided on: `(cpu, apicIds, vector)`. Drivers default to
 * native ICR writes, one per target; a guest with PV IPIs passes its SEND_IPI sender, as
 * Linux's native paths end up in apic->send_IPI_mask.
 *
 * @example
 * ```ts
 * import { type IpiSender, sendIpiMask } from "@pvkit/guest";
 * const viaHypercall: IpiSender = (cpu, ids, vector) => {
 *   sendIpiMask(cpu, ids, vector);
 * };
 * console.log(typeof viaHypercall);
 * ```
 */
export type IpiSender = (cpu: GuestCpu, apicIds: number[], vector: number) => void;

/**
 * The native {@linkcode IpiSender}: one ICR write (one VM exit) per destination, NMI when
 * `vector` is NMI_VECTOR.
 *
 * @example
 * ```ts
 * import { nativeIpiSender, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const cpu = new ScriptedGuestCpu();
 * nativeIpiSender(cpu, [1, 2], 0xfc);
 * assertEquals(cpu.ipis.length, 2);
 * ```
 */
export const nativeIpiSender: IpiSender = (cpu, apicIds, vector) => {
  const nmi = vector === NMI_VECTOR;
  for (const id of apicIds) cpu.sendIpi(id, vector, nmi);
};
