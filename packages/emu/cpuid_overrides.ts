/**
 * CPUID overrides built from a composed machine, for the cases KVM's own tests set up by
 * editing the KVM_SET_CPUID2 input (spec/peer-tests.md A1: enforcement with a feature bit
 * absent).
 *
 * @module
 */

import { KVM_CPUID_FEATURES } from "@pvkit/abi";
import type { ComposedMachine } from "@pvkit/machine";
import type { CpuidOverride } from "./options.ts";

/**
 * The KVM features leaf (0x40000001) of `composed` with the feature `bits` cleared in EAX, as
 * an {@linkcode CpuidOverride} for {@linkcode EmuOptions.cpuid}: everything else the
 * composition advertises stays advertised.
 *
 * @example
 * ```ts
 * import { EmuMachine, kvmFeaturesWithout } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const composed = compose({ cpu: "host", machine: "q35", host: "linux-6.12" });
 * const vm = EmuMachine.create(composed, {
 *   enforcePvCpuid: true,
 *   cpuid: [kvmFeaturesWithout(composed, 5)], // no STEAL_TIME: its MSR now #GPs
 * });
 * console.log(vm.runOn(0, (cpu) => cpu.wrmsr(0x4b564d03, 0n).kind)); // "gp"
 * ```
 */
export function kvmFeaturesWithout(composed: ComposedMachine, ...bits: number[]): CpuidOverride {
  const leaf = composed.leaves["0x40000001"];
  let eax = Number(leaf?.eax ?? 0);
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0 || bit > 31) {
      throw new RangeError(`a KVM feature bit is 0 to 31 (EAX of 0x40000001), not ${bit}`);
    }
    eax &= ~(1 << bit);
  }
  return { leaf: KVM_CPUID_FEATURES, eax: eax >>> 0 };
}
