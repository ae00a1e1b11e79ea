/**
 * kvm-msi-ext-dest-id's host side: the MSI destination as the VMM and KVM decode it. QEMU's
 * `kvm_swizzle_msi_ext_dest_id` moves address bits 11:5 to address_hi bits 14:8, and KVM
 * (KVM_CAP_X2APIC_API, 32-bit IDs) reads the destination as address bits 19:12 plus
 * address_hi bits 31:8 (QEMU hw/i386/x86.c; Documentation/virt/kvm/api.rst; arch/x86/kernel/kvm.c).
 *
 * @module
 */

import type { PluginEnvironment, PluginHooks } from "@pvkit/machine";

/** MSI address bits 19:12: the 8-bit destination APIC ID. */
const DEST_SHIFT = 12;
/** MSI address bits 11:4: QEMU acts only when some are set (`ext_id = addr & (0xff << 4)`). */
const EXT_FIELD = 0xff0;
/** MSI address bit 4: the remappable (IOMMU) format; QEMU leaves such addresses alone. */
const REMAPPABLE = 0x10;
/** MSI address bits 11:5 carry destination bits 14:8. */
const EXT_SHIFT = 5;
/** X2APIC_API 32-bit IDs: address_hi bits 31:8 are destination bits 31:8; 7:0 must be 0. */
const HI_DEST_MASK = 0xffff_ff00;

/**
 * Decodes the destination APIC ID of an MSI. With `extDestId` (the guest sees CPUID
 * 0x40000001 EAX bit 15): unless address bits 11:4 are all zero, bit 4 (remappable) is set or
 * address_hi ≠ 0, the destination is bits 19:12 | (bits 11:5) << 8 (15-bit, up to 32767); an
 * untouched address_hi is decoded as KVM's X2APIC_API does (bits 31:8 added; low byte set →
 * `undefined`, the route is invalid). Without the feature: bits 19:12 (8-bit).
 *
 * @param addressLo MSI address bits 31:0
 * @param addressHi MSI address bits 63:32
 * @param extDestId whether the machine advertises KVM_FEATURE_MSI_EXT_DEST_ID
 * @example
 * ```ts
 * import { decodeMsiDestination } from "@pvkit/kvm-msi-ext-dest-id";
 * // APIC ID 0x1234: bits 7:0 = 0x34 in address bits 19:12, bits 14:8 = 0x12 in bits 11:5.
 * const lo = 0xfee00000 | (0x34 << 12) | (0x12 << 5);
 * console.log(decodeMsiDestination(lo, 0, true)?.toString(16)); // "1234"
 * console.log(decodeMsiDestination(lo, 0, false)?.toString(16)); // "34"
 * ```
 */
export function decodeMsiDestination(
  addressLo: number,
  addressHi: number,
  extDestId: boolean,
): number | undefined {
  const lo = addressLo >>> 0;
  const hi = addressHi >>> 0;
  const dest = (lo >>> DEST_SHIFT) & 0xff;
  if (!extDestId) return dest;
  const ext = lo & EXT_FIELD;
  if (ext !== 0 && (ext & REMAPPABLE) === 0 && hi === 0) {
    // kvm_swizzle_msi_ext_dest_id: address bits 11:5 → address_hi bits 14:8.
    return (dest | ((ext >>> EXT_SHIFT) << 8)) >>> 0;
  }
  // Left alone: KVM's 32-bit-ID decode of address_hi (kvm_msi_route_invalid: hi bits 7:0 ≠ 0).
  if ((hi & ~HI_DEST_MASK) !== 0) return undefined;
  return (dest | (hi & HI_DEST_MASK)) >>> 0;
}

/**
 * Creates kvm-msi-ext-dest-id's hooks for one machine: an MSI decoder that uses the extended
 * destination ID only when the composition enables kvm-msi-ext-dest-id (QEMU checks the first
 * CPU's CPUID bit 15), and the plain 8-bit destination otherwise.
 *
 * @example
 * ```ts
 * import { createKvmMsiExtDestIdHooks } from "@pvkit/kvm-msi-ext-dest-id";
 * import { standInVcpu } from "@pvkit/machine";
 * const hooks = createKvmMsiExtDestIdHooks({ vm: standInVcpu().vm, isEnabled: () => true });
 * console.log(hooks.msi?.destination(0xfee01000 | (1 << 5), 0)); // 257
 * ```
 */
export function createKvmMsiExtDestIdHooks(environment: PluginEnvironment): PluginHooks {
  const enabled = environment.isEnabled("kvm-msi-ext-dest-id");
  return {
    msi: {
      destination: (addressLo, addressHi) => decodeMsiDestination(addressLo, addressHi, enabled),
    },
  };
}
