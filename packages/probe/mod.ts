/**
 * `@pvkit/probe`: probe programs, small guest programs that exercise the KVM x86 PV interface,
 * as JSON files; their validation, their expectations, and the reports of a run.
 *
 * - {@link ./types.ts}: the model ({@linkcode Probe}, {@linkcode Step},
 *   {@linkcode StepResult}, {@linkcode ProbeRun}) and {@linkcode ProbeBackend}, the interface
 *   the emulated and KVM backends implement. This package depends on no backend.
 * - {@link ./parse_probe.ts}: {@linkcode parseProbe} and {@linkcode loadProbeFile}; a bad
 *   file is a {@linkcode ProbeError} naming the JSON path (`$.vcpus[0].steps[3].msr`).
 * - {@link ./limits.ts}: {@linkcode PROBE_LIMITS}, the memory, vCPUs, steps and file size a probe
 *   may have.
 * - {@link ./values.ts}: probe numbers (`"0x4b564d01"`, `"-1000"`, `12`) and memory sizes.
 * - {@link ./expect.ts}: {@linkcode checkExpectations}.
 * - {@link ./report.ts}: {@linkcode probeReport} (JSON), {@linkcode formatProbeReport}
 *   (text) and {@linkcode probeExitStatus}.
 *
 * The format is documented in the package README.
 *
 * @example
 * ```ts
 * import { parseProbe, probeExitStatus, probeReport } from "@pvkit/probe";
 * import type { Probe, ProbeBackend, ProbeRun } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * const probe = parseProbe({
 *   name: "kvm-signature",
 *   machine: { cpu: "host" },
 *   vcpus: [{
 *     steps: [{ op: "cpuid", leaf: "0x40000000", expect: { ebx: "0x4b4d564b", edx: "0x4d" } }],
 *   }],
 * });
 *
 * // A stand-in backend that answers CPUID 0x40000000 the way KVM does.
 * const backend: ProbeBackend = {
 *   name: "canned",
 *   run(p: Probe): Promise<ProbeRun> {
 *     return Promise.resolve({
 *       backend: "canned",
 *       vcpus: p.vcpus.map(() => ({
 *         results: [{ op: "cpuid", eax: 0x40000001n, ebx: 0x4b4d564bn, ecx: 0x564b4d56n, edx: 0x4dn }],
 *         exits: {},
 *       })),
 *       notes: [],
 *     });
 *   },
 * };
 *
 * const report = probeReport(probe, await backend.run(probe));
 * assertEquals(report.passed, true);
 * assertEquals(probeExitStatus(report), 0);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
// ProbeError's base class, so the public API names no private type.
export { PvkitError } from "@pvkit/machine";
export * from "./types.ts";
export * from "./values.ts";
export * from "./parse_probe.ts";
export * from "./limits.ts";
export * from "./expect.ts";
export * from "./report.ts";
export * from "./apic.ts";
