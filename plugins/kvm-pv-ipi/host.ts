/**
 * KVM_HC_SEND_IPI's host side, exactly as KVM implements it (Documentation/virt/kvm/x86/hypercalls.rst "SEND_IPI exact
 * semantics"; [L] kvm_pv_send_ipi, __pv_send_ipi).
 *
 * @module
 */

import { KVM_EINVAL, KVM_EOPNOTSUPP, KVM_FEATURE_PV_SEND_IPI, KVM_HC_SEND_IPI } from "@pvkit/abi";
import {
  DELIVERY_MODES,
  gatedHypercall,
  type PluginEnvironment,
  type PluginHooks,
  type VcpuContext,
} from "@pvkit/machine";

// ICR fields (Documentation/virt/kvm/x86/hypercalls.rst SEND_IPI; [L] apicdef.h names).
/** APIC_DEST_MASK (logical destination) | APIC_SHORT_MASK (shorthand): either → -KVM_EINVAL. */
const ICR_REJECT = 0x800n | 0xc0000n;
/** APIC_VECTOR_MASK: vector = icr & 0xFF. */
const ICR_VECTOR = 0xff;
/** APIC_MODE_MASK is bits 10:8: delivery mode = icr & 0x700. */
const ICR_MODE_SHIFT = 8;
/** APIC_INT_ASSERT: level = bit 14. */
const ICR_LEVEL = 1 << 14;
/** APIC_INT_LEVELTRIG: trigger = bit 15. */
const ICR_TRIGGER = 1 << 15;
/** Mode field 3 = APIC_DM_REMRD: pv_unhalted + kick ([L] __apic_accept_irq). */
/** Mode field 7 = APIC_DM_EXTINT: __apic_accept_irq delivers nothing and returns 0. */
const MODE_EXTINT = 7;
/** Bits per bitmap register on the (64-bit) host: for_each_set_bit(…, min(BITS_PER_LONG, …)). */
const BITS_PER_LONG = 64;

/**
 * The PV IPI window size for a caller: 64 APIC IDs per bitmap register for a 64-bit caller,
 * 32 for a 32-bit one (Documentation/virt/kvm/x86/hypercalls.rst: `cluster = 64 | 32`; a2 + cluster starts a1's half).
 *
 * @example
 * ```ts
 * import { sendIpiCluster } from "@pvkit/kvm-pv-ipi";
 * console.log(sendIpiCluster(true), sendIpiCluster(false)); // 64 32
 * ```
 */
export function sendIpiCluster(longMode: boolean): 64 | 32 {
  return longMode ? 64 : 32;
}

/**
 * KVM's `kvm_pv_send_ipi`: the RAX a SEND_IPI(a0 = bitmap low, a1 = bitmap high, a2 = min APIC
 * ID, a3 = ICR) returns for `vcpu`, after delivering the IPIs: -22 for a logical destination or
 * a shorthand in the ICR, -95 without an APIC map, else the number of IPIs accepted
 * (Documentation/virt/kvm/x86/hypercalls.rst "SEND_IPI exact semantics"). The arguments are as the backend passes
 * them (already masked to 32 bits for a 32-bit caller); the CPUID gate is not applied here.
 *
 * @example
 * ```ts
 * import { kvmPvSendIpi } from "@pvkit/kvm-pv-ipi";
 * import { EmuMachine } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(
 *   compose({ cpu: "host", machine: "q35,kernel-irqchip=split", smp: 4, host: "linux-6.12" }),
 * );
 * console.log(kvmPvSendIpi(vm.vcpu(0), 0b1110n, 0n, 0n, 0x20n)); // 3n: APIC IDs 1, 2 and 3
 * console.log(kvmPvSendIpi(vm.vcpu(0), 1n, 0n, 0n, 0x820n)); // -22n: logical destination
 * ```
 */
