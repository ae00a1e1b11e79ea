/**
 * MSI addressing with KVM's extended destination ID (KVM_FEATURE_MSI_EXT_DEST_ID): without
 * interrupt remapping an MSI address holds only 8 APIC-ID bits (19:12); with the feature the
 * guest puts bits 14:8 in address bits 11:5, reaching 32768 APIC IDs. Also the x2APIC
 * decision that goes with it (try_to_enable_x2apic) and the VMM-side decode, for tests.
 *
 * Source: spec §6 ("MSI ext dest ID") ([G] kvm_msi_ext_dest_id, x2apic_available;
 * arch/x86/kernel/apic/apic.c __irq_msi_compose_msg, try_to_enable_x2apic; asm/msi.h).
 *
 * @module
 */

import { KVM_FEATURE_MSI_EXT_DEST_ID } from "@pvkit/abi";
import { PvkitError } from "@pvkit/machine";
import type { FeatureDecision } from "./feature_decision.ts";
import { type KvmGuestInfo, kvmParaHasFeature } from "./kvm_detect.ts";

/**
 * Bits 31:20 of every MSI address: 0xFEE, the local APIC's interrupt window.
 *
 * @example
 * ```ts
 * import { X86_MSI_BASE_ADDRESS_LOW } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(X86_MSI_BASE_ADDRESS_LOW, 0xfee00000);
 * ```
 */
export const X86_MSI_BASE_ADDRESS_LOW = 0xfee0_0000; // asm/msi.h: base_address 0xfee << 20

/**
 * The largest APIC ID an MSI can reach with the extended destination ID (15 bits).
 *
 * @example
 * ```ts
 * import { MSI_EXT_DEST_ID_MAX_APIC_ID } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSI_EXT_DEST_ID_MAX_APIC_ID, 32767);
 * ```
 */
export const MSI_EXT_DEST_ID_MAX_APIC_ID = 0x7fff; // apic.c: apic_limit = 32767

/**
 * The largest APIC ID an MSI can reach with only address bits 19:12.
 *
 * @example
 * ```ts
 * import { MSI_MAX_APIC_ID } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(MSI_MAX_APIC_ID, 255);
 * ```
 */
export const MSI_MAX_APIC_ID = 0xff; // apic.c: apic_limit = 255

/**
 * One MSI message: the 64-bit address as two u32 halves and the u32 data.
 *
 * @example
 * ```ts
 * import type { MsiMessage } from "@pvkit/guest";
 * const m: MsiMessage = { addressLo: 0xfee01000, addressHi: 0, data: 0x30 };
 * console.log(m.addressLo.toString(16));
 * ```
 */
export interface MsiMessage {
  /** Address bits 31:0. */
  readonly addressLo: number;
  /** Address bits 63:32 (0 for a guest without an IOMMU). */
  readonly addressHi: number;
  /** Data: vector in bits 7:0, delivery mode in 10:8. */
  readonly data: number;
}

/**
 * Linux's kvm_msi_ext_dest_id: KVM_FEATURE_MSI_EXT_DEST_ID (bit 15).
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, msiExtDestIdSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 15, hints: 0, possibleCpus: 300,
 *   mwait: false,
 * };
 * assertEquals(msiExtDestIdSupported(info), true);
 * ```
 */
export function msiExtDestIdSupported(info: KvmGuestInfo | undefined): boolean {
  return kvmParaHasFeature(info, KVM_FEATURE_MSI_EXT_DEST_ID);
}

/**
 * Linux's x2apic_available hook for KVM: kvm_para_available, i.e. any KVM (no feature bit).
 *
 * @example
 * ```ts
 * import { x2apicAvailable } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(x2apicAvailable(undefined), false);
 * ```
 */
export function x2apicAvailable(info: KvmGuestInfo | undefined): boolean {
  return info !== undefined; // [G] .init.x2apic_available = kvm_para_available
}

/**
 * What the guest's x2APIC setup needs to know about the CPU and the IOMMU.
 *
 * @example
 * ```ts
 * import type { X2apicEnvironment } from "@pvkit/guest";
 * const env: X2apicEnvironment = { cpuHasX2apic: true };
 * console.log(env.cpuHasX2apic);
 * ```
 */
