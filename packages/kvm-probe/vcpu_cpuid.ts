/**
 * The CPUID one vCPU gets on KVM: the machine's table with the vCPU's own topology fields from
 * the composition (initial APIC ID in leaf 1 EBX 31:24, x2APIC ID in leaf 0xB EDX, the x2apic
 * and hypervisor bits of leaf 1 ECX), and no KVM leaves at all when the composition hides them
 * (`kvm=off`).
 *
 * @module
 */

import { type CpuidEntry, KVM_CPUID_FLAG_SIGNIFCANT_INDEX } from "@pvkit/kvm";
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

/**
 * The entries of `table` for `leaf` (all its sub-leaves when `subleaf` is undefined); when
 * there are none, a zeroed entry is appended to `table` and returned, so callers can set it.
 *
 * @example
 * ```ts
 * import { cpuidEntriesFor } from "@pvkit/kvm-probe";
 * const table = [{ function: 1, index: 0, flags: 0, eax: 0, ebx: 0, ecx: 0, edx: 0 }];
 * cpuidEntriesFor(table, 0x40000010, undefined)[0].eax = 2_000_000;
 * console.log(table.length); // 2
 * ```
 */
export function cpuidEntriesFor(
  table: CpuidEntry[],
  leaf: number,
  subleaf: number | undefined,
): CpuidEntry[] {
  const found = table.filter((e) =>
    e.function === leaf && (subleaf === undefined || e.index === subleaf)
  );
  if (found.length > 0) return found;
  const entry: CpuidEntry = {
    function: leaf,
    index: subleaf ?? 0,
    flags: subleaf === undefined ? 0 : KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
    eax: 0,
    ebx: 0,
    ecx: 0,
    edx: 0,
  };
  table.push(entry);
  return [entry];
}

/**
 * A machine's CPUID table on KVM: KVM_GET_SUPPORTED_CPUID (`supported`, copied), with the
 * composed KVM leaves (`0x40000000`, `0x40000001`, from `ComposedMachine.leaves`) in place of
 * the host's.
 *
 * @example
 * ```ts
 * import { withComposedLeaves } from "@pvkit/kvm-probe";
 * const table = withComposedLeaves(
 *   [{ function: 0x40000001, index: 0, flags: 0, eax: 0x1007efb, ebx: 0, ecx: 0, edx: 0 }],
 *   { "0x40000001": { eax: "0x00000008", ebx: "0x0", ecx: "0x0", edx: "0x0" } },
 * );
 * console.log(table[0].eax); // 8
 * ```
 */
export function withComposedLeaves(
  supported: readonly CpuidEntry[],
  leaves: Readonly<Record<string, { eax: string; ebx: string; ecx: string; edx: string }>>,
): CpuidEntry[] {
  const table = supported.map((e) => ({ ...e }));
  for (const key of ["0x40000000", "0x40000001"]) {
    const leaf = leaves[key];
    if (!leaf) continue;
    for (const e of cpuidEntriesFor(table, Number(key), undefined)) {
      e.eax = Number(leaf.eax) >>> 0;
      e.ebx = Number(leaf.ebx) >>> 0;
      e.ecx = Number(leaf.ecx) >>> 0;
      e.edx = Number(leaf.edx) >>> 0;
    }
  }
  return table;
}
