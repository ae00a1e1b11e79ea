/**
 * The `-machine` and `-accel` options, as far as they matter for KVM PV features: the machine
 * type, the accelerator and `kernel-irqchip` (QEMU hw/i386/x86.c).
 *
 * @module
 */

import type { Accelerator, IrqchipMode } from "@pvkit/machine";
import { didYouMean } from "./did_you_mean.ts";
import type { QemuDialect, QemuMachineType } from "./qemu_dialect.ts";
import { QemuOptionError } from "./option_error.ts";
import { parseOptionList } from "./option_list.ts";

/**
 * Generic machine properties QEMU accepts that pvkit does not model (accepted and reported as
 * not modelled).
 */
const OTHER_MACHINE_PROPERTIES = new Set([
  "usb",
  "smm",
  "vmport",
  "dump-guest-core",
  "mem-merge",
  "graphics",
  "nvdimm",
  "hpet",
  "sata",
  "pit",
  "pic",
  "memory-backend",
  "confidential-guest-support",
  "suppress-vmdesc",
  "dtb",
  "dumpdtb",
  "firmware",
  "kernel",
  "initrd",
  "append",
  "phandle-start",
  "memory-encryption",
  "smbus",
  "acpi",
  "max-ram-below-4g",
  "i8042",
  "default-bus-bypass-iommu",
  "sgx-epc",
  "hmat",
  "nvdimm-persistence",
  "x-oem-id",
  "x-oem-table-id",
  "bus-lock-ratelimit",
  "max-fw-size",
  "pflash0",
  "pflash1",
  "kvm-shadow-mem",
  "igd-passthru",
  "enforce-config-section",
  "boot",
  "fd-bootchk",
  "smp-cache",
  "x-option-roms",
  "rtc",
  "isa-serial",
  "auto-kernel-cmdline",
  "x-auto-kernel-cmdline",
  "pcie",
  "ioapic2",
  "x-ioapic2",
]);

/**
 * pvkit's own machine type for machines assembled in code: no QEMU CPU limit (the core's rules
 * allow up to 32768 vCPUs, the 15-bit APIC ID limit), an in-kernel irqchip by default, no compat
 * settings.
 * Accepted in strict mode only.
 */
export const PVKIT_MACHINE_TYPE: QemuMachineType = Object.freeze({
  name: "pvkit",
  family: "pvkit",
  // No machine limit of its own: the core's rule reports more than 32768 vCPUs.
  maxCpus: 2 ** 31 - 1,
  defaultIrqchip: "on",
  msiExtDestIdOff: false,
  preferSockets: false,
});

/** A parsed `-machine` option. */
export interface MachineOption {
  /** The resolved machine type. */
  readonly type: QemuMachineType;
  /** `kernel-irqchip`, when given. */
  readonly irqchip?: IrqchipMode;
  /** The raw `kernel-irqchip` value, when given (checked against the accelerator later). */
  readonly irqchipText?: string;
  /** `accel=`, the legacy way to choose an accelerator. */
  readonly accel?: string;
  /** Properties accepted but not modelled. */
  readonly notModelled: readonly string[];
}

/** A parsed `-accel` option. */
export interface AccelOption {
  /** The accelerator. */
  readonly accel: Accelerator;
  /** `kernel-irqchip`, when given. */
  readonly irqchip?: IrqchipMode;
  /** The option text, as QEMU uses it for the location of messages (`-accel kvm: …`). */
  readonly text: string;
}

const IRQCHIP_MODES: readonly IrqchipMode[] = ["on", "off", "split"];

/**
 * Parses a `kernel-irqchip` value (QEMU's OnOffSplit: exactly `on`, `off` or `split`).
 *
 * @throws {QemuOptionError} `can't apply global kvm-accel.kernel-irqchip=V: Parameter 'kernel-irqchip' does not accept value 'V'`
 * @example
 * ```ts
 * import { parseIrqchip } from "@pvkit/qemu";
 * console.log(parseIrqchip("split", "")); // "split"
 * ```
 */
