/**
 * What differs between the QEMU versions pvkit reproduces: flag and property names, CPU
 * models, machine types and a few texts. Data lives in `data/` (see data/README.md for where
 * each table comes from).
 *
 * @module
 */

import type { IrqchipMode } from "@pvkit/machine";
import flagsJson from "./data/cpu-flags.json" with { type: "json" };
import modelsJson from "./data/cpu-models.json" with { type: "json" };
import propertiesJson from "./data/cpu-properties.json" with { type: "json" };
import machinesJson from "./data/machine-types.json" with { type: "json" };
import type { SmpZeroPolicy } from "./smp_option.ts";

/** The QEMU versions pvkit can reproduce: the 7.2 reference binary, and current QEMU (10.2). */
export type QemuVersion = "7.2" | "current";

/** The QEMU versions, newest first. */
export const QEMU_VERSIONS: readonly QemuVersion[] = ["current", "7.2"];

/** How a `-cpu` property takes its value. */
export type PropertyType = "bool" | "int" | "uint" | "string" | "on-off-auto" | "link" | "readonly";

/** A CPU model as QEMU lists it. */
export interface QemuCpuModel {
  /** The name `-cpu` takes. */
  readonly name: string;
  /** `builtin` models get QEMU's KVM defaults; `host`/`max` pass host features through. */
  readonly kind: "builtin" | "host" | "max" | "base";
  /** The CPUID vendor of the definition (null for host/max/base). */
  readonly vendor: string | null;
  /** Whether the model's definition includes x2APIC. */
  readonly x2apic: boolean;
  /** The model's `-cpu help` description. */
  readonly description: string;
}

/** A resolved machine type. */
export interface QemuMachineType {
  /** The resolved name, e.g. `pc-q35-7.2` for `q35`. */
  readonly name: string;
  /** The family. */
  readonly family: "pc-i440fx" | "pc-q35" | "microvm" | "isapc" | "pvkit";
  /** The version (e.g. `[7, 2]`, `[4, 0, 1]`), absent for unversioned families. */
  readonly version?: readonly number[];
  /** The largest `-smp` maxcpus it accepts. */
  readonly maxCpus: number;
  /** Its irqchip when `kernel-irqchip` is not given: split on pc-q35-4.0 and microvm. */
  readonly defaultIrqchip: IrqchipMode;
  /** Set when QEMU warns that the machine type is deprecated. */
  readonly deprecated?: string;
  /** pc-*-5.1 and older: `kvm-msi-ext-dest-id=off` compat (QEMU hw/i386/pc.c). */
  readonly msiExtDestIdOff: boolean;
  /** pc-*-6.1 and older fill `-smp N` as N sockets; newer as N cores. */
  readonly preferSockets: boolean;
}

/** Everything version-specific about one QEMU version. */
export interface QemuDialect {
  /** The version. */
  readonly version: QemuVersion;
  /** A label for output, e.g. `"QEMU 7.2"`. */
  readonly label: string;
  /** Every feature-flag name, as `-cpu help` lists them (sorted, kvmclock twice). */
  readonly flags: readonly string[];
  /** The same names as a set. */
  readonly flagSet: ReadonlySet<string>;
  /** Non-flag `-cpu` properties and their types. */
  readonly properties: ReadonlyMap<string, PropertyType>;
  /** Property aliases (`kvm_pv_eoi` → `kvm-pv-eoi`, `sse3` → `pni`). */
  readonly aliases: ReadonlyMap<string, string>;
  /** CPU models by name. */
  readonly models: ReadonlyMap<string, QemuCpuModel>;
  /** The default machine type (`pc` resolved). */
  readonly defaultMachine: string;
  /** `legacy`: `CPUID.40000001H:EAX`; `bracketed`: `CPUID[eax=40000001h].EAX` (newer QEMU). */
  readonly cpuidNotation: "legacy" | "bracketed";
  /** Whether QEMU checks APIC IDs >= 255 against x2apic per vCPU (added after 7.2). */
  readonly apicIdX2apicCheck: boolean;
  /** Whether `x86_cpus_init` fails >255 APIC IDs without an in-kernel irqchip (7.2). */
  readonly x2apicNeedsInKernelIrqchip: boolean;
  /** An explicit 0 in `-smp`: an error (9.0+) or a deprecation warning (7.2). */
  readonly smpZero: SmpZeroPolicy;
  /** Modelled features TCG can provide in this version. */
  readonly tcgFeatures: readonly string[];
  /** Resolves a machine type name (aliases included); undefined if QEMU rejects it. */
  resolveMachine(name: string): QemuMachineType | undefined;
  /** Every machine type name `-machine` accepts, aliases included. */
  machineNames(): string[];
}

