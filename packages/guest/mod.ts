/**
 * `@pvkit/guest`: guest-side KVM PV drivers that behave like Linux's
 * `arch/x86/kernel/kvm.c` and `kvmclock.c`, each gated by one predicate mirroring Linux's,
 * running on a {@linkcode GuestCpu} a backend provides.
 *
 * - {@link ./guest_cpu.ts}: the vCPU interface ({@linkcode GuestCpu}, {@linkcode GuestFault},
 *   {@linkcode GuestBlock}); {@link ./scripted_guest_cpu.ts}: a scripted one for tests.
 * - {@link ./kvm_detect.ts}: signature scan, {@linkcode KvmGuestInfo}, `kvmParaHasFeature`.
 * - Drivers: {@link ./kvmclock.ts}, {@link ./steal_time.ts}, {@link ./pv_eoi.ts},
 *   {@link ./pv_ipi.ts}, {@link ./pv_spinlock.ts}, {@link ./pv_tlb_flush.ts},
 *   {@link ./sched_yield.ts}, {@link ./async_pf.ts}, {@link ./haltpoll.ts}, {@link ./msi.ts}.
 * - {@link ./kvm_guest.ts}: {@linkcode KvmGuest}, Linux's boot and teardown sequence over all
 *   of them, with the PV operations routed to what each predicate chose, and the boot log in
 *   the kernel's words ({@link ./kernel_log.ts}).
 *
 * The ABI numbers, record codecs, seqlock readers and pvclock math come from `@pvkit/abi`.
 *
 * @example
 * ```ts
 * import { KvmGuest, ScriptedGuestCpu } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 *
 * const cpu = new ScriptedGuestCpu({
 *   cpuid: new Map([
 *     [1, { eax: 0, ebx: 0, ecx: 1 << 31, edx: 0 }],
 *     [0x40000000, { eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d }],
 *     [0x40000001, { eax: (1 << 3) | (1 << 5), ebx: 0, ecx: 0, edx: 0 }], // CLOCKSOURCE2, STEAL_TIME
 *   ]),
 * });
 * const guest = new KvmGuest({ possibleCpus: 1 });
 * guest.boot(cpu);
 * assertEquals(cpu.msrWrites, [
 *   { msr: 0x4b564d01, value: 0x1041n }, // kvmclock: pvclock record | 1
 *   { msr: 0x4b564d03, value: 0x1081n }, // steal time: record | 1
 *   { msr: 0x4b564d00, value: 0x1000n }, // kvm_get_wallclock: the wall-clock record
 * ]);
 * assertEquals(guest.kernelLog[1], "kvm-clock: Using msrs 4b564d01 and 4b564d00");
 * guest.offline(cpu);
 * assertEquals(cpu.msrWrites.slice(3), [
 *   { msr: 0x4b564d03, value: 0n },
 *   { msr: 0x4b564d01, value: 0n },
 * ]);
 * ```
 *
 * @module
 */

export * from "./guest_cpu.ts";
export * from "./scripted_guest_cpu.ts";
export * from "./feature_decision.ts";
export * from "./kvm_detect.ts";
export * from "./kvmclock.ts";
export * from "./steal_time.ts";
export * from "./pv_eoi.ts";
export * from "./pv_ipi.ts";
export * from "./pv_spinlock.ts";
export * from "./pv_tlb_flush.ts";
export * from "./sched_yield.ts";
export * from "./async_pf.ts";
export * from "./haltpoll.ts";
export * from "./msi.ts";
export * from "./kernel_log.ts";
export * from "./kvm_guest.ts";

// Types the API above names, from the packages that define them.
export { PvkitError } from "@pvkit/machine";
export type { Gpa, GuestMemory } from "@pvkit/machine";
export type { CpuidRegisters, KvmStealTime } from "@pvkit/abi";
