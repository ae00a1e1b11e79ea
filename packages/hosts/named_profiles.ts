/**
 * Named host profiles: what `KVM_GET_SUPPORTED_CPUID` reports for the KVM paravirtual leaf
 * (0x40000001) on released Linux kernels, plus the KVM capabilities that decide how a VMM can
 * use it.
 *
 * The data lives in `profiles.json` (newest first); `SOURCES.md` says where every value comes
 * from and which ones are uncertain. This module validates the JSON once, at import time, and
 * turns it into typed {@linkcode HostProfile} objects.
 *
 * A profile read live from `/dev/kvm` will use the same {@linkcode HostProfile} shape with
 * `linux: null`; such profiles are not part of {@linkcode namedProfiles}.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import rawProfiles from "./profiles.json" with { type: "json" };

/**
 * What a KVM host offers a guest's paravirtual features: the supported KVM CPUID leaf and the
 * capabilities a VMM needs to expose it faithfully.
 *
 * @example
 * ```ts
 * import { findNamedProfile, type HostProfile } from "@pvkit/hosts";
 * const host: HostProfile | undefined = findNamedProfile("linux-5.4");
 * console.log(host?.kvmLeaf.eax.toString(16)); // "1003efb"
 * ```
 */
export interface HostProfile {
  /** A stable identifier, e.g. `"linux-6.12"`. */
  name: string;
  /** One line saying what distinguishes this host. */
  description: string;
  /** The Linux release (`"6.12"`), or `null` for a profile not tied to a release (e.g. live). */
  linux: string | null;
  /** `KVM_GET_SUPPORTED_CPUID` leaf 0x40000001: EAX = KVM_FEATURE_* bits, EDX = KVM_HINTS_* bits. */
  kvmLeaf: {
    /** Feature bits (EAX), as an unsigned 32-bit number. */
    eax: number;
    /** Hint bits (EDX), as an unsigned 32-bit number. */
    edx: number;
  };
  /** Whether `KVM_CAP_X2APIC_API` exists (needed for more than 255 vCPUs / x2APIC IDs). */
  x2apicApi: boolean;
  /** Whether `KVM_CAP_ENFORCE_PV_FEATURE_CPUID` exists (PV MSRs and hypercalls gated by CPUID). */
  enforcePvFeatureCpuid: boolean;
  /** Whether `KVM_CAP_EXIT_HYPERCALL` exists (hypercalls such as MAP_GPA_RANGE exit to the VMM). */
  exitHypercall: boolean;
  /** `KVM_CAP_MAX_VCPUS` (x86 `KVM_MAX_VCPUS`) for a default configuration. */
  maxVcpus: number;
  /** Short citations for the values, separated by `"; "`. */
  source: string;
}

const HEX32 = /^0x[0-9a-f]{8}$/;
const SIGNATURE_EAX = new Set(["0x40000001", "0x00000000"]);

function fail(message: string): never {
  throw new PvkitError(
    "bad-host-profile",
    message,
    "fix the entry in packages/hosts/profiles.json (see SOURCES.md)",
  );
}

function field(entry: Record<string, unknown>, key: string, where: string): unknown {
  if (!(key in entry)) fail(`${where}: missing "${key}"`);
  return entry[key];
}

function str(entry: Record<string, unknown>, key: string, where: string): string {
  const v = field(entry, key, where);
  if (typeof v !== "string" || v.length === 0) {
    fail(`${where}: "${key}" must be a non-empty string`);
  }
  return v;
}

function bool(entry: Record<string, unknown>, key: string, where: string): boolean {
  const v = field(entry, key, where);
  if (typeof v !== "boolean") fail(`${where}: "${key}" must be a boolean`);
  return v;
}

function hex32(entry: Record<string, unknown>, key: string, where: string): number {
  const v = str(entry, key, where);
  if (!HEX32.test(v)) {
    fail(`${where}: "${key}" must be a lowercase 8-digit hex string like 0x01007efb`);
  }
  return Number.parseInt(v.slice(2), 16);
}

