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
 * The largest APIC ID a CPU may have in xAPIC mode: asm/apic.h default_apic_id_valid
 * (`apicid < 255`; 0xff is the broadcast).
 *
 * @example
 * ```ts
 * import { XAPIC_MAX_APIC_ID } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(XAPIC_MAX_APIC_ID, 254);
 * ```
 */
export const XAPIC_MAX_APIC_ID = 0xfe;

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
 * What the guest's x2APIC setup needs to know about the CPU, the firmware, the IOMMU and the
 * command line.
 *
 * @example
 * ```ts
 * import type { X2apicEnvironment } from "@pvkit/guest";
 * const env: X2apicEnvironment = { cpuHasX2apic: true, enabledByFirmware: false };
 * console.log(env.cpuHasX2apic);
 * ```
 */
export interface X2apicEnvironment {
  /** CPUID.1:ECX[21] (X86_FEATURE_X2APIC). */
  readonly cpuHasX2apic: boolean;
  /** Firmware left x2APIC mode on (IA32_APIC_BASE bit 10, check_x2apic's x2apic_enabled()). Default false. */
  readonly enabledByFirmware?: boolean;
  /** Interrupt remapping in x2APIC mode (IRQ_REMAP_X2APIC_MODE). Default false. */
  readonly irqRemapX2apic?: boolean;
  /** `nox2apic` on the kernel command line. Default false. */
  readonly nox2apic?: boolean;
  /** The boot CPU's APIC ID: setup_nox2apic cannot undo firmware x2APIC at 255 and above. Default 0. */
  readonly bootApicId?: number;
}

/**
 * The kernel lines the x2APIC setup prints, by the function that prints them (they land in
 * different places of the boot log: early parameters, setup_arch, APIC init).
 *
 * @example
 * ```ts
 * import type { X2apicKernelLines } from "@pvkit/guest";
 * const l: X2apicKernelLines = { setupNox2apic: [], checkX2apic: [], tryToEnableX2apic: ["x2apic enabled"] };
 * console.log(l.tryToEnableX2apic[0]);
 * ```
 */
export interface X2apicKernelLines {
  /** setup_nox2apic (the `nox2apic` early parameter). */
  readonly setupNox2apic: readonly string[];
  /** check_x2apic (setup_arch). */
  readonly checkX2apic: readonly string[];
  /** try_to_enable_x2apic (APIC init), including x2apic_enable/x2apic_disable. */
  readonly tryToEnableX2apic: readonly string[];
}

/**
 * The outcome of check_x2apic followed by try_to_enable_x2apic.
 *
 * @example
 * ```ts
 * import type { X2apicSetup } from "@pvkit/guest";
 * const s: X2apicSetup = {
 *   x2apic: true, virtExtDestId: true, maxApicId: 32767, reason: "",
 *   kernelLines: { setupNox2apic: [], checkX2apic: [], tryToEnableX2apic: [] },
 * };
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
  /** What apic.c prints on the way (Linux 6.1's words). */
  readonly kernelLines: X2apicKernelLines;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/**
 * check_x2apic, then try_to_enable_x2apic, for a KVM guest (arch/x86/kernel/apic/apic.c):
 * - `nox2apic` (setup_nox2apic) clears X86_FEATURE_X2APIC, turning firmware x2APIC off first
 *   unless the boot APIC ID is 255 or more;
 * - check_x2apic: firmware-enabled x2APIC stays on; no X86_FEATURE_X2APIC means DISABLED, and
 *   try_to_enable_x2apic then returns before asking the hypervisor anything;
 * - with x2APIC-mode interrupt remapping: x2APIC with no APIC-ID limit;
 * - without it: x2APIC only if x86_init.hyper.x2apic_available() (KVM: kvm_para_available),
 *   in physical mode, with APIC IDs up to 32767 when x86_init.hyper.msi_ext_dest_id() (KVM:
 *   kvm_msi_ext_dest_id, bit 15) says so, else 255.
 *
 * Pass `info` undefined when the KVM platform hooks are not installed (not on KVM, or `nopv`).
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
 * // No X86_FEATURE_X2APIC: kvm_msi_ext_dest_id is never asked.
 * assertEquals(tryToEnableX2apic(info, { cpuHasX2apic: false }).virtExtDestId, false);
 * ```
 */