interface MaxCpusRange {
  from: string;
  to: string;
  max: number;
}

function parseVersion(text: string): number[] {
  return text.split(".").map(Number);
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when `version` is `limit` or older. */
function atMost(version: readonly number[], limit: string): boolean {
  return compareVersions(version, parseVersion(limit)) <= 0;
}

type VersionFamilies = Record<string, {
  versions?: string[];
  deprecated?: string[];
  maxCpus: number | MaxCpusRange[];
}>;

function buildDialect(version: QemuVersion): QemuDialect {
  const flags = flagsJson.versions[version];
  const inVersion = (entry: { in72: boolean; inCurrent: boolean | null }) =>
    version === "7.2" ? entry.in72 : entry.inCurrent !== false;
  const properties = new Map<string, PropertyType>();
  for (const p of propertiesJson.properties) {
    if (inVersion(p)) properties.set(p.name, p.type as PropertyType);
  }
  const aliases = new Map<string, string>(Object.entries(propertiesJson.aliases));
  const models = new Map<string, QemuCpuModel>();
  for (const m of modelsJson.models) {
    if (!inVersion(m)) continue;
    const kind = m.kind === "special" ? (m.name as "host" | "max" | "base") : "builtin";
    models.set(m.name, {
      name: m.name,
      kind,
      vendor: m.vendor,
      x2apic: m.x2apic === true,
      description: m.desc,
    });
  }
  const data = machinesJson.versions[version];
  const families = data.families as unknown as VersionFamilies;
  const aliasMap = new Map<string, string>(Object.entries(data.aliases));
  const resolveMachine = (name: string): QemuMachineType | undefined => {
    const resolved = aliasMap.get(name) ?? name;
    for (const family of ["pc-i440fx", "pc-q35"] as const) {
      const prefix = `${family}-`;
      if (!resolved.startsWith(prefix)) continue;
      const text = resolved.slice(prefix.length);
      const info = families[family];
      if (!info.versions?.includes(text)) return undefined;
      const v = parseVersion(text);
      const ranges = info.maxCpus as MaxCpusRange[];
      const range = ranges.find((r) =>
        compareVersions(v, parseVersion(r.from)) >= 0 && atMost(v, r.to)
      );
      const deprecated = info.deprecated?.includes(text)
        ? `Machine type '${resolved}' is deprecated: old and unattended - use a newer version instead`
        : undefined;
      return {
        name: resolved,
        family,
        version: v,
        maxCpus: range?.max ?? 255,
        defaultIrqchip: resolved === "pc-q35-4.0" ? "split" : "on",
        msiExtDestIdOff: atMost(v, "5.1"),
        preferSockets: atMost(v, "6.1"),
        ...(deprecated ? { deprecated } : {}),
      };
    }
    if (resolved === "microvm" || resolved === "isapc") {
      return {
        name: resolved,
        family: resolved,
        maxCpus: families[resolved].maxCpus as number,
        defaultIrqchip: resolved === "microvm" ? "split" : "on",
        msiExtDestIdOff: false,
        preferSockets: false,
      };
    }
    return undefined;
  };
  const machineNames = (): string[] => {
    const names = [...aliasMap.keys(), "microvm", "isapc"];
    for (const family of ["pc-i440fx", "pc-q35"]) {
      for (const v of families[family].versions ?? []) names.push(`${family}-${v}`);
    }
    return names;
  };
  return {
    version,
    label: version === "7.2" ? "QEMU 7.2" : "QEMU 10.2 (current)",
    flags,
    flagSet: new Set(flags),
    properties,
    aliases,
    models,
    defaultMachine: data.default,
    cpuidNotation: version === "7.2" ? "legacy" : "bracketed",
    apicIdX2apicCheck: version !== "7.2",
    x2apicNeedsInKernelIrqchip: version === "7.2",
    smpZero: version === "7.2" ? "warn" : "error",
    // TCG gained x2APIC after 7.2 (tests/qemu72: tcg-x2apic-on warns).
    tcgFeatures: version === "7.2" ? [] : ["x2apic"],
    resolveMachine,
    machineNames,
  };
}

const dialects = new Map<QemuVersion, QemuDialect>();

/**
 * The dialect of a QEMU version (built once, then cached).
 *
 * @example
 * ```ts
 * import { qemuDialect } from "@pvkit/qemu";
 * const qemu72 = qemuDialect("7.2");
 * console.log(qemu72.resolveMachine("q35")?.maxCpus); // 288
 * ```
 */
export function qemuDialect(version: QemuVersion = "current"): QemuDialect {
  let dialect = dialects.get(version);
  if (!dialect) {
    dialect = buildDialect(version);
    dialects.set(version, dialect);
  }
  return dialect;
}
