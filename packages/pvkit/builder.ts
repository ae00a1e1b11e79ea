/**
 * `MachineBuilder`: assemble a machine in code, one plugin at a time.
 *
 * @module
 */

import {
  type ComposedMachine,
  type IrqchipMode,
  PvkitError,
  type PvPlugin,
  type RuleDiagnostic,
  type RulesMode,
  type SmpTopology,
} from "@pvkit/machine";
import type { QemuHost, QemuVersion } from "@pvkit/qemu";
import { builtinPlugins } from "./builtin_plugins.ts";
import { compose } from "./compose.ts";
import { builderFix } from "./builder_fix.ts";

/**
 * Builds a machine step by step. It starts from QEMU's featureless `base` CPU model on pvkit's
 * own `pvkit` machine type (in-kernel irqchip, up to 32768 vCPUs), so the guest sees exactly
 * the features you `use()`; `model("qemu64")` starts from QEMU's defaults instead. `build()`
 * returns the same result as {@linkcode compose} for the equivalent options.
 *
 * @example
 * ```ts
 * import { MachineBuilder } from "@pvkit/pvkit";
 * import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";
 * const machine = new MachineBuilder().use(kvmPvEoi).irqchip("split").x2apic().smp(4).build();
 * console.log(machine.isEnabled("kvm-pv-eoi"), machine.ok); // true true
 * ```
 */
export class MachineBuilder {
  #model = "base";
  #machineType = "pvkit";
  #irqchip: IrqchipMode | undefined;
  #smp: string = "1";
  #accel: string | undefined;
  #host: string | QemuHost | undefined;
  #rules: RulesMode = "strict";
  #qemuVersion: QemuVersion | undefined;
  readonly #items: string[] = [];
  readonly #plugins: PvPlugin[] = [];

  /** Starts from a QEMU CPU model (`qemu64`, `EPYC`, `host`…) instead of `base`. */
  model(name: string): this {
    this.#model = name;
    return this;
  }

  /** Uses a QEMU machine type (`q35`, `pc-q35-5.1`, `microvm`…) instead of `pvkit`. */
  machineType(name: string): this {
    this.#machineType = name;
    return this;
  }

  /** Turns a plugin's feature on, registering the plugin first if it is not built in. */
  use(plugin: PvPlugin): this {
    this.#register(plugin, "use");
    this.#items.push(`${plugin.manifest.name}=on`);
    return this;
  }

  /** Turns a plugin's feature off. */
  disable(plugin: PvPlugin): this {
    this.#register(plugin, "disable");
    this.#items.push(`${plugin.manifest.name}=off`);
    return this;
  }

  #register(plugin: PvPlugin, method: string): void {
    // JavaScript callers and a misspelt import (`undefined`) get here without the type check.
    const given: unknown = plugin;
    if (
      typeof given !== "object" || given === null || !("manifest" in given) ||
      typeof given.manifest !== "object" || given.manifest === null
    ) {
      throw new PvkitError(
        "not-a-plugin",
        `MachineBuilder.${method}() needs a plugin, got ${given === null ? "null" : typeof given}`,
        "check the import: each plugin package exports its plugin by name, " +
          'e.g. import { kvmPvEoi } from "@pvkit/kvm-pv-eoi"',
      );
    }
    const builtin = builtinPlugins.includes(plugin);
    if (!builtin && !this.#plugins.includes(plugin)) this.#plugins.push(plugin);
  }

  /** Sets the irqchip mode (`on`, `split` or `off`). */
  irqchip(mode: IrqchipMode): this {
    this.#irqchip = mode;
    return this;
  }

  /** Turns x2APIC on (or off with `false`). */
  x2apic(enabled = true): this {
    this.#items.push(`x2apic=${enabled ? "on" : "off"}`);
    return this;
  }

  /** Hides the KVM leaves (`kvm=off`). */
  hideKvm(): this {
    this.#items.push("kvm=off");
    return this;
  }

  /** Sets the vCPU count, or a full topology. */
  smp(cpus: number | SmpTopology): this {
    this.#smp = typeof cpus === "number"
      ? String(cpus)
      : `cpus=${cpus.cpus},maxcpus=${cpus.maxCpus},sockets=${cpus.sockets},dies=${cpus.dies},cores=${cpus.cores},threads=${cpus.threads}`;
    return this;
  }

  /** Uses TCG instead of KVM. */
  tcg(): this {
    this.#accel = "tcg";
    return this;
  }

  /** Chooses the host profile: `kvm`, a named profile, or a profile object. */
  host(host: string | QemuHost): this {
    this.#host = host;
    return this;
  }

  /** Chooses the rules mode. */
  rules(mode: RulesMode): this {
    this.#rules = mode;
    return this;
  }

  /** Chooses the QEMU version whose behaviour to reproduce. */
  qemuVersion(version: QemuVersion): this {
    this.#qemuVersion = version;
    return this;
  }

  /** The `-cpu` string this builder stands for. */
  cpuOption(): string {
    return [this.#model, ...this.#items].join(",");
  }

  /** The `-machine` string this builder stands for. */
  machineOption(): string {
    return this.#irqchip
      ? `${this.#machineType},kernel-irqchip=${this.#irqchip}`
      : this.#machineType;
  }

  /**
   * The rules the machine breaks, as data, each fix written as builder calls where the rule
   * allows ({@linkcode builderFix}).
   *
   * @example
   * ```ts
   * import { MachineBuilder } from "@pvkit/pvkit";
   * import { kvmPvTlbFlush } from "@pvkit/kvm-pv-tlb-flush";
   * const [d] = new MachineBuilder().use(kvmPvTlbFlush).smp(2).diagnostics();
   * console.log(d.rule); // "kvm-pv-tlb-flush/requires-kvm-steal-time"
   * console.log(d.fix); // ".use(kvmStealTime), or .disable(kvmPvTlbFlush)"
   * ```
   */
  diagnostics(): RuleDiagnostic[] {
    return this.build().ruleDiagnostics.map((d) => {
      const fix = builderFix(d);
      return fix === undefined ? d : { ...d, fix };
    });
  }

  /** Composes the machine. */
  build(): ComposedMachine {
    return compose({
      cpu: this.cpuOption(),
      machine: this.machineOption(),
      smp: this.#smp,
      plugins: this.#plugins,
      rules: this.#rules,
      ...(this.#accel ? { accel: this.#accel } : {}),
      ...(this.#host !== undefined ? { host: this.#host } : {}),
      ...(this.#qemuVersion ? { qemuVersion: this.#qemuVersion } : {}),
    });
  }
}
