/**
 * `pvkit doctor [--json]`: what this host's KVM offers pvkit. Exit status 0, or 2 when
 * `/dev/kvm` is unusable (what is known is still printed).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { type KvmDoctorReport, runKvmDoctor } from "@pvkit/kvm";
import { builtinPlugins } from "@pvkit/pvkit";
import { bold, green, red, stripColors, yellow } from "./colors.ts";
import type { CliOutput } from "./cli.ts";

/**
 * Names the set bits of CPUID 0x40000001 `register` after the built-in plugin manifests
 * (`KVM_FEATURE_CLOCKSOURCE`, ...), or `bit N` for bits no manifest claims.
 *
 * @example
 * ```ts
 * import { kvmLeafBitNames } from "@pvkit/cli";
 * console.log(kvmLeafBitNames(0x9, "eax")); // [ "KVM_FEATURE_CLOCKSOURCE", "KVM_FEATURE_CLOCKSOURCE2" ]
 * ```
 */
export function kvmLeafBitNames(value: number, register: "eax" | "edx"): string[] {
  const names = new Map<number, string>();
  for (const plugin of builtinPlugins) {
    const c = plugin.manifest.cpuid;
    if (Number(c.leaf) !== 0x40000001 || c.register !== register) continue;
    const abi = c.abiName.split(/,\s*/);
    c.bits.forEach((bit, i) => names.set(bit, abi[i] ?? abi[0] ?? plugin.manifest.name));
  }
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if ((value >>> bit) & 1) out.push(names.get(bit) ?? `bit ${bit}`);
  }
  return out;
}

/**
 * The flat JSON object of `pvkit doctor --json`: primitives and string arrays only.
 *
 * @example
 * ```ts
 * import { doctorJson } from "@pvkit/cli";
 * import { runKvmDoctor } from "@pvkit/kvm";
 * console.log(doctorJson(await runKvmDoctor({ pioExits: 1000 })).usable);
 * ```
 */
