/**
 * KVM's APIC map and physical-destination delivery (arch/x86/kvm/lapic.c), as the emulated
 * backend's local APICs use them: the map KICK_CPU, SEND_IPI, SCHED_YIELD and native IPIs look
 * destinations up in, and the slow path a broadcast takes.
 *
 * - Present (kvm_apic_present): an in-kernel LAPIC that is hardware-enabled.
 * - In the map (kvm_recalculate_apic_map): present, and the map was recalculated since the
 *   vCPU appeared. KVM recalculates lazily; as measured on KVM (nested-kvm.md), a vCPU is in
 *   it once it has run or had its LAPIC set (KVM_SET_LAPIC).
 * - max_apic_id: at least 255 ("enough space for any xAPIC ID"), else the highest APIC ID.
 * - Broadcast (kvm_apic_is_broadcast_dest): with the broadcast quirk (no KVM_CAP_X2APIC_API),
 *   0xff from a host message or an xAPIC-mode sender, 0xffffffff from an x2APIC-mode sender;
 *   with KVM_CAP_X2APIC_API, 0xffffffff always and 0xff unless every software-enabled APIC
 *   is in x2APIC mode. A broadcast skips the map: every present APIC whose physical address
 *   matches takes it (kvm_apic_match_physical_addr after kvm_apic_mda).
 *
 * Not modelled: logical destinations, xAPIC ID aliasing above 0xff, LDR.
 *
 * @module
 */

import type { InterruptRequest, VcpuContext } from "@pvkit/machine";
import type { LocalApic } from "./local_apic.ts";

/**
 * xAPIC physical broadcast, KVM's APIC_BROADCAST.
 *
 * @example
 * ```ts
 * import { APIC_BROADCAST } from "@pvkit/emu";
 * console.log(APIC_BROADCAST); // 255
 * ```
 */
export const APIC_BROADCAST = 0xff; // arch/x86/kvm/lapic.h

/**
 * x2APIC physical broadcast, KVM's X2APIC_BROADCAST.
 *
 * @example
 * ```ts
 * import { X2APIC_BROADCAST } from "@pvkit/emu";
 * console.log(X2APIC_BROADCAST.toString(16)); // ffffffff
 * ```
 */
export const X2APIC_BROADCAST = 0xffff_ffff; // arch/x86/kvm/lapic.h

/**
 * A vCPU as the APIC map sees it.
 *
 * @example
 * ```ts
 * import type { ApicMapVcpu } from "@pvkit/emu";
 * const inMap = (v: ApicMapVcpu) => v.inApicMap;
 * console.log(typeof inMap);
 * ```
 */
export interface ApicMapVcpu extends VcpuContext {
  /** Its local APIC (absent without an in-kernel irqchip). */
  readonly apic: LocalApic | undefined;
  /** The map was recalculated since this vCPU appeared (it ran, or its LAPIC was set). */
  readonly inApicMap: boolean;
}

/** kvm_apic_present: an in-kernel LAPIC, hardware-enabled. */
function present(v: ApicMapVcpu): boolean {
  return v.apic !== undefined && v.apic.hardwareEnabled;
}

/**
 * One VM's APIC map over its vCPUs.
 *
 * @example
 * ```ts
 * import { EmuMachine } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", smp: 2, host: "linux-6.12" }));
 * console.log(vm.apicMap.lookup(1)); // undefined: vCPU 1 has not run yet
 * vm.setLapic(1);
 * console.log(vm.apicMap.lookup(1) === vm.vcpu(1)); // true
 * ```
 */
export class ApicMap<V extends ApicMapVcpu> {
  readonly #vcpus: readonly V[];
  readonly #byApicId = new Map<number, V>();
  readonly #x2apicApi: boolean;
  #maxApicId = -1;

  /**
   * Builds the map over `vcpus`. `x2apicApi` is KVM_CAP_X2APIC_API with 32-bit IDs and the
   * broadcast quirk disabled (what QEMU and pvkit's KVM backend enable for APIC IDs above 254).
   */
  constructor(vcpus: readonly V[], x2apicApi: boolean) {
    this.#vcpus = vcpus;
    for (const v of vcpus) {
      this.#byApicId.set(v.apicId, v);
      if (v.apic) v.apic.onPresenceChange = () => this.invalidate();
    }
    this.#x2apicApi = x2apicApi;
  }