export function tryToEnableX2apic(
  info: KvmGuestInfo | undefined,
  env: X2apicEnvironment,
): X2apicSetup {
  const setupNox2apic: string[] = [];
  const checkX2apic: string[] = [];
  const tryToEnable: string[] = [];
  const lines = { setupNox2apic, checkX2apic, tryToEnableX2apic: tryToEnable };
  const bootApicId = env.bootApicId ?? 0;
  let firmwareOn = env.enabledByFirmware ?? false;
  let cap = env.cpuHasX2apic;
  let disabled = false; // X2APIC_DISABLED
  // [apic.c] setup_nox2apic (early_param "nox2apic").
  if (env.nox2apic) {
    if (firmwareOn && bootApicId >= 255) {
      setupNox2apic.push(`Apicid: ${hex8(bootApicId)}, cannot enforce nox2apic`);
    } else {
      if (firmwareOn) {
        setupNox2apic.push("x2apic already enabled.");
        setupNox2apic.push("x2apic disabled"); // __x2apic_disable's printk_once
        firmwareOn = false;
      }
      cap = false;
      disabled = true;
    }
  }
  // [apic.c] check_x2apic: x2apic_enabled() → X2APIC_ON; !X86_FEATURE_X2APIC → DISABLED.
  let on = false;
  if (firmwareOn) {
    checkX2apic.push("x2apic: enabled by BIOS, switching to x2apic ops");
    on = true;
  } else if (!cap) {
    disabled = true;
  }
  const off = (reason: string): X2apicSetup => ({
    x2apic: false,
    virtExtDestId: false,
    maxApicId: XAPIC_MAX_APIC_ID,
    reason,
    kernelLines: lines,
  });
  // [apic.c] try_to_enable_x2apic: X2APIC_DISABLED returns first.
  if (disabled) {
    return off(env.nox2apic ? "nox2apic" : "no X86_FEATURE_X2APIC: x2APIC stays off");
  }
  let virtExtDestId = false;
  let maxApicId = 0xffff_ffff;
  let reason = "interrupt remapping addresses every APIC ID";
  if (!env.irqRemapX2apic) {
    if (!x2apicAvailable(info)) {
      tryToEnable.push("x2apic: IRQ remapping doesn't support X2APIC mode");
      // x2apic_disable: only a firmware-enabled x2APIC has anything to undo.
      if (on) {
        if (bootApicId >= 255) {
          tryToEnable.push(
            `Kernel panic - not syncing: Cannot disable x2apic, id: ${hex8(bootApicId)}`,
          );
        } else {
          tryToEnable.push("x2apic disabled");
        }
      }
      return off("x2apic: IRQ remapping doesn't support X2APIC mode");
    }
    // x86_init.hyper.msi_ext_dest_id() is asked only here.
    virtExtDestId = msiExtDestIdSupported(info);
    maxApicId = virtExtDestId ? MSI_EXT_DEST_ID_MAX_APIC_ID : MSI_MAX_APIC_ID;
    reason = virtExtDestId
      ? "KVM_FEATURE_MSI_EXT_DEST_ID: MSIs reach APIC IDs up to 32767"
      : "no KVM_FEATURE_MSI_EXT_DEST_ID (bit 15): MSIs reach APIC IDs up to 255";
  }
  // x2apic_enable: only from X2APIC_OFF (a firmware-enabled x2APIC is already on).
  if (!on) tryToEnable.push("x2apic enabled"); // __x2apic_enable's printk_once
  return { x2apic: true, virtExtDestId, maxApicId, reason, kernelLines: lines };
}

/**
 * Explains the MSI extended-destination-ID choice: used only when try_to_enable_x2apic gets
 * as far as asking kvm_msi_ext_dest_id (x2APIC on, no x2APIC-mode interrupt remapping, KVM
 * platform hooks installed) and bit 15 is set.
 *
 * @example
 * ```ts
 * import { decideMsiExtDestId } from "@pvkit/guest";
 * console.log(decideMsiExtDestId(undefined, { cpuHasX2apic: true }).used); // false
 * ```
 */
export function decideMsiExtDestId(
  info: KvmGuestInfo | undefined,
  env: X2apicEnvironment,
): FeatureDecision {
  const setup = tryToEnableX2apic(info, env);
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
