/**
 * `composeQemu()`: what a guest sees for a QEMU command line (`-cpu`, `-machine`, `-smp`,
 * `-accel`), in pvkit's strict mode or reproducing QEMU (`rules: "qemu"`) message for message.
 *
 * QEMU's order of events (QEMU target/i386/cpu.c-§5, checked against QEMU 7.2 in tests/qemu72):
 * `-cpu` parsing (ambiguity warnings), `-smp` and the machine's CPU limit, accelerator set-up
 * (recommended/maximum vCPU warnings), the >255 APIC ID check, then every vCPU is created
 * (properties applied: first bad one is fatal) and realized (`+`/`-` flags, per-vCPU filter
 * warnings, `enforce`, APIC warnings), and at reset the PV MSRs are written.
 *
 * @module
 */

import {
  apicIdLimit,
  type ComposedMachine,
  composeMachine,
  type CompositionRequest,
  type HostCapabilities,
  type IrqchipMode,
  type PluginRegistry,
  PvkitError,
  type RulesMode,
  type SmpTopology,
} from "@pvkit/machine";
import { ComposedMachine as Composed } from "@pvkit/machine";
import { parseCpuOption } from "./cpu_option.ts";
import { classifyCpuItems } from "./cpu_settings.ts";
import { didYouMean } from "./did_you_mean.ts";
import {
  parseAccelOption,
  parseIrqchip,
  parseMachineOption,
  PVKIT_MACHINE_TYPE,
} from "./machine_option.ts";
import { type QemuDialect, qemuDialect, type QemuVersion } from "./qemu_dialect.ts";
import { QemuOptionError } from "./option_error.ts";
import { parseSmpOption } from "./smp_option.ts";

/** A QEMU command line, as far as KVM PV features go. Missing options take QEMU's defaults. */
export interface QemuCommandLine {
  /** `-cpu` (default `qemu64`). */
  readonly cpu?: string;
  /** `-machine` (default `pc`). */
  readonly machine?: string;
  /** `-smp` (default 1). */
  readonly smp?: string | number;
  /** `-accel` (pvkit assumes `kvm` when absent; QEMU itself would pick TCG). */
  readonly accel?: string;
}

/** Host facts beyond composition's: KVM_CAP_NR_VCPUS, the recommended vCPU count. */
export interface QemuHost extends HostCapabilities {
  /** KVM_CAP_NR_VCPUS (QEMU warns above it); unknown for named profiles. */
  readonly recommendedVcpus?: number;
}

/** Everything `composeQemu()` needs besides the command line. */
export interface QemuComposeContext {
  /** The known features. */
  readonly registry: PluginRegistry;
  /** The host. */
  readonly host: QemuHost;
  /** `strict` (default) or `qemu`. */
  readonly rules?: RulesMode;
  /** The QEMU version to reproduce (default `current`). */
  readonly qemuVersion?: QemuVersion;
}

const USERSPACE_APIC_WARNINGS = [
  "Userspace local APIC is deprecated for KVM.",
  "Do not use kernel-irqchip except for the -M isapc machine type.",
];

/** MSR_KVM_ASYNC_PF_INT: QEMU writes it at reset when bit 14 is set (QEMU target/i386/machine.c). */
const MSR_KVM_ASYNC_PF_INT = 0x4b564d06;

interface Messages {
  warnings: string[];
  notes: string[];
  errors: string[];
}

function failure(
  context: QemuComposeContext,
  model: string,
  machine: { type: string; irqchip: IrqchipMode; smp: number },
  messages: Messages,
): ComposedMachine {
  return new Composed({
    profile: context.host.name,
    rules: context.rules ?? "strict",
    model,
    // The documented key order (type, irqchip, x2apic, smp), as on success.
    machine: { type: machine.type, irqchip: machine.irqchip, x2apic: false, smp: machine.smp },
    leaves: {},
    features: [],
    filtered: [],
    ...messages,
  }, context.registry);
}

function errorText(e: PvkitError): string {
  return e.message;
}

/**
 * Composes the machine a QEMU command line describes. User mistakes never throw: they come
 * back in `errors` (with QEMU's text in `qemu` mode, plus pvkit's hints in `notes`).
 *
 * @example
 * ```ts
 * import { composeQemu } from "@pvkit/qemu";
 * import { PluginRegistry } from "@pvkit/machine";
 * const host = { name: "example", kvmLeaf: { eax: 0x01007efb, edx: 0 }, x2apicApi: true, maxVcpus: 1024 };
 * const m = composeQemu({ cpu: "host,kvm-pv-ipi=off", machine: "q35,kernel-irqchip=split", smp: 4 },
 *   { registry: new PluginRegistry(), host, rules: "qemu" });
 * console.log(m.ok, m.machine.irqchip); // true split
 * ```
 */
