/**
 * `@pvkit/vmm`: a minimal x86-64 VMM on `@pvkit/kvm` that boots an unmodified Linux bzImage
 * (the Linux x86 boot protocol, Documentation/arch/x86/boot.rst) on a machine composed by
 * pvkit, with an in-kernel irqchip and PIT, a 16550 UART console, an i8042 reset line and an
 * MP table, and reports which PV features the guest kernel took.
 *
 * @module
 */

// Re-exported so this package's errors can be caught (and documented) without a second import.
export { PvkitError } from "@pvkit/machine";
export * from "./boot_init.ts";
export * from "./boot_console.ts";
export * from "./kernel_cmdline.ts";
export * from "./linux_guest_image.ts";
export * from "./pv_prediction.ts";
export * from "./pv_report.ts";
export * from "./pv_report_text.ts";
// The boot image: bzImage header, guest-physical layout, e820, zero page, initrd placement,
// MP table, the boot CPU's entry state, and loadLinux putting it all into guest memory.
export * from "./boot_cpu_state.ts";
export * from "./boot_layout.ts";
export * from "./boot_params.ts";
export * from "./bzimage.ts";
export * from "./e820.ts";
export * from "./initrd_placement.ts";
export * from "./kernel_footprint.ts";
export * from "./load_linux.ts";
export * from "./mptable.ts";
export * from "./boot_cpuid.ts";
export * from "./boot_machine.ts";
export * from "./boot_observations.ts";
export * from "./boot_report.ts";
export * from "./boot_shared.ts";
export * from "./boot_stop.ts";
export * from "./legacy_devices.ts";
export * from "./linux_vm.ts";
// The reference boot with QEMU on the same KVM, and pvkit against it.
export * from "./qemu_reference_boot.ts";
export * from "./vmm_comparison.ts";
export * from "./boot_bench.ts";
export * from "./pv_msr_watch.ts";
export * from "./vcpu_exit_loop.ts";
// Types the report and image API above names, from the packages that define them.
export type { FeatureDecision, GuestPvFeature } from "@pvkit/guest";
export type { CpioEntry, ProgressSink } from "@pvkit/nested";
export type { Gpa, GuestMemory } from "@pvkit/machine";
export type {
  CpuidEntry,
  KvmDtable,
  KvmRegs,
  KvmSegment,
  KvmSregs,
  LongModeSregs,
  MsrEntry,
} from "@pvkit/kvm";
export type { GuestChunk } from "@pvkit/x86";
// The legacy port-I/O devices over shared state (one instance per vCPU Worker), the console
// ring they transmit into, and the port bus that dispatches to them.
export * from "./console_ring.ts";
export * from "./uart16550.ts";
export * from "./i8042.ts";
export * from "./cmos_rtc.ts";
export * from "./port_bus.ts";
