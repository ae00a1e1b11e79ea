/**
 * KVM_HC_MAP_GPA_RANGE's host side (Documentation/virt/kvm/x86/hypercalls.rst table, nr 12; [X]
 * ____kvm_emulate_hypercall, complete_hypercall_exit): KVM checks the range and hands the call
 * to the VMM as a KVM_EXIT_HYPERCALL; what the VMM puts in `run->hypercall.ret` is RAX.
 *
 * @module
 */

import { KVM_EINVAL, KVM_ENOSYS, KVM_HC_MAP_GPA_RANGE } from "@pvkit/abi";
import {
  gatedHypercall,
  type PluginEnvironment,
  type PluginHooks,
  type VcpuContext,
} from "@pvkit/machine";

/** 4 KiB pages: PAGE_ALIGNED(gpa), gfn = gpa >> 12. */
const PAGE_SHIFT = 12n;
const PAGE_MASK = (1n << PAGE_SHIFT) - 1n;
const U64 = (1n << 64n) - 1n;

/**
 * KVM's handling of MAP_GPA_RANGE(a0 = GPA, a1 = npages, a2 = attrs) for `vcpu`:
 * -KVM_ENOSYS unless the VMM enabled KVM_CAP_EXIT_HYPERCALL for 12; -KVM_EINVAL (no exit) if
 * the GPA is not 4 KiB-aligned, npages is 0 or gfn + npages overflows; otherwise a
 * KVM_EXIT_HYPERCALL {nr 12, args [a0, a1, a2], LONG_MODE flag} and the VMM's return value.
 * Not CPUID-gated (arch/x86/kvm/cpuid.c). a2 is passed through unchecked (bits 63:5 reserved).
 *
 * @example
 * ```ts
 * import { kvmMapGpaRange } from "@pvkit/kvm-hc-map-gpa-range";
 * import { EmuMachine } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", host: "linux-6.12" }), {
 *   exitHypercall: [12],
 *   onUserHypercall: (_vcpu, exit) => exit.args[1], // the VMM answers npages
 * });
 * console.log(kvmMapGpaRange(vm.vcpu(0), 0x1000n, 3n, 0x10n)); // 3n
 * console.log(kvmMapGpaRange(vm.vcpu(0), 0x1001n, 3n, 0x10n)); // -22n
 * ```
 */
export function kvmMapGpaRange(
  vcpu: VcpuContext,
  gpa: bigint,
  npages: bigint,
  attrs: bigint,
): bigint {
  const vm = vcpu.vm;
  // user_exit_on_hypercall(kvm, KVM_HC_MAP_GPA_RANGE), else ret stays -KVM_ENOSYS.
  if (!vm.exitHypercallEnabled(KVM_HC_MAP_GPA_RANGE)) return -BigInt(KVM_ENOSYS);
  const gfn = gpa >> PAGE_SHIFT;
  // !PAGE_ALIGNED(gpa) || !npages || gfn + npages <= gfn (u64 wrap) → -KVM_EINVAL, no exit.
  if ((gpa & PAGE_MASK) !== 0n || npages === 0n || ((gfn + npages) & U64) <= gfn) {
    return -BigInt(KVM_EINVAL);
  }
  // KVM_EXIT_HYPERCALL: args[0..2], flags b0 = KVM_EXIT_HYPERCALL_LONG_MODE, ret preset to 0.
  const ret = vm.exitToUserspace(vcpu, {
    nr: KVM_HC_MAP_GPA_RANGE,
    args: [gpa, npages, attrs],
    longMode: vcpu.longMode,
  });
  // run->hypercall.ret is a u64; the backend truncates it to u32 for a 32-bit caller.
  return BigInt.asIntN(64, ret);
}

/**
 * Creates kvm-hc-map-gpa-range's hooks for one machine: KVM_HC_MAP_GPA_RANGE (12),
 * implemented by {@linkcode kvmMapGpaRange}, whatever the guest CPUID says.
 *
 * @example
 * ```ts
 * import { createKvmHcMapGpaRangeHooks } from "@pvkit/kvm-hc-map-gpa-range";
 * import { standInVcpu } from "@pvkit/machine";
 * const hooks = createKvmHcMapGpaRangeHooks({ vm: standInVcpu().vm, isEnabled: () => true });
 * console.log(hooks.hypercalls?.[0].nr); // 12
 * ```
 */
export function createKvmHcMapGpaRangeHooks(_environment: PluginEnvironment): PluginHooks {
  // arch/x86/kvm/cpuid.c: "Not gated by guest CPUID: … MAP_GPA_RANGE (gated by the capability)".
  const mapGpaRange = gatedHypercall(
    KVM_HC_MAP_GPA_RANGE,
    undefined,
    (vcpu, { args }) => kvmMapGpaRange(vcpu, args[0], args[1], args[2]),
  );
  return { hypercalls: [mapGpaRange] };
}