function parseOne(raw: unknown, index: number): HostProfile {
  const where = `profile #${index}`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail(`${where}: not an object`);
  }
  const entry = raw as Record<string, unknown>;
  const name = str(entry, "name", where);
  const at = `${where} (${name})`;
  const linux = str(entry, "linux", at);
  if (!/^\d+\.\d+$/.test(linux)) fail(`${at}: "linux" must look like "6.12"`);
  if (name !== `linux-${linux}`) fail(`${at}: name must be "linux-${linux}"`);
  const signature = str(entry, "signatureEax", at);
  if (!SIGNATURE_EAX.has(signature)) fail(`${at}: "signatureEax" must be 0x40000001 or 0x00000000`);
  str(entry, "stealTime", at);
  const maxVcpus = field(entry, "maxVcpus", at);
  if (typeof maxVcpus !== "number" || !Number.isInteger(maxVcpus) || maxVcpus < 1) {
    fail(`${at}: "maxVcpus" must be a positive integer`);
  }
  const sources = field(entry, "sources", at);
  if (
    !Array.isArray(sources) || sources.length === 0 ||
    !sources.every((s) => typeof s === "string" && s.length > 0)
  ) {
    fail(`${at}: "sources" must be a non-empty array of strings`);
  }
  return {
    name,
    description: str(entry, "description", at),
    linux,
    kvmLeaf: { eax: hex32(entry, "eax", at), edx: hex32(entry, "edx", at) },
    x2apicApi: bool(entry, "x2apicApi", at),
    enforcePvFeatureCpuid: bool(entry, "enforcePvFeatureCpuid", at),
    exitHypercall: bool(entry, "exitHypercall", at),
    maxVcpus,
    source: (sources as string[]).join("; "),
  };
}

/**
 * Validates a `profiles.json`-shaped value and converts it to typed profiles, keeping its order.
 *
 * Throws a `PvkitError` with code `"bad-host-profile"` naming the first bad entry.
 *
 * @example
 * ```ts
 * import { parseHostProfiles } from "@pvkit/hosts";
 * const [p] = parseHostProfiles([{
 *   name: "linux-9.9", linux: "9.9", description: "example", eax: "0x00000001",
 *   edx: "0x00000000", signatureEax: "0x40000001", stealTime: "off", x2apicApi: true,
 *   enforcePvFeatureCpuid: true, exitHypercall: true, maxVcpus: 1024, sources: ["made up"],
 * }]);
 * console.log(p.kvmLeaf.eax); // 1
 * ```
 */
export function parseHostProfiles(raw: unknown): HostProfile[] {
  if (!Array.isArray(raw) || raw.length === 0) fail("profiles must be a non-empty array");
  const profiles = raw.map((entry, i) => parseOne(entry, i));
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.name)) fail(`duplicate profile name "${p.name}"`);
    seen.add(p.name);
  }
  return profiles;
}

const parsed: readonly HostProfile[] = Object.freeze(parseHostProfiles(rawProfiles));

/**
 * The named host profiles shipped with pvkit, newest Linux release first.
 *
 * @example
 * ```ts
 * import { namedProfiles } from "@pvkit/hosts";
 * for (const p of namedProfiles) console.log(p.name, "0x" + p.kvmLeaf.eax.toString(16));
 * ```
 */
export const namedProfiles: readonly HostProfile[] = parsed;

/**
 * Looks up a named host profile by its exact name (e.g. `"linux-6.12"`).
 *
 * @example
 * ```ts
 * import { findNamedProfile } from "@pvkit/hosts";
 * console.log(findNamedProfile("linux-5.10")?.enforcePvFeatureCpuid); // true
 * console.log(findNamedProfile("linux-2.4")); // undefined
 * ```
 */
export function findNamedProfile(name: string): HostProfile | undefined {
  return parsed.find((p) => p.name === name);
}

/**
 * The profile of the newest Linux release pvkit knows about.
 *
 * @example
 * ```ts
 * import { newestProfile } from "@pvkit/hosts";
 * console.log(newestProfile.name); // "linux-6.18"
 * ```
 */
export const newestProfile: HostProfile = parsed[0]!;