  /** KVM_CAP_X2APIC_API is on: no broadcast quirk. */
  get x2apicApi(): boolean {
    return this.#x2apicApi;
  }

  /** map->max_apic_id: the highest APIC ID in the map, and never below 255. */
  get maxApicId(): number {
    if (this.#maxApicId < 0) {
      let max = APIC_BROADCAST; // kvm_recalculate_apic_map: max_id = 255
      for (const v of this.#vcpus) if (v.inApicMap && present(v) && v.apicId > max) max = v.apicId;
      this.#maxApicId = max;
    }
    return this.#maxApicId;
  }

  /** A vCPU joined the map or an APIC's presence changed: max_apic_id is recomputed. */
  invalidate(): void {
    this.#maxApicId = -1;
  }

  /** map->phys_map[apicId]: the vCPU, if it is in the map with that physical ID. */
  lookup(apicId: number): V | undefined {
    const v = this.#byApicId.get(apicId);
    return v !== undefined && v.inApicMap && present(v) ? v : undefined;
  }

  /**
   * kvm_irq_delivery_to_apic (physical, no shorthand): a broadcast goes to every present APIC
   * whose address matches, anything else to `lookup(destination)`. Returns how many accepted
   * it; -1 when a broadcast matched no APIC.
   */
  deliver(source: V | undefined, request: InterruptRequest): number {
    const dest = request.destination >>> 0;
    if (!this.isBroadcast(source, dest)) {
      // kvm_irq_delivery_to_apic_fast: phys_map[dest], nothing above max_apic_id.
      const target = this.lookup(dest);
      return target?.requestInterrupt(request) ? 1 : 0;
    }
    let accepted = -1;
    for (const v of this.#vcpus) {
      if (!present(v) || !this.#matchesPhysical(v, this.#mda(source, dest, v))) continue;
      accepted = Math.max(accepted, 0) + (v.requestInterrupt(request) ? 1 : 0);
    }
    return accepted;
  }

  /** kvm_apic_is_broadcast_dest for a destination from `source` (undefined: the host). */
  isBroadcast(source: V | undefined, dest: number): boolean {
    if (this.#x2apicApi) {
      if (dest === APIC_BROADCAST && !this.#logicalModeX2apic()) return true;
      return dest === X2APIC_BROADCAST;
    }
    const x2apicIpi = source?.apic?.x2apic ?? false;
    return dest === (x2apicIpi ? X2APIC_BROADCAST : APIC_BROADCAST);
  }

  /** map->logical_mode == KVM_APIC_MODE_X2APIC: every software-enabled APIC is in x2APIC mode. */
  #logicalModeX2apic(): boolean {
    let any = false;
    for (const v of this.#vcpus) {
      if (!v.inApicMap || !present(v) || !v.apic!.softwareEnabled) continue;
      if (!v.apic!.x2apic) return false;
      any = true;
    }
    return any; // none software-enabled: KVM_APIC_MODE_SW_DISABLED
  }

  /** kvm_apic_mda: with the quirk, a host message to 0xff means 0xffffffff to an x2APIC. */
  #mda(source: V | undefined, dest: number, target: V): number {
    const quirk = !this.#x2apicApi && source === undefined && dest === APIC_BROADCAST;
    return quirk && target.apic!.x2apic ? X2APIC_BROADCAST : dest;
  }

  /** kvm_apic_match_physical_addr. */
  #matchesPhysical(target: V, mda: number): boolean {
    const x2apic = target.apic!.x2apic;
    if (mda === (x2apic ? X2APIC_BROADCAST : APIC_BROADCAST)) return true; // kvm_apic_broadcast
    if (x2apic || mda > 0xff) return mda === target.apicId; // x2APIC ID (the hotplug hack)
    return mda === (target.apicId & 0xff); // xAPIC ID
  }
}
