/**
 * The types of a composition: what `composeMachine()` takes and what it reports.
 *
 * @module
 */

import type { Accelerator, IrqchipMode } from "./condition.ts";
import type { Rule } from "./manifest.ts";
import type { PluginRegistry } from "./registry.ts";
import type { SmpTopology } from "./topology.ts";

/**
 * `strict` (pvkit's default) applies every manifest rule; `qemu` reproduces QEMU bit for bit:
 * the same leaves, filtering, warnings and errors, and no rule of pvkit's own.
 */
export type RulesMode = "strict" | "qemu";

/** Why a feature ended up on or off. */
export type FeatureSource = "default" | "user" | "host" | "filtered" | "rule";

/**
 * How a setting was written. QEMU applies `property` settings (`name=on`) in order, then every
 * `plus`, then every `minus` (qemu-kvm-pv.md §2). `api` settings (code, builder) act like
 * properties; `compat` settings come from the machine type and act before all of them.
 */
export type SettingForm = "compat" | "property" | "api" | "plus" | "minus";

/** One request to turn a feature on or off. */
export interface FeatureSetting {
  /** The feature's canonical name (aliases already resolved). */
  readonly feature: string;
  /** On or off. */
  readonly enabled: boolean;
  /** How it was written. */
  readonly form: SettingForm;
}

/** What kind of CPU model the machine uses. */
export type CpuModelKind = "builtin" | "host" | "max" | "base";

/** The CPU model a machine starts from. */
export interface CpuModelInfo {
  /** The model's name, e.g. `"qemu64"`. */
  readonly name: string;
  /**
   * `builtin` models get QEMU's KVM defaults (`kvm_default_props`); `host` and `max` get every
   * supported feature; `base` gets neither.
   */
  readonly kind: CpuModelKind;
  /** Modelled features the model's own definition turns on (e.g. `x2apic`). */
  readonly features?: readonly string[];
}

/** CPU properties that change how features are resolved (QEMU's `x86_cpu_properties`). */
export interface CpuProperties {
  /** `kvm` (default true); false hides the KVM leaves. */
  readonly kvm: boolean;
  /** `check` (default true): warn about filtered features. */
  readonly check: boolean;
  /** `enforce` (default false): filtered features are fatal. */
  readonly enforce: boolean;
  /** `migratable` (default true): host/max pass through named bits only. */
  readonly migratable: boolean;
  /** `x-force-features`: keep filtered bits, still warn. */
  readonly forceFeatures: boolean;
  /** `kvm-pv-enforce-cpuid`: KVM refuses PV MSRs and hypercalls the CPUID does not advertise. */
  readonly pvEnforceCpuid: boolean;
}

/** The default CPU properties. */
export const DEFAULT_CPU_PROPERTIES: CpuProperties = Object.freeze({
  kvm: true,
  check: true,
  enforce: false,
  migratable: true,
  forceFeatures: false,
  pvEnforceCpuid: false,
});

/** What the host KVM offers, as far as composition needs it. */
export interface HostCapabilities {
  /** The profile's name, reported in every result (e.g. `"kvm"`, `"linux-6.12"`). */
  readonly name: string;
  /** KVM_GET_SUPPORTED_CPUID leaf 0x40000001: EAX features, EDX hints. */
  readonly kvmLeaf: { readonly eax: number; readonly edx: number };
  /** KVM_CAP_X2APIC_API (32-bit APIC IDs). */
  readonly x2apicApi: boolean;
  /** KVM's maximum vCPUs per VM. */
  readonly maxVcpus: number;
}

/** The machine around the CPU. */
export interface MachineSpec {
  /** The machine type's name (resolved, e.g. `"pc-q35-7.2"`). */
  readonly type: string;
  /** The irqchip mode. */
  readonly irqchip: IrqchipMode;
  /** The accelerator. */
  readonly accel: Accelerator;
  /** The vCPU topology. */
  readonly topology: SmpTopology;
}

