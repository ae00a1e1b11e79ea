/**
 * Which kind of KVM this process sees, for people (`pvkit doctor`) and for deciding where KVM
 * tests can run: a hardware-assisted KVM, KVM nested in a hardware-assisted VM, KVM inside a QEMU
 * TCG guest (`pvkit nested`), a PVM-backed `/dev/kvm` (software virtualization; hypercalls hang
 * the vCPU), or none.
 *
 * @module
 */

/**
 * The kinds: `hardware` (bare metal), `nested` (KVM in a hardware-assisted VM), `nested-tcg`
 * (KVM in a QEMU TCG guest), `pvm` (the kvm_pvm module backs /dev/kvm; hypercalls hang),
 * `unknown` (usable, but the hypercall check gave no verdict), `none` (no usable /dev/kvm).
 */
export type KvmKind = "hardware" | "nested" | "nested-tcg" | "pvm" | "unknown" | "none";

/** The facts {@linkcode classifyKvm} decides from. */
export interface KvmKindFacts {
  /** Whether /dev/kvm is usable by this process. */
  usable: boolean;
  /** The hypercall check's verdict (`works`, `unavailable` = hangs, `unknown`). */
  hypercalls: "works" | "unavailable" | "unknown";
  /** Whether the kvm_pvm module is loaded (`/sys/module/kvm_pvm`). */
  pvmModule: boolean;
  /** Whether the CPU reports the `hypervisor` flag (this Linux is itself a guest). */
  hypervisorFlag: boolean;
  /** Whether `pvkit nested` started this process (`PVKIT_NESTED=tcg`). */
  nestedTcg: boolean;
}

/** A kind with a sentence for people. */
export interface KvmKindReport {
  /** The kind. */
  readonly kind: KvmKind;
  /** What it means for pvkit. */
  readonly detail: string;
  /** Whether hypercalls, HLT and kicks behave as on a hardware KVM (what KVM tests need). */
  readonly real: boolean;
}

/**
 * Classifies a KVM from {@linkcode KvmKindFacts}.
 *
 * @example
 * ```ts
 * import { classifyKvm } from "@pvkit/kvm";
 * const r = classifyKvm({
 *   usable: true, hypercalls: "unavailable", pvmModule: true, hypervisorFlag: true, nestedTcg: false,
 * });
 * console.log(r.kind, r.real); // "pvm" false
 * ```
 */
export function classifyKvm(facts: KvmKindFacts): KvmKindReport {
  if (!facts.usable) return { kind: "none", detail: "no usable /dev/kvm", real: false };
  if (facts.hypercalls === "unavailable") {
    return facts.pvmModule
      ? {
        kind: "pvm",
        detail: "PVM-backed /dev/kvm (kvm_pvm): hypercalls hang the vCPU",
        real: false,
      }
      : { kind: "unknown", detail: "a /dev/kvm whose hypercalls hang the vCPU", real: false };
  }
  if (facts.hypercalls === "unknown") {
    return {
      kind: "unknown",
      detail: "a /dev/kvm whose hypercall check gave no verdict",
      real: false,
    };
  }
  if (facts.nestedTcg) {
    return {
      kind: "nested-tcg",
      detail: "KVM inside a QEMU TCG guest (pvkit nested): real, hypercalls work, slow exits",
      real: true,
    };
  }
  return facts.hypervisorFlag
    ? {
      kind: "nested",
      detail: "KVM nested in a hardware-assisted virtual machine; hypercalls work",
      real: true,
    }
    : { kind: "hardware", detail: "hardware-assisted KVM; hypercalls work", real: true };
}

/**
 * Reads the facts of this machine other than usability and hypercalls: the kvm_pvm module, the
 * CPU's hypervisor flag (/proc/cpuinfo), and `PVKIT_NESTED`.
 *
 * @example
 * ```ts
 * import { hostKvmFacts } from "@pvkit/kvm";
 * console.log(typeof hostKvmFacts().hypervisorFlag); // "boolean"
 * ```
 */
export function hostKvmFacts(): Pick<KvmKindFacts, "pvmModule" | "hypervisorFlag" | "nestedTcg"> {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  let pvmModule = false;
  try {
    pvmModule = Deno.statSync("/sys/module/kvm_pvm").isDirectory;
  } catch {
    // not loaded
  }
  const flags = /^flags\s*:(.*)$/m.exec(read("/proc/cpuinfo"))?.[1].split(/\s+/) ?? [];
  let nested: string | undefined;
  try {
    nested = Deno.env.get("PVKIT_NESTED");
  } catch {
    // no --allow-env: not known to be nested
  }
  return { pvmModule, hypervisorFlag: flags.includes("hypervisor"), nestedTcg: nested === "tcg" };
}

/** How much slower guest work runs inside `pvkit nested` than on a hardware KVM. */
export const NESTED_TCG_TIME_SCALE = 20;

/**
 * The factor to stretch wall-clock budgets (watchdogs, waits) by on this host: 1 on a hardware
 * KVM, {@linkcode NESTED_TCG_TIME_SCALE} inside a QEMU TCG guest (`PVKIT_NESTED=tcg`), where a
 * VM exit costs 20-50x more (tens of µs) and so does everything the guest's kernel does.
 *
 * @example
 * ```ts
 * import { hostTimeScale } from "@pvkit/kvm";
 * const budgetMs = 5000 * hostTimeScale();
 * console.log(budgetMs >= 5000); // true
 * ```
 */
export function hostTimeScale(): number {
  return hostKvmFacts().nestedTcg ? NESTED_TCG_TIME_SCALE : 1;
}
