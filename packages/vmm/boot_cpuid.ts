/**
 * The CPUID each vCPU of a booting VM gets: KVM_GET_SUPPORTED_CPUID with the composed KVM
 * leaves (none with `kvm=off`), the vCPU's APIC ID and the x2apic bit from the composition
 * (see `@pvkit/kvm-probe`'s `vcpuCpuid`), plus the TSC-deadline timer bit, which KVM's in-kernel
 * LAPIC emulates but KVM_GET_SUPPORTED_CPUID leaves to the VMM (KVM_CAP_TSC_DEADLINE_TIMER;
 * QEMU and Firecracker set it).
 *
 * @module
 */

import type { CpuidEntry } from "@pvkit/kvm";
import { vcpuCpuid, withComposedLeaves } from "@pvkit/kvm-probe";
import type { ComposedMachine } from "@pvkit/machine";

const TSC_DEADLINE = 1 << 24; // CPUID.1:ECX[24]

/**
 * The CPUID entries of vCPU `index`.
 *
 * @example
 * ```ts
 * import { bootCpuid, composeBootMachine } from "@pvkit/vmm";
 * const { composed } = composeBootMachine({ smp: 2, host: "linux-6.1" });
 * const supported = [{ function: 1, index: 0, flags: 0, eax: 0, ebx: 0, ecx: 0, edx: 0 }];
 * const [leaf1] = bootCpuid(supported, composed, 1);
 * console.log(leaf1.ebx >>> 24, (leaf1.ecx >>> 24) & 1); // 1 1
 * ```
 */
export function bootCpuid(
  supported: readonly CpuidEntry[],
  composed: ComposedMachine,
  index: number,
): CpuidEntry[] {
  const entries = vcpuCpuid(withComposedLeaves(supported, composed.leaves), composed, index);
  for (const e of entries) if (e.function === 1) e.ecx = (e.ecx | TSC_DEADLINE) >>> 0;
  return entries;
}
