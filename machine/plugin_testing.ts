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
import { PluginRegistry } from "./registry.ts";
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
