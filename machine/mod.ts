/**
 * `@pvkit/machine`: the minimal machine core of pvkit.
 *
 * - Hook interfaces shared by plugins and backends: CPUID ({@linkcode CpuidHook}), MSRs
 *   ({@linkcode MsrHook}), guest memory ({@linkcode GuestMemory}), hypercalls
 *   ({@linkcode HypercallHook}), I/O ports ({@linkcode IoPortHook}) and interrupt requests
 *   ({@linkcode InterruptSink}).
 * - Plugins as data: {@linkcode PluginManifest}, {@linkcode definePlugin},
 *   {@linkcode PluginRegistry}.
 * - Composition: {@linkcode composeMachine} decides what a guest sees and enforces the rules.
 *
 * @example
 * ```ts
 * import { composeMachine, PluginRegistry, simpleTopology } from "@pvkit/machine";
 * const machine = composeMachine({
 *   registry: new PluginRegistry(),
 *   model: { name: "base", kind: "base" },
 *   machine: { type: "q35", irqchip: "on", accel: "kvm", topology: simpleTopology(1) },
 *   host: { name: "example", kvmLeaf: { eax: 0x01007efb, edx: 0 }, x2apicApi: true, maxVcpus: 1024 },
 *   rules: "strict",
 * });
 * console.log(machine.leaves["0x40000001"].eax); // "0x00000000"
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./guest_memory.ts";
export * from "./cpuid.ts";
export * from "./condition.ts";
export * from "./manifest.ts";
export * from "./manifest_parse.ts";
export * from "./interrupt.ts";
export * from "./vcpu_context.ts";
export * from "./hooks.ts";
export * from "./plugin.ts";
export * from "./registry.ts";
export * from "./topology.ts";
export * from "./composition.ts";
export * from "./composed_machine.ts";
export * from "./feature_words.ts";
export * from "./host_support.ts";
export * from "./feature_filter.ts";
export * from "./rule_engine.ts";
export * from "./kvm_leaves.ts";
export * from "./vcpu_cpuid.ts";
export * from "./compose.ts";
export * from "./plugin_testing.ts";
export * from "./pv_gates.ts";
export * from "./shared_key.ts";
export * from "./directed_yield.ts";