export function composeQemu(line: QemuCommandLine, context: QemuComposeContext): ComposedMachine {
  const dialect = qemuDialect(context.qemuVersion ?? "current");
  const rules = context.rules ?? "strict";
  const messages: Messages = { warnings: [], notes: [], errors: [] };
  const cpuText = line.cpu ?? "qemu64";
  let modelName = cpuText.split(",")[0];
  let summary = { type: line.machine ?? "pc", irqchip: "on" as IrqchipMode, smp: 1 };
  try {
    return composeChecked(
      line,
      context,
      dialect,
      rules,
      messages,
      (s) => summary = { ...summary, ...s },
      (m) => modelName = m,
    );
  } catch (e) {
    if (!(e instanceof PvkitError)) throw e;
    messages.errors.push(errorText(e));
    if (e.hint) messages.notes.push(e.hint);
    return failure(context, modelName, summary, messages);
  }
}

function composeChecked(
  line: QemuCommandLine,
  context: QemuComposeContext,
  dialect: QemuDialect,
  rules: RulesMode,
  messages: Messages,
  report: (s: Partial<{ type: string; irqchip: IrqchipMode; smp: number }>) => void,
  reportModel: (m: string) => void,
): ComposedMachine {
  const { host, registry } = context;
  const qemuMode = rules === "qemu";

  // -cpu: the model and the feature string.
  const cpuOption = parseCpuOption(line.cpu ?? "qemu64");
  const model = dialect.models.get(cpuOption.model);
  if (!model) {
    throw new QemuOptionError(
      `unable to find CPU model '${cpuOption.model}'`,
      () =>
        didYouMean(cpuOption.model, dialect.models.keys()) ?? "see `pvkit cpu-help` for the models",
    );
  }
  reportModel(model.name);
  const early: string[] = [...cpuOption.warnings];

  // -machine and -accel.
  const machineOption = parseMachineOption(
    line.machine ?? "pc",
    dialect,
    qemuMode ? [] : [PVKIT_MACHINE_TYPE],
  );
  const type = machineOption.type;
  report({ type: type.name });
  if (type.deprecated) early.push(type.deprecated);
  const accelOption = line.accel !== undefined ? parseAccelOption(line.accel) : undefined;
  const accelName = accelOption?.accel ?? machineOption.accel ?? "kvm";
  if (accelName !== "kvm" && accelName !== "tcg") {
    throw new QemuOptionError(`invalid accelerator ${accelName}`, "use -accel kvm or -accel tcg");
  }
  const location = accelOption ? `-accel ${accelOption.text}: ` : "";
  let irqchip: IrqchipMode = accelOption?.irqchip ?? type.defaultIrqchip;
  if (
    accelOption?.irqchip === undefined && machineOption.irqchipText !== undefined &&
    accelName === "kvm"
  ) {
    irqchip = parseIrqchip(machineOption.irqchipText, location);
  }
  if (accelName === "tcg") irqchip = "off";
  report({ irqchip });
  if ((model.kind === "host") && accelName !== "kvm") {
    throw new QemuOptionError(
      `CPU model 'host' requires KVM or HVF`,
      "use -accel kvm, or -cpu max",
    );
  }

  // -smp and the machine's limit.
  const topology: SmpTopology = parseSmpOption(String(line.smp ?? "1"), {
    preferSockets: type.preferSockets,
    zero: dialect.smpZero,
    warn: (message) => early.push(message),
  });
  report({ smp: topology.cpus });
  if (topology.maxCpus > type.maxCpus) {
    throw new QemuOptionError(
      `Invalid SMP CPUs ${topology.maxCpus}. The max CPUs supported by machine '${type.name}' is ${type.maxCpus}`,
      `use at most ${type.maxCpus} vCPUs, or a machine type that allows more`,
    );
  }

  // KVM accelerator set-up: KVM_CAP_NR_VCPUS (soft) and KVM_CAP_MAX_VCPUS (hard) limits.
  if (accelName === "kvm") {
    const soft = host.recommendedVcpus;
    for (
      const [what, count] of [["SMP", topology.cpus], ["hotpluggable", topology.maxCpus]] as const
    ) {
      if (qemuMode && count > host.maxVcpus) {
        throw new QemuOptionError(
          `${location}Number of ${what} cpus requested (${count}) exceeds the maximum cpus supported by KVM (${host.maxVcpus})`,
        );
      }
      if (soft !== undefined && count > soft) {
        early.push(
          `${location}Number of ${what} cpus requested (${count}) exceeds the recommended cpus supported by KVM (${soft})`,
        );
      }
    }
    // x86_cpus_init: more than 255 APIC IDs need the X2APIC API (and, in 7.2, an in-kernel irqchip).
    const limit = apicIdLimit(topology);
    const inKernel = irqchip !== "off";
    const refused = dialect.x2apicNeedsInKernelIrqchip
      ? !inKernel || !host.x2apicApi
      : inKernel && !host.x2apicApi;
    if (limit > 255 && refused) {
      messages.warnings.push(...early);
      throw new QemuOptionError(
        "current -smp configuration requires kernel irqchip and X2APIC API support.",
        "use kernel-irqchip=on or split on a host with KVM_CAP_X2APIC_API (Linux 4.7+)",
      );
    }
  }

  // -cpu items: properties when each vCPU object is created, +/- at realize.
  let classified;
  try {
    classified = classifyCpuItems(cpuOption, model, dialect, registry, rules);
  } catch (e) {
    messages.warnings.push(...early);
    throw e;
  }
  const unnamed = registry.features
    .map((f) => f.manifest)
    .filter((m) => m.qemu.name !== null && !dialect.flagSet.has(m.qemu.name))
    .map((m) => m.name);
  const request: CompositionRequest = {
    registry,
    model: { name: model.name, kind: model.kind, features: model.x2apic ? ["x2apic"] : [] },
    machine: { type: type.name, irqchip, accel: accelName, topology },
    cpu: classified.cpu,
    compat: type.msiExtDestIdOff
      ? [{ feature: "kvm-msi-ext-dest-id", enabled: false, form: "compat" }]
      : [],
    settings: classified.settings,
    host,
    rules,
    tcgSupported: dialect.tcgFeatures,
    unnamed,
    cpuidNotation: dialect.cpuidNotation,
    ...(classified.kvmBase !== undefined ? { kvmBase: classified.kvmBase } : {}),
  };
  const composed = composeMachine(request);

  // Realize, vCPU by vCPU: filter warnings, enforce, APIC checks and warnings.
  const perVcpu: string[] = [];
  const apicWarnings = accelName === "kvm" && irqchip === "off" ? USERSPACE_APIC_WARNINGS : [];
  const errors = [...composed.errors];
  const enforceFailed = composed.errors.length > 0 && qemuMode;
  const vcpus = qemuMode ? topology.cpus : 1;
  for (let i = 0; i < vcpus; i++) {
    perVcpu.push(...composed.filterWarnings);
    if (enforceFailed) break;
    const apicId = composed.vcpus?.apicId(i) ?? i;
    if (qemuMode && dialect.apicIdX2apicCheck && apicId >= 255 && !composed.machine.x2apic) {
      errors.push(`APIC ID ${apicId} requires x2APIC feature in CPU`);
      messages.notes.push("Try x2apic=on in -cpu.");
      break;
    }
    perVcpu.push(...apicWarnings);
  }
  const ruleWarnings = composed.warnings.filter((w) => !composed.filterWarnings.includes(w));
  // At reset QEMU writes MSR_KVM_ASYNC_PF_INT, which KVM refuses without an in-kernel LAPIC.
  if (
    qemuMode && errors.length === 0 && accelName === "kvm" && irqchip === "off" &&
    composed.isEnabled("kvm-asyncpf-int")
  ) {
    errors.push(`error: failed to set MSR 0x${MSR_KVM_ASYNC_PF_INT.toString(16)} to 0x0`);
    messages.notes.push(
      "QEMU then aborts (kvm_buf_set_msrs assertion): KVM refuses MSR_KVM_ASYNC_PF_INT without an in-kernel LAPIC",
    );
  }
  const notModelled = [...classified.notModelled, ...machineOption.notModelled];
  if (notModelled.length > 0 && !qemuMode) {
    messages.notes.push(`accepted but not modelled by pvkit: ${notModelled.join(", ")}`);
  }
  return composed.withDiagnostics({
    warnings: [...messages.warnings, ...early, ...perVcpu, ...ruleWarnings],
    notes: [...messages.notes, ...composed.notes],
    errors,
  });
}