export function kvmPvSendIpi(
  vcpu: VcpuContext,
  bitmapLow: bigint,
  bitmapHigh: bigint,
  min: bigint,
  icr: bigint,
): bigint {
  if ((icr & ICR_REJECT) !== 0n) return -BigInt(KVM_EINVAL);
  const vm = vcpu.vm;
  if (!vm.inKernelLapic) return -BigInt(KVM_EOPNOTSUPP); // no APIC map: -EOPNOTSUPP
  const low = Number(icr & 0xffffn);
  const mode = (low >> ICR_MODE_SHIFT) & 7;
  const send = delivery(mode, low & ICR_VECTOR, (low & ICR_LEVEL) !== 0, (low & ICR_TRIGGER) !== 0);
  const maxApicId = vm.maxApicId;
  const cluster = sendIpiCluster(vcpu.longMode);
  // min is a u32; min += cluster wraps in u32.
  const first = Number(BigInt.asUintN(32, min));
  const second = (first + cluster) >>> 0;
  return BigInt(
    sendHalf(vm, bitmapLow, first, maxApicId, send) +
      sendHalf(vm, bitmapHigh, second, maxApicId, send),
  );
}

type Deliver = (target: VcpuContext, apicId: number) => number;

/** kvm_apic_set_irq for one decoded ICR: 1 if the target accepted the IPI. */
function delivery(mode: number, vector: number, level: boolean, levelTriggered: boolean): Deliver {
  if (mode === MODE_EXTINT) return () => 0;
  const deliveryMode = DELIVERY_MODES[mode];
  // Every other mode passes through to the target's LAPIC (FIXED, LOWEST, SMI, remote read,
  // NMI, INIT, STARTUP); the destination is always physical.
  return (target, apicId) =>
    target.requestInterrupt({ destination: apicId, vector, deliveryMode, level, levelTriggered })
      ? 1
      : 0;
}

/** __pv_send_ipi: one bitmap register, bit i → APIC ID min + i. */
function sendHalf(
  vm: VcpuContext["vm"],
  bitmap: bigint,
  min: number,
  maxApicId: number,
  send: Deliver,
): number {
  if (min > maxApicId) return 0;
  const limit = Math.min(BITS_PER_LONG, maxApicId - min + 1);
  let count = 0;
  for (let base = 0; base < limit; base += 32) {
    let word = Number(BigInt.asUintN(32, bitmap >> BigInt(base)));
    while (word !== 0) {
      const bit = 31 - Math.clz32(word & -word);
      const i = base + bit;
      if (i >= limit) break;
      word = (word & (word - 1)) >>> 0;
      const target = vm.vcpuByApicId(min + i);
      if (target) count += send(target, min + i);
    }
  }
  return count;
}

/**
 * Creates kvm-pv-ipi's hooks for one machine: KVM_HC_SEND_IPI (10), gated by CPUID bit 11
 * (−KVM_ENOSYS when enforcement hides it), implemented by {@linkcode kvmPvSendIpi}.
 *
 * @example
 * ```ts
 * import { createKvmPvIpiHooks } from "@pvkit/kvm-pv-ipi";
 * import { standInVcpu } from "@pvkit/machine";
 * const hooks = createKvmPvIpiHooks({ vm: standInVcpu().vm, isEnabled: () => true });
 * console.log(hooks.hypercalls?.[0].nr); // 10
 * ```
 */
export function createKvmPvIpiHooks(_environment: PluginEnvironment): PluginHooks {
  // Documentation/virt/kvm/x86/hypercalls.rst/§7: gated by KVM_FEATURE_PV_SEND_IPI (bit 11), else -KVM_ENOSYS.
  const sendIpi = gatedHypercall(
    KVM_HC_SEND_IPI,
    KVM_FEATURE_PV_SEND_IPI,
    (vcpu, { args }) => kvmPvSendIpi(vcpu, args[0], args[1], args[2], args[3]),
  );
  return { hypercalls: [sendIpi] };
}