export interface X2apicEnvironment {
  /** CPUID.1:ECX[21] (X86_FEATURE_X2APIC). */
  readonly cpuHasX2apic: boolean;
  /** Interrupt remapping in x2APIC mode (IRQ_REMAP_X2APIC_MODE). Default false. */
  readonly irqRemapX2apic?: boolean;
}

/**
 * The outcome of try_to_enable_x2apic.
 *
 * @example
 * ```ts
 * import type { X2apicSetup } from "@pvkit/guest";
 * const s: X2apicSetup = { x2apic: true, virtExtDestId: true, maxApicId: 32767, reason: "" };
 * console.log(s.maxApicId);
 * ```
 */
export interface X2apicSetup {
  /** x2APIC mode is on. */
  readonly x2apic: boolean;
  /** MSIs carry APIC-ID bits 14:8 in address bits 11:5 (Linux's virt_ext_dest_id). */
  readonly virtExtDestId: boolean;
  /** The largest APIC ID a CPU may have and still be brought online. */
  readonly maxApicId: number;
  /** Why, in words. */
  readonly reason: string;
}

/**
 * try_to_enable_x2apic for a KVM guest: with x2APIC-mode interrupt remapping, x2APIC with
 * no limit; without it, x2APIC only if the hypervisor says it is available (any KVM), in
 * physical mode, with APIC IDs up to 32767 when MSI_EXT_DEST_ID is present, else 255.
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, tryToEnableX2apic } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 15, hints: 0, possibleCpus: 300,
 *   mwait: false,
 * };
 * assertEquals(tryToEnableX2apic(info, { cpuHasX2apic: true }).maxApicId, 32767);
 * assertEquals(tryToEnableX2apic(undefined, { cpuHasX2apic: true }).x2apic, false);
 * ```
 */
export function tryToEnableX2apic(
  info: KvmGuestInfo | undefined,
  env: X2apicEnvironment,
): X2apicSetup {
  // [apic.c] check_x2apic: no X86_FEATURE_X2APIC → X2APIC_DISABLED.
  if (!env.cpuHasX2apic) {
    return { x2apic: false, virtExtDestId: false, maxApicId: MSI_MAX_APIC_ID, reason: "no x2APIC" };
  }
  if (env.irqRemapX2apic) {
    return {
      x2apic: true,
      virtExtDestId: false,
      maxApicId: 0xffff_ffff,
      reason: "interrupt remapping addresses every APIC ID",
    };
  }
  // [apic.c] x2APIC without IR is allowed only if the hypervisor says so.
  if (!x2apicAvailable(info)) {
    return {
      x2apic: false,
      virtExtDestId: false,
      maxApicId: MSI_MAX_APIC_ID,
      reason: "x2apic: IRQ remapping doesn't support X2APIC mode",
    };
  }
  if (msiExtDestIdSupported(info)) {
    return {
      x2apic: true,
      virtExtDestId: true,
      maxApicId: MSI_EXT_DEST_ID_MAX_APIC_ID,
      reason: "KVM_FEATURE_MSI_EXT_DEST_ID: MSIs reach APIC IDs up to 32767",
    };
  }
  return {
    x2apic: true,
    virtExtDestId: false,
    maxApicId: MSI_MAX_APIC_ID,
    reason: "no KVM_FEATURE_MSI_EXT_DEST_ID (bit 15): MSIs reach APIC IDs up to 255",
  };
}

/**
 * Explains the MSI extended-destination-ID choice (the guest has x2APIC and no IOMMU
 * interrupt remapping).
 *
 * @example
 * ```ts
 * import { decideMsiExtDestId } from "@pvkit/guest";
 * console.log(decideMsiExtDestId(undefined).used); // false
 * ```
 */
export function decideMsiExtDestId(info: KvmGuestInfo | undefined): FeatureDecision {
  const setup = tryToEnableX2apic(info, { cpuHasX2apic: true });
  return { feature: "msi-ext-dest-id", used: setup.virtExtDestId, reason: setup.reason };
}

