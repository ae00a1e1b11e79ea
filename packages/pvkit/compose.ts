/**
 * `compose()`: the code API behind `pvkit describe`.
 *
 * @module
 */

import {
  type ComposedMachine,
  ComposedMachine as Composed,
  PvkitError,
  type PvPlugin,
  type RulesMode,
} from "@pvkit/machine";
import { composeQemu, type QemuHost, type QemuVersion } from "@pvkit/qemu";
import { builtinRegistry } from "./builtin_plugins.ts";
import { selectHost } from "./host_selection.ts";

/** What to compose: QEMU's option strings plus pvkit's choices. */
export interface ComposeOptions {
  /** `-cpu` (default `qemu64`). */
  readonly cpu?: string;
  /** `-machine` (default `pc`; `pvkit` for pvkit's own machine type in strict mode). */
  readonly machine?: string;
  /** `-smp` (a count or QEMU's `-smp` string; default 1). */
  readonly smp?: number | string;
  /** `-accel` (default `kvm`). */
  readonly accel?: string;
  /** Third-party plugins, registered after the built-in ones. */
  readonly plugins?: readonly PvPlugin[];
  /** `kvm`, a named profile, a profile object, or absent for the default. */
  readonly host?: string | QemuHost;
  /** `strict` (default) or `qemu`. */
  readonly rules?: RulesMode;
  /** The QEMU version whose behaviour to reproduce (default `current`). */
  readonly qemuVersion?: QemuVersion;
}

/**
 * Composes a machine from QEMU options and plugins. The result's JSON is exactly what
 * `pvkit describe --json` prints; user mistakes come back in `errors`, never as exceptions.
 *
 * @example
 * ```ts
 * import { compose } from "@pvkit/pvkit";
 * const m = compose({ cpu: "host,kvm-pv-ipi=off", machine: "q35,kernel-irqchip=split", smp: 4, host: "linux-6.12" });
 * console.log(m.leaves["0x40000001"].eax, m.errors);
 * ```
 */
export function compose(options: ComposeOptions = {}): ComposedMachine {
  const rules = options.rules ?? "strict";
  let registry;
  let selection;
  try {
    registry = builtinRegistry(options.plugins ?? []);
    selection = selectHost(options.host);
  } catch (e) {
    if (!(e instanceof PvkitError)) throw e;
    return new Composed({
      profile: typeof options.host === "object" ? options.host.name : options.host ?? "",
      rules,
      model: (options.cpu ?? "qemu64").split(",")[0],
      machine: { type: options.machine ?? "pc", irqchip: "on", x2apic: false, smp: 0 },
      leaves: {},
      features: [],
      filtered: [],
      warnings: [],
      notes: e.hint ? [e.hint] : [],
      errors: [e.message],
    }, builtinRegistry());
  }
  const machine = composeQemu(
    {
      ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
      ...(options.machine !== undefined ? { machine: options.machine } : {}),
      ...(options.smp !== undefined ? { smp: options.smp } : {}),
      ...(options.accel !== undefined ? { accel: options.accel } : {}),
    },
    {
      registry,
      host: selection.host,
      rules,
      ...(options.qemuVersion ? { qemuVersion: options.qemuVersion } : {}),
    },
  );
  if (!selection.note || rules === "qemu") return machine;
  return machine.withDiagnostics({
    warnings: machine.warnings,
    notes: [selection.note, ...machine.notes],
    errors: machine.errors,
  });
}