export function doctorJson(
  r: KvmDoctorReport,
): Record<string, string | number | boolean | null | string[]> {
  const out: Record<string, string | number | boolean | null | string[]> = {
    device: r.device,
    usable: r.usable,
    reason: r.reason,
    apiVersion: r.apiVersion,
  };
  for (const c of r.capabilities) out[c.name] = c.value;
  out.pvLeafEax = r.pvLeafEax;
  out.pvLeafEdx = r.pvLeafEdx;
  out.pvFeatures = r.pvLeafEax === null ? [] : kvmLeafBitNames(r.pvLeafEax, "eax");
  out.pvHints = r.pvLeafEdx === null ? [] : kvmLeafBitNames(r.pvLeafEdx, "edx");
  if (r.pvLeafError !== undefined) out.pvLeafError = r.pvLeafError;
  out.tscKhz = r.tscKhz;
  if (r.tscKhzError !== undefined) out.tscKhzError = r.tscKhzError;
  out.kind = r.kind.kind;
  out.kindDetail = r.kind.detail;
  out.hypercalls = r.hypercalls.status;
  out.hypercallDetail = r.hypercalls.detail;
  out.pioExitUs = r.pioExitUs === null ? null : Number(r.pioExitUs.toFixed(3));
  out.pioExits = r.pioExits;
  if (r.pioExitError !== undefined) out.pioExitError = r.pioExitError;
  return out;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;

/**
 * The human table of `pvkit doctor`.
 *
 * @example
 * ```ts
 * import { renderDoctor } from "@pvkit/cli";
 * import { runKvmDoctor } from "@pvkit/kvm";
 * console.log(renderDoctor(await runKvmDoctor({ pioExits: 1000 })));
 * ```
 */
export function renderDoctor(r: KvmDoctorReport): string {
  const rows: [string, string][] = [];
  rows.push([r.device, r.usable ? green("usable") : red(`unusable: ${r.reason}`)]);
  rows.push(["kind", r.kind.real ? green(r.kind.detail) : yellow(r.kind.detail)]);
  if (r.apiVersion !== null) rows.push(["KVM API version", String(r.apiVersion)]);
  for (const c of r.capabilities) {
    const value = c.name === "KVM_CAP_EXIT_HYPERCALL" || c.name === "KVM_CAP_X2APIC_API" ||
        c.name === "KVM_CAP_X86_USER_SPACE_MSR"
      ? `${c.value} (mask 0x${c.value.toString(16)})`
      : String(c.value);
    rows.push([`${c.name} (${c.number})`, c.value === 0 ? red(value) : value]);
  }
  if (r.pvLeafEax !== null) {
    rows.push([
      "CPUID 0x40000001 EAX",
      `${hex(r.pvLeafEax)} ${kvmLeafBitNames(r.pvLeafEax, "eax").join(" ")}`,
    ]);
  }
  if (r.pvLeafEdx !== null) {
    const names = kvmLeafBitNames(r.pvLeafEdx, "edx");
    rows.push([
      "CPUID 0x40000001 EDX",
      `${hex(r.pvLeafEdx)}${names.length ? " " : ""}${names.join(" ")}`,
    ]);
  }
  if (r.pvLeafError !== undefined) rows.push(["CPUID 0x40000001", red(r.pvLeafError)]);
  if (r.usable) {
    rows.push([
      "TSC (KVM_GET_TSC_KHZ)",
      r.tscKhz !== null ? `${r.tscKhz} kHz` : red(r.tscKhzError ?? "unknown"),
    ]);
    const paint = r.hypercalls.status === "works" ? green : yellow;
    rows.push(["hypercalls", paint(r.hypercalls.detail)]);
    rows.push([
      "port-I/O exit round trip",
      r.pioExitUs !== null
        ? `${r.pioExitUs.toFixed(2)} µs (${r.pioExits} exits)`
        : red(r.pioExitError ?? "unknown"),
    ]);
  }
  const width = Math.max(...rows.map(([k]) => stripColors(k).length));
  return [
    bold("pvkit doctor: this host's KVM"),
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
  ]
    .join("\n");
}

/**
 * Runs `pvkit doctor` with the arguments after the command name; returns the exit status.
 *
 * @throws {PvkitError} for an unknown option
 * @example
 * ```ts
 * import { doctorCommand } from "@pvkit/cli";
 * const status = await doctorCommand(["--json"], { out: console.log, err: console.error });
 * console.log(status); // 0, or 2 without a usable /dev/kvm
 * ```
 */
export async function doctorCommand(argv: readonly string[], io: CliOutput): Promise<number> {
  let json = false;
  for (const arg of argv) {
    if (arg === "--json") json = true;
    else {
      throw new PvkitError(
        "bad-cli-option",
        `unknown option ${arg}`,
        "usage: pvkit doctor [--json]",
      );
    }
  }
  const report = await runKvmDoctor();
  io.out(json ? JSON.stringify(doctorJson(report)) : renderDoctor(report));
  if (!report.usable) {
    io.err(
      `${red("pvkit:")} ${report.device} is unusable: ${report.reason}\n  hint: ${
        unusableHint(report)
      }`,
    );
    return 2;
  }
  if (!report.kind.real) {
    io.err(`${yellow("pvkit:")} ${report.kind.detail}\n  hint: ${NESTED_HINT}`);
  }
  return 0;
}

/** How to get a KVM whose hypercalls work on any x86-64 Linux machine. */
export const NESTED_HINT =
  "for a real KVM with working hypercalls, run inside QEMU's TCG: pvkit nested -- deno task pvkit doctor";

function unusableHint(r: KvmDoctorReport): string {
  const missing = /does not exist/.test(r.reason ?? "");
  return missing
    ? NESTED_HINT
    : "pvkit's KVM backend needs read/write access to /dev/kvm (root or the kvm group) and Deno " +
      `run with --allow-ffi; or ${NESTED_HINT.replace(/^for a real KVM/, "for a KVM")}`;
}