/** Messages produced while composing. */
export interface Diagnostics {
  /** Warnings: the machine works, but not as the user may expect. */
  readonly warnings: string[];
  /** Notes: decisions pvkit made (defaults dropped, features unused by Linux…). */
  readonly notes: string[];
  /** Errors: the machine cannot be built as asked. */
  readonly errors: string[];
}

/** Everything `composeMachine()` needs. */
export interface CompositionRequest {
  /** The known features. */
  readonly registry: PluginRegistry;
  /** The CPU model. */
  readonly model: CpuModelInfo;
  /** The machine. */
  readonly machine: MachineSpec;
  /** CPU properties (missing ones take their defaults). */
  readonly cpu?: Partial<CpuProperties>;
  /** Machine-type compat settings, applied before the user's. */
  readonly compat?: readonly FeatureSetting[];
  /** The user's settings, in command-line order. */
  readonly settings?: readonly FeatureSetting[];
  /** The host. */
  readonly host: HostCapabilities;
  /** The rules mode. */
  readonly rules: RulesMode;
  /** Modelled features TCG supports (only used with `accel: "tcg"`). */
  readonly tcgSupported?: readonly string[];
  /** Machine-level rules; the core's are used when absent. */
  readonly machineRules?: readonly Rule[];
  /** Where the KVM leaves start: 0x40000000, or 0x40000100 behind Hyper-V leaves. */
  readonly kvmBase?: number;
  /**
   * Features this QEMU version has no name for (kvm-asyncpf-vmexit in QEMU 7.2): host/max pass
   * their bits through only with `migratable=off`, and filter warnings show the bare bit.
   */
  readonly unnamed?: readonly string[];
  /** How filter warnings write a CPUID register (QEMU 7.2: `legacy`; newer: `bracketed`). */
  readonly cpuidNotation?: CpuidNotation;
  /** Messages from earlier stages (option parsing), reported first. */
  readonly diagnostics?: Partial<Diagnostics>;
}

/** `legacy`: `CPUID.40000001H:EAX` (QEMU 7.2); `bracketed`: `CPUID[eax=40000001h].EAX`. */
export type CpuidNotation = "legacy" | "bracketed";

/** The registers of one leaf as pvkit's JSON prints them. */
export interface LeafJson {
  /** EAX, `"0x"` + 8 lowercase hex digits. */
  readonly eax: string;
  /** EBX. */
  readonly ebx: string;
  /** ECX. */
  readonly ecx: string;
  /** EDX. */
  readonly edx: string;
}

/** One feature's final state, as pvkit's JSON prints it. */
export interface FeatureJson {
  /** The feature's name. */
  readonly name: string;
  /** Where its bits live, e.g. `"0x40000001.eax[0,3]"`. */
  readonly bits: string;
  /** Whether the guest sees it. */
  readonly enabled: boolean;
  /** Why. */
  readonly source: FeatureSource;
}

/** The result of a composition, exactly the shape `pvkit describe --json` prints. */
export interface MachineDescription {
  /** The host profile used. */
  readonly profile: string;
  /** The rules mode. */
  readonly rules: RulesMode;
  /** The CPU model. */
  readonly model: string;
  /** The machine. */
  readonly machine: {
    readonly type: string;
    readonly irqchip: IrqchipMode;
    readonly x2apic: boolean;
    readonly smp: number;
    /**
     * `kvm-pv-enforce-cpuid=on`: the VMM enables KVM_CAP_ENFORCE_PV_FEATURE_CPUID on every
     * vCPU (QEMU: `kvm_arch_init_vcpu`). Present only when on.
     */
    readonly pvEnforceCpuid?: boolean;
  };
  /** The KVM leaves the guest sees, keyed `"0x40000000"`, `"0x40000001"`; empty with kvm=off. */
  readonly leaves: Readonly<Record<string, LeafJson>>;
  /** Every known feature's final state. */
  readonly features: readonly FeatureJson[];
  /** Names of the features removed because the host cannot provide them. */
  readonly filtered: readonly string[];
  /** Warnings. */
  readonly warnings: readonly string[];
  /** Notes. */
  readonly notes: readonly string[];
  /** Errors; non-empty means the machine cannot be built as asked. */
  readonly errors: readonly string[];
}
