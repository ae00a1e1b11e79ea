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
// Types the report and image API above names, from the packages that define them.
export type { FeatureDecision, GuestPvFeature } from "@pvkit/guest";
export type { CpioEntry, ProgressSink } from "@pvkit/nested";
