/**
 * `@pvkit/emu`: the emulated backend. A composed machine runs in pure TypeScript with KVM's
 * host-side PV semantics, deterministically (virtual time, clock-ordered vCPUs).
 *
 * @example
 * ```ts
 * import { EmuMachine } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", host: "linux-6.12" }));
 * console.log(vm.vcpus.length); // 1
 * ```
 *
 * @module
 */
export * from "./options.ts";
export * from "./exits.ts";
export * from "./local_apic.ts";
export * from "./apic_map.ts";
export * from "./guest_block.ts";
export * from "./emu_vcpu.ts";
export * from "./scheduler.ts";
export * from "./emu_machine.ts";
export * from "./probe_backend.ts";
export * from "./emu_guest_cpu.ts";
export * from "./msr_dispatch.ts";
export * from "./msr_access.ts";
export * from "./cpuid_overrides.ts";
export * from "./apic_registers.ts";
