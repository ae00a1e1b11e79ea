/**
 * `@pvkit/qemu`: QEMU-compatible option handling for KVM PV features.
 *
 * - The grammars of `-cpu` ({@linkcode parseCpuOption}), `-machine`
 *   ({@linkcode parseMachineOption}), `-smp` ({@linkcode parseSmpOption}) and `-accel`
 *   ({@linkcode parseAccelOption}), with QEMU's error texts.
 * - QEMU's tables (flags, properties, CPU models, machine types) for QEMU 7.2 and current QEMU
 *   ({@linkcode qemuDialect}).
 * - {@linkcode composeQemu}: what a guest sees for a command line, in pvkit's strict mode or
 *   reproducing QEMU exactly.
 *
 * @example
 * ```ts
 * import { composeQemu } from "@pvkit/qemu";
 * import { PluginRegistry } from "@pvkit/machine";
 * const host = { name: "example", kvmLeaf: { eax: 0x01007efb, edx: 0 }, x2apicApi: true, maxVcpus: 1024 };
 * const m = composeQemu({ cpu: "qemu64,kvm-pv-eoi=maybe" }, { registry: new PluginRegistry(), host });
 * console.log(m.errors[0]);
 * ```
 *
 * @module
 */
export * from "./option_error.ts";
export * from "./qemu_bool.ts";
export * from "./option_list.ts";
export * from "./cpu_option.ts";
export * from "./smp_option.ts";
export * from "./machine_option.ts";
export * from "./did_you_mean.ts";
export * from "./cpu_help.ts";
export * from "./qemu_dialect.ts";
export * from "./cpu_settings.ts";
export * from "./compose_qemu.ts";