/**
 * How to compose an MSI.
 *
 * @example
 * ```ts
 * import type { MsiComposeOptions } from "@pvkit/guest";
 * const opts: MsiComposeOptions = { virtExtDestId: true };
 * console.log(opts.virtExtDestId);
 * ```
 */
export interface MsiComposeOptions {
  /** Linux's virt_ext_dest_id (see {@linkcode tryToEnableX2apic}). */
  readonly virtExtDestId: boolean;
  /** Logical destination mode (address bit 2). Default false (physical). */
  readonly destModeLogical?: boolean;
  /** Where "APIC ID cannot be addressed" warnings go (Linux WARN_ON_ONCE). */
  readonly warnings?: string[];
}

function checkU32(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new PvkitError(
      "invalid-msi-field",
      `${name} ${v} is out of range 0..${max}`,
      `pass an integer ${name} from 0 to ${max}`,
    );
  }
}

/**
 * __irq_msi_compose_msg (no IOMMU): address_lo = 0xFEE00000 | logical << 2 | APIC-ID bits
 * 7:0 << 12 | (with the extended ID and an APIC ID below 0x8000) APIC-ID bits 14:8 << 5;
 * address_hi = 0; data = fixed delivery | vector. An APIC ID that does not fit keeps only its
 * low 8 bits and adds a warning, as Linux's WARN_ON_ONCE does.
 *
 * @example
 * ```ts
 * import { composeMsiMessage } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const m = composeMsiMessage(0x1234, 0x30, { virtExtDestId: true });
 * assertEquals(m.addressLo, 0xfee34240); // 0xFEE00000 | 0x34 << 12 | 0x12 << 5
 * assertEquals([m.addressHi, m.data], [0, 0x30]);
 * ```
 */
export function composeMsiMessage(
  destApicId: number,
  vector: number,
  options: MsiComposeOptions,
): MsiMessage {
  checkU32("APIC ID", destApicId, 0xffff_ffff);
  checkU32("vector", vector, 0xff);
  let lo = X86_MSI_BASE_ADDRESS_LOW | ((destApicId & 0xff) << 12);
  if (options.destModeLogical) lo |= 1 << 2;
  if (options.virtExtDestId && destApicId < 0x8000) {
    lo |= ((destApicId >>> 8) & 0x7f) << 5; // virt_destid_8_14
  } else if (destApicId > MSI_MAX_APIC_ID) {
    options.warnings?.push(
      `MSI destination APIC ID ${destApicId} cannot be addressed without ` +
        (options.virtExtDestId ? "interrupt remapping (above 32767)" : "MSI_EXT_DEST_ID"),
    );
  }
  // data: vector | APIC_DELIVERY_MODE_FIXED (0) << 8, edge, active high.
  return { addressLo: lo >>> 0, addressHi: 0, data: vector & 0xff };
}

/**
 * The destination APIC ID a VMM decodes from an MSI address: bits 19:12, plus (with the
 * extended destination ID, a compatibility-format address and address_hi = 0) bits 11:5 as
 * APIC-ID bits 14:8, plus address_hi bits 31:8 as APIC-ID bits 31:8 (x2APIC API format).
 *
 * @example
 * ```ts
 * import { composeMsiMessage, decodeMsiDestination } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const m = composeMsiMessage(32767, 0x30, { virtExtDestId: true });
 * assertEquals(decodeMsiDestination(m, { extDestId: true }), 32767);
 * assertEquals(decodeMsiDestination(m, { extDestId: false }), 255);
 * ```
 */
export function decodeMsiDestination(
  message: MsiMessage,
  options: { readonly extDestId: boolean },
): number {
  const lo = message.addressLo >>> 0;
  let dest = (lo >>> 12) & 0xff;
  // QEMU kvm_swizzle_msi_ext_dest_id: only when bit 4 (remappable format) is clear and
  // address_hi is still 0.
  if (options.extDestId && (lo & 0x10) === 0 && message.addressHi === 0) {
    dest |= ((lo >>> 5) & 0x7f) << 8;
  }
  return (dest | (message.addressHi & 0xffff_ff00)) >>> 0;
}
