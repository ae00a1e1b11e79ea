/**
 * The machine a probe program describes, composed the same way for every backend.
 *
 * @module
 */

import { type ComposedMachine, PvkitError, type PvPlugin } from "@pvkit/machine";
import type { Probe } from "@pvkit/probe";
import { compose } from "./compose.ts";
import { optionalPlugins } from "./optional_plugins.ts";
import type { QemuHost } from "@pvkit/qemu";

/**
 * Composes `probe.machine` (its `-cpu`/`-machine`/`smp` and the plugins it names) for a
 * backend. The plugins a probe may name are `options.plugins`, by default pvkit's opt-in
 * plugins ({@linkcode optionalPlugins}: kvm-hc-map-gpa-range, kvm-migration-control).
 *
 * @throws {PvkitError} when the probe names a plugin the backend does not have
 * @example
 * ```ts
 * import { composeProbeMachine } from "@pvkit/pvkit";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "p", machine: { smp: 2 }, vcpus: [{ steps: [] }, { steps: [] }] });
 * console.log(composeProbeMachine(probe, { backend: "emu", host: "linux-6.18" }).machine.smp); // 2
 * ```
 */
export function composeProbeMachine(
  probe: Probe,
  options: {
    readonly backend: string;
    readonly host: string | QemuHost;
    readonly plugins?: ReadonlyMap<string, PvPlugin>;
  },
): ComposedMachine {
  const m = probe.machine;
  const available = options.plugins ?? optionalPlugins;
  const plugins = m.plugins.map((name) => {
    const plugin = available.get(name);
    if (!plugin) {
      throw new PvkitError(
        "unknown-plugin",
        `probe ${probe.name}: no plugin named "${name}" is available to the ${options.backend} backend`,
        `available: ${[...available.keys()].join(", ") || "none"}`,
      );
    }
    return plugin;
  });
  return compose({ cpu: m.cpu, machine: m.machine, smp: m.smp, plugins, host: options.host });
}
