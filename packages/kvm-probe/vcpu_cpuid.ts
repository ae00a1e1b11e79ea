/**
 * The CPUID one vCPU gets on KVM: the machine's table with the vCPU's own topology fields from
 * the composition (initial APIC ID in leaf 1 EBX 31:24, x2APIC ID in leaf 0xB EDX, the x2apic
 * and hypervisor bits of leaf 1 ECX), and no KVM leaves at all when the composition hides them
 * (`kvm=off`).
 *
 * @module
 */

import type { CpuidEntry } from "@pvkit/kvm";
import type { ComposedMachine } from "@pvkit/machine";

const X2APIC = 1 << 21;
const HYPERVISOR = 1 << 31;
const KVM_LEAVES_FIRST = 0x40000000;
const KVM_LEAVES_LAST = 0x400000ff;

/**
 * Specializes a machine's CPUID table for vCPU `index`.
 *
 * @example
 * ```ts
 * import { vcpuCpuid } from "@pvkit/kvm-probe";
 * import { compose } from "@pvkit/pvkit";
 * const machine = compose({ cpu: "host", machine: "q35", smp: 2, host: "linux-6.18" });
 * const leaf1 = { function: 1, index: 0, flags: 0, eax: 0, ebx: 0, ecx: 0, edx: 0 };
 * const [mine] = vcpuCpuid([leaf1], machine, 1);
 * console.log(mine.ebx >>> 24); // 1
 * ```
 */
export function vcpuCpuid(
  table: readonly CpuidEntry[],
  composed: Pick<ComposedMachine, "leaves" | "machine" | "vcpus">,
  index: number,
): CpuidEntry[] {
  const hideKvm = Object.keys(composed.leaves).length === 0;
  const apicId = composed.vcpus?.apicId(index) ?? index;
  const out: CpuidEntry[] = [];
  for (const entry of table) {
    const e = { ...entry };
    if (hideKvm && e.function >= KVM_LEAVES_FIRST && e.function <= KVM_LEAVES_LAST) continue;
    if (e.function === 1) {
      e.ebx = ((e.ebx & 0x00ffffff) | ((apicId & 0xff) << 24)) >>> 0;
      e.ecx = ((composed.machine.x2apic ? e.ecx | X2APIC : e.ecx & ~X2APIC) | HYPERVISOR) >>> 0;
    }
    if (e.function === 0xb || e.function === 0x1f) e.edx = apicId >>> 0;
    out.push(e);
  }
  return out;
}