export function parseIrqchip(value: string, location: string, viaGlobal = true): IrqchipMode {
  if (IRQCHIP_MODES.includes(value as IrqchipMode)) return value as IrqchipMode;
  const core = `Parameter 'kernel-irqchip' does not accept value '${value}'`;
  throw new QemuOptionError(
    `${location}${
      viaGlobal ? `can't apply global kvm-accel.kernel-irqchip=${value}: ` : ""
    }${core}`,
    "use kernel-irqchip=on, off or split",
  );
}

/**
 * Parses `-machine`. The type comes first (or as `type=`); `pc`/`q35` resolve to the newest
 * version the dialect has.
 *
 * @throws {QemuOptionError} `unsupported machine type`, or a property QEMU does not know
 * @example
 * ```ts
 * import { parseMachineOption, qemuDialect } from "@pvkit/qemu";
 * const m = parseMachineOption("q35,kernel-irqchip=split", qemuDialect("7.2"));
 * console.log(m.type.name, m.irqchipText); // pc-q35-7.2 split
 * ```
 */
export function parseMachineOption(
  text: string,
  dialect: QemuDialect,
  extraTypes: readonly QemuMachineType[] = [],
): MachineOption {
  const pairs = parseOptionList(text, "type");
  const typeName = pairs.find((p) => p.key === "type")?.value ?? dialect.defaultMachine;
  const type = extraTypes.find((t) => t.name === typeName) ?? dialect.resolveMachine(typeName);
  if (!type) {
    throw new QemuOptionError("unsupported machine type", () => {
      const hint = didYouMean(typeName, [
        ...dialect.machineNames(),
        ...extraTypes.map((t) => t.name),
      ]);
      return `Use -machine help to list supported machines${hint ? `; ${hint}` : ""}`;
    });
  }
  let irqchipText: string | undefined;
  let accel: string | undefined;
  const notModelled: string[] = [];
  for (const { key, value } of pairs) {
    if (key === "type") continue;
    if (key === "kernel-irqchip") irqchipText = value;
    else if (key === "accel") accel = value;
    else if (OTHER_MACHINE_PROPERTIES.has(key)) notModelled.push(`-machine ${key}=${value}`);
    else {
      const hint = () => didYouMean(key, ["kernel-irqchip", "accel", ...OTHER_MACHINE_PROPERTIES]);
      throw new QemuOptionError(`Property '${type.name}-machine.${key}' not found`, hint);
    }
  }
  return {
    type,
    ...(irqchipText !== undefined ? { irqchipText } : {}),
    ...(accel !== undefined ? { accel } : {}),
    notModelled,
  };
}

/**
 * Parses `-accel` (`kvm` or `tcg`, with `kernel-irqchip` for kvm).
 *
 * @throws {QemuOptionError} `-accel foo: invalid accelerator foo`, or a bad `kernel-irqchip`
 * @example
 * ```ts
 * import { parseAccelOption } from "@pvkit/qemu";
 * console.log(parseAccelOption("kvm,kernel-irqchip=split").irqchip); // "split"
 * ```
 */
export function parseAccelOption(text: string): AccelOption {
  const location = `-accel ${text}: `;
  const pairs = parseOptionList(text, "accel");
  const name = pairs.find((p) => p.key === "accel")?.value ?? "";
  if (name !== "kvm" && name !== "tcg") {
    throw new QemuOptionError(
      `${location}invalid accelerator ${name}`,
      "pvkit models the kvm and tcg accelerators",
    );
  }
  let irqchip: IrqchipMode | undefined;
  for (const { key, value } of pairs) {
    if (key === "accel") continue;
    if (key === "kernel-irqchip" && name === "kvm") irqchip = parseIrqchip(value, location, false);
    else if (
      ![
        "kvm-shadow-mem",
        "dirty-ring-size",
        "eager-split-size",
        "notify-vmexit",
        "notify-window",
        "thread",
        "tb-size",
        "split-wx",
        "one-insn-per-tb",
      ].includes(key)
    ) {
      throw new QemuOptionError(`${location}Property '${name}-accel.${key}' not found`);
    }
  }
  return { accel: name, ...(irqchip ? { irqchip } : {}), text };
}
