/**
 * The plugin manifest: everything composition needs to know about a PV feature, as data.
 *
 * Built-in plugins keep theirs in a `manifest.json` beside their code; a third-party plugin
 * passes the same shape in code. {@linkcode parseManifest} checks either.
 *
 * @module
 */

import type { Condition } from "./condition.ts";
import type { CpuidRegister } from "./cpuid.ts";

/** How serious a rule violation is. */
export type RuleLevel = "error" | "warning" | "note";

/**
 * A composition rule. A rule in a plugin's manifest applies while that plugin's feature is
 * enabled (its *owner*); a machine rule has no owner and applies whenever `when` holds.
 *
 * The rule is violated when `when` holds (default: true) and `require` does not (a rule without
 * `require` is violated whenever it applies).
 */
export interface Rule {
  /** Stable identifier, e.g. `"pv-eoi/in-kernel-irqchip"`. */
  readonly id: string;
  /** `error`: the composition fails if the user asked for the owner; a default owner is dropped. */
  readonly level: RuleLevel;
  /** When the rule applies (besides its owner being enabled). */
  readonly when?: Condition;
  /** What must hold while the rule applies. */
  readonly require?: Condition;
  /** What is wrong, in the domain's words. `{feature}` stands for the owner's name. */
  readonly message: string;
  /** How to fix it. */
  readonly fix?: string;
  /** Where the rule comes from (spec section, kernel source). */
  readonly source?: string;
}

/** Where a feature's CPUID bits live. */
export interface CpuidPlacement {
  /** The leaf, relative to the KVM base for leaf 0x40000001 (always the absolute number). */
  readonly leaf: number;
  /** The register holding the bits. */
  readonly register: CpuidRegister;
  /** The bit numbers (kvmclock owns two). */
  readonly bits: readonly number[];
  /** The ABI's name for the bit(s), e.g. `"KVM_FEATURE_PV_EOI"`. */
  readonly abiName: string;
}

/** What decides whether the host can provide a feature. */
export interface HostSupport {
  /** `kernel`: the host KVM must report the bits; `vmm`: the VMM provides the feature itself. */
  readonly provider: "kernel" | "vmm";
  /** An extra condition for support (QEMU drops PV_UNHALT without an in-kernel irqchip). */
  readonly when?: Condition;
  /** Whether `-cpu host`/`max` turn the feature on when supported (kvm-hint-dedicated: no). */
  readonly autoEnable: boolean;
}

/** An MSR the feature governs. */
export interface GovernedMsr {
  /** The MSR index. */
  readonly index: number;
  /** The ABI's name, e.g. `"MSR_KVM_PV_EOI_EN"`. */
  readonly name: string;
}

/** A hypercall the feature governs. */
export interface GovernedHypercall {
  /** The hypercall number (RAX). */
  readonly nr: number;
  /** The ABI's name, e.g. `"KVM_HC_SEND_IPI"`. */
  readonly name: string;
}

/** An I/O port range the feature's host code handles. */
export interface GovernedIoPort {
  /** The first port. */
  readonly first: number;
  /** The last port (inclusive; equal to `first` for one port). */
  readonly last: number;
  /** What the ports are, e.g. `"the POST/I/O-delay port"`. */
  readonly name: string;
}

/** Deprecation or removal facts. */
export interface Lifecycle {
  /** When it happened, e.g. `"Linux 5.10"`. */
  readonly since: string;
  /** Why. */
  readonly reason: string;
  /** What to use instead, if anything. */
  readonly replacement?: string;
}

/** A plugin's manifest, validated. */
export interface PluginManifest {
  /** The feature's pvkit name, equal to QEMU's `-cpu` flag name where QEMU has one. */
  readonly name: string;
  /** The npm/JSR package that implements it, e.g. `"@pvkit/kvm-pv-eoi"`. */
  readonly package: string;
  /** One line saying what the feature is. */
  readonly summary: string;
  /** QEMU's spelling: the flag name and its accepted aliases (underscore forms). */
  readonly qemu: { readonly name: string | null; readonly aliases: readonly string[] };
  /** The CPUID bits that advertise the feature. */
  readonly cpuid: CpuidPlacement;
  /** Default for QEMU's named CPU models under KVM (`kvm_default_props`): a constant or a condition. */
  readonly defaultOn: Condition;
  /** Host support and passthrough. */
  readonly host: HostSupport;
  /** MSRs governed by the feature's CPUID bit. */
  readonly msrs: readonly GovernedMsr[];
  /** Hypercalls governed by the feature's CPUID bit. */
  readonly hypercalls: readonly GovernedHypercall[];
  /** I/O ports the feature's host code handles (absent: none). */
  readonly ioPorts?: readonly GovernedIoPort[];
  /** First versions that have it. */
  readonly since: { readonly linux?: string; readonly qemu?: string };
  /** Set when the feature is deprecated. */
  readonly deprecated?: Lifecycle;
  /** Set when the host no longer implements the feature; asking for it is an error. */
  readonly removed?: Lifecycle;
  /** Composition rules owned by this feature. */
  readonly rules: readonly Rule[];
}

/** A number as a manifest writes it: a JSON number, or a hex or decimal string (`"0x4b564d04"`). */
export type ManifestNumber = number | string;

/**
 * A plugin manifest as written in code, before validation: the shape of a `manifest.json`,
 * with numbers as {@linkcode ManifestNumber}s. {@linkcode definePlugin} checks it again at run
 * time (JavaScript callers, values computed at run time).
 */
export interface PluginManifestInput {
  /** A comment, ignored. */
  readonly $comment?: string;
  /** See {@linkcode PluginManifest.name}. */
  readonly name: string;
  /** See {@linkcode PluginManifest.package}. */
  readonly package: string;
  /** See {@linkcode PluginManifest.summary}. */
  readonly summary: string;
  /** See {@linkcode PluginManifest.qemu}. */
  readonly qemu: { readonly name: string | null; readonly aliases: readonly string[] };
  /** See {@linkcode PluginManifest.cpuid}; the leaf must be 0x40000001. */
  readonly cpuid: {
    readonly leaf: ManifestNumber;
    readonly register: CpuidRegister;
    readonly bits: readonly ManifestNumber[];
    readonly abiName: string;
  };
  /** See {@linkcode PluginManifest.defaultOn}. */
  readonly defaultOn: Condition;
  /** See {@linkcode PluginManifest.host}. */
  readonly host: HostSupport;
  /** See {@linkcode PluginManifest.msrs}. */
  readonly msrs: readonly { readonly index: ManifestNumber; readonly name: string }[];
  /** See {@linkcode PluginManifest.hypercalls}. */
  readonly hypercalls: readonly { readonly nr: ManifestNumber; readonly name: string }[];
  /** See {@linkcode PluginManifest.ioPorts} (`last` defaults to `first`). */
  readonly ioPorts?: readonly {
    readonly first: ManifestNumber;
    readonly last?: ManifestNumber;
    readonly name: string;
  }[];
  /** See {@linkcode PluginManifest.since}. */
  readonly since: { readonly linux?: string; readonly qemu?: string };
  /** See {@linkcode PluginManifest.deprecated}. */
  readonly deprecated?: Lifecycle;
  /** See {@linkcode PluginManifest.removed}. */
  readonly removed?: Lifecycle;
  /** See {@linkcode PluginManifest.rules}. */
  readonly rules: readonly Rule[];
}
