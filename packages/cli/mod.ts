/**
 * `@pvkit/cli`: the `pvkit` command line (`describe`, `cpu-help`, `probe`, `doctor`, `bench`, `demo`), usable as a library.
 *
 * @example
 * ```ts
 * import { runCli } from "@pvkit/cli";
 * await runCli(["describe", "-cpu", "qemu64,kvm-pv-ipi=on", "-smp", "4", "--host", "linux-6.12"]);
 * ```
 *
 * @module
 */
export * from "./bench_command.ts";
export * from "./cli.ts";
export * from "./doctor_command.ts";
// Types of @pvkit/kvm in this package's signatures.
export type { BenchExitsResult, KvmDoctorReport } from "@pvkit/kvm";
export * from "./cli_args.ts";
export * from "./colors.ts";
export * from "./describe_table.ts";
export * from "./cpu_help_text.ts";
export * from "./probe_command.ts";
export * from "./diff_command.ts";
export * from "./feature_probes.ts";
export * from "./feature_table.ts";
export * from "./integer_option.ts";
