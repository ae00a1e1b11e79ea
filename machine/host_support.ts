/**
 * The supported set: which CPUID bits the host (KVM plus the VMM) can give the guest
 * (QEMU's `kvm_arch_get_supported_cpuid` with its fixups, qemu-kvm-pv.md §1 and §4).
 *
 * @module
 */

import type { Accelerator } from "./condition.ts";
import { type ConditionFacts, evaluateCondition } from "./condition.ts";
import { bitMask } from "./cpuid.ts";
import type { HostCapabilities } from "./composition.ts";
import { type WordKey, wordKeyOf } from "./feature_words.ts";
import type { RegisteredFeature } from "./registry.ts";

/** CPUID 0x40000001: the KVM feature leaf, whose EAX/EDX the host profile reports. */
export const KVM_FEATURES_LEAF = 0x40000001;

/**
 * Computes the supported bits of every word the features use.
 *
 * - Under KVM: leaf 0x40000001 EAX/EDX start from the host profile; other words are taken as
 *   fully supported by the kernel (KVM emulates x2APIC). A `kernel` feature whose `when` fails
 *   is removed (PV_UNHALT without an in-kernel irqchip); a `vmm` feature is added when its
 *   `when` holds (MSI_EXT_DEST_ID with a split irqchip, the REALTIME hint always).
 * - Under TCG: only the features listed in `tcgSupported`.
 *
 * @example
 * ```ts
 * import { PluginRegistry, supportedWords } from "@pvkit/machine";
 * const facts = {
 *   isEnabled: () => false, irqchip: "off" as const, x2apic: false, vcpus: 1, apicIdLimit: 1,
 *   accel: "kvm" as const, kvm: true,
 * };
 * const host = { name: "h", kvmLeaf: { eax: 0x01007efb, edx: 0 }, x2apicApi: true, maxVcpus: 1024 };
 * const words = supportedWords(new PluginRegistry().features, host, facts, "kvm", []);
 * console.log(words.get("1:ecx")); // 0: x2apic needs an in-kernel irqchip
 * ```
 */
export function supportedWords(
  features: readonly RegisteredFeature[],
  host: HostCapabilities,
  facts: ConditionFacts,
  accel: Accelerator,
  tcgSupported: readonly string[],
): Map<WordKey, number> {
  const words = new Map<WordKey, number>();
  if (accel === "tcg") {
    for (const { manifest: m } of features) {
      const word = wordKeyOf(m.cpuid);
      const bits = tcgSupported.includes(m.name) ? bitMask(m.cpuid.bits) : 0;
      words.set(word, ((words.get(word) ?? 0) | bits) >>> 0);
    }
    return words;
  }
  const kvmEax = wordKeyOf({ leaf: KVM_FEATURES_LEAF, register: "eax" });
  const kvmEdx = wordKeyOf({ leaf: KVM_FEATURES_LEAF, register: "edx" });
  words.set(kvmEax, host.kvmLeaf.eax >>> 0);
  words.set(kvmEdx, host.kvmLeaf.edx >>> 0);
  for (const { manifest: m } of features) {
    const word = wordKeyOf(m.cpuid);
    if (!words.has(word)) words.set(word, 0xffffffff);
    const mask = bitMask(m.cpuid.bits);
    const holds = m.host.when === undefined || evaluateCondition(m.host.when, facts);
    const current = words.get(word)!;
    if (m.host.provider === "vmm") {
      words.set(word, (holds ? current | mask : current & ~mask) >>> 0);
    } else if (!holds) {
      words.set(word, (current & ~mask) >>> 0);
    }
  }
  return words;
}
