/**
 * A helper for plugin authors: compose a machine that has only one plugin, turned on, on a
 * host that supports every bit, so a plugin's manifest and rules can be tested on their own.
 *
 * @module
 */

import { composeMachine } from "./compose.ts";
import type { ComposedMachine } from "./composed_machine.ts";
import type { IrqchipMode } from "./condition.ts";
import type { PvPlugin } from "./plugin.ts";
import { ArrayGuestMemory } from "./guest_memory.ts";
import { PluginRegistry } from "./registry.ts";
import type { SharedKey } from "./shared_key.ts";
import type { VcpuContext, VmContext } from "./vcpu_context.ts";
import { simpleTopology } from "./topology.ts";

/** The machine around the plugin under test. */
export interface SoloMachineOptions {
  /** The irqchip mode (x2APIC is on unless the irqchip is off). Default `split`. */
  readonly irqchip?: IrqchipMode;
  /** Number of vCPUs. Default 2. */
  readonly vcpus?: number;
}

/**
 * Composes (strict rules) a machine whose only plugin is `plugin`, asked for by the user, from
 * the featureless `base` model, on a host that reports every CPUID bit.
 *
 * @example
 * ```ts
 * import { composeSolo, definePlugin } from "@pvkit/machine";
 * const plugin = definePlugin({
 *   name: "demo", package: "@acme/demo", summary: "demo", qemu: { name: null, aliases: [] },
 *   cpuid: { leaf: "0x40000001", register: "eax", bits: [17], abiName: "X" }, defaultOn: false,
 *   host: { provider: "vmm", autoEnable: false }, msrs: [], hypercalls: [], since: {}, rules: [],
 * });
 * console.log(composeSolo(plugin).leaves["0x40000001"].eax); // "0x00020000"
 * ```
 */
export function composeSolo(plugin: PvPlugin, options: SoloMachineOptions = {}): ComposedMachine {
  const irqchip = options.irqchip ?? "split";
  return composeMachine({
    registry: new PluginRegistry([plugin]),
    model: { name: "base", kind: "base" },
    machine: { type: "pvkit", irqchip, accel: "kvm", topology: simpleTopology(options.vcpus ?? 2) },
    settings: [
      { feature: plugin.manifest.name, enabled: true, form: "api" },
      { feature: "x2apic", enabled: irqchip !== "off", form: "api" },
    ],
    host: {
      name: "every-bit",
      kvmLeaf: { eax: 0xffffffff, edx: 0xffffffff },
      x2apicApi: true,
      maxVcpus: 32768,
    },
    rules: "strict",
  });
}

/**
 * A stand-in vCPU for plugin tests and examples: guest RAM, every PV feature allowed, a
 * per-vCPU state store, and no-op effects. Override any member with `parts`.
 *
 * @example
 * ```ts
 * import { standInVcpu } from "@pvkit/machine";
 * const vcpu = standInVcpu({ index: 2 });
 * console.log(vcpu.index, vcpu.pvHas(5), vcpu.memory.size); // 2 true 65536
 * ```
 */
export function standInVcpu(parts: Partial<VcpuContext> = {}): VcpuContext {
  const memory = parts.memory ?? new ArrayGuestMemory(65536);
  const store = new Map<unknown, unknown>();
  const vcpu: VcpuContext = {
    index: 0,
    apicId: 0,
    memory,
    longMode: true,
    cpl: 0,
    apic: undefined,
    get vm(): VmContext {
      return vm;
    },
    pvHas: () => true,
    guestTsc: () => 0n,
    runDelayNs: () => 0n,
    isPreempted: () => false,
    isHalted: () => false,
    kick: () => {},
    requestInterrupt: () => false,
    injectPageFault: () => {},
    flushTlb: () => {},
    shared<T>(key: SharedKey<T> | string, create?: () => T): T {
      if (!store.has(key)) store.set(key, typeof key === "string" ? create!() : key.create(vcpu));
      return store.get(key) as T;
    },
    ...parts,
  };
  const vm: VmContext = {
    vcpuCount: 1,
    memory,
    tscKhz: 2_600_000,
    schedInfo: true,
    inKernelLapic: true,
    maxApicId: vcpu.apicId,
    vcpu: () => vcpu,
    vcpuByApicId: (id) => (id === vcpu.apicId ? vcpu : undefined),
    kvmclockNs: () => 0n,
    realtimeNs: () => 0n,
    exitHypercallEnabled: () => false,
    exitToUserspace: () => 0n,
    runqueueBusy: () => false,
    yieldTo: () => false,
  };
  return vcpu;
}
