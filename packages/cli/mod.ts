/**
 * `@pvkit/cli`: the `pvkit` command line (`describe`, `cpu-help`, `features`, `explain`,
 * `rules`, `probe`, `diff`, `doctor`, `bench`, `demo`), usable as a library.
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
export * from "./cli_output.ts";
export * from "./doctor_command.ts";
// Types of @pvkit/kvm in this package's signatures.
export type { BenchExitsResult, KvmDoctorReport } from "@pvkit/kvm";
export * from "./caller_path.ts";
export * from "./cli_args.ts";
export * from "./cli_flags.ts";
export * from "./colors.ts";
export * from "./command_help.ts";
export * from "./describe_command.ts";
export * from "./describe_table.ts";
export * from "./cpu_help_text.ts";
export * from "./explain_command.ts";
export * from "./feature_catalog.ts";
export * from "./features_command.ts";
export * from "./machine_types.ts";
export * from "./note_groups.ts";
export * from "./plugin_file.ts";
export * from "./probe_command.ts";
export * from "./probe_text.ts";
export * from "./diff_command.ts";
export * from "./feature_probes.ts";
export * from "./feature_table.ts";
export * from "./integer_option.ts";
export * from "./rule_graph.ts";
export * from "./rule_graph_render.ts";
export * from "./rules_command.ts";
export * from "./version.ts";
export * from "./boot_command.ts";
export * from "./demo_linux_command.ts";
export * from "./memory_size.ts";
export * from "./nested_command.ts";
