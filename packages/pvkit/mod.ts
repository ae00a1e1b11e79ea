/**
 * `@pvkit/pvkit`: assemble machines with KVM PV features, in code or with QEMU's options.
 *
 * - {@linkcode compose}: from `-cpu`/`-machine`/`-smp`/`-accel` strings and plugins to what the
 *   guest sees (the same object `pvkit describe --json` prints).
 * - {@linkcode MachineBuilder}: the same, one plugin at a time.
 * - {@linkcode builtinPlugins}, {@linkcode builtinRegistry}, {@linkcode selectHost}.
 *
 * @example
 * ```ts
 * import { compose } from "@pvkit/pvkit";
 * const m = compose({ cpu: "qemu64,kvm-pv-tlb-flush=on,kvm-steal-time=off", host: "linux-6.12" });
 * console.log(m.errors); // kvm-pv-tlb-flush requires kvm-steal-time …
 * ```
 *
 * @module
 */
export * from "./builtin_plugins.ts";
export * from "./host_selection.ts";
export * from "./compose.ts";
export * from "./builder.ts";
export * from "./builder_fix.ts";
export * from "./optional_plugins.ts";
export * from "./probe_machine.ts";
