/**
 * The machine `pvkit boot` runs: composed from QEMU's `-cpu`, `-machine` and `-smp` exactly as
 * `pvkit describe` composes it (on the host's real KVM), then checked against what this VMM
 * can emulate.
 *
 * @module
 */

import { type ComposedMachine, PvkitError } from "@pvkit/machine";
import { compose, optionalPluginsNamedIn } from "@pvkit/pvkit";

/** What to compose (QEMU's spellings). */
export interface BootMachineOptions {
  /**
   * `-cpu` (default `host`, unlike QEMU's `qemu64`: the leaves outside the KVM ones come from
   * KVM_GET_SUPPORTED_CPUID in any case, as Firecracker's do, so the KVM leaves follow suit).
   */
  readonly cpu?: string;
  /** `-machine` (default `pc`). */
  readonly machine?: string;
  /** `-smp` (default 1). */
  readonly smp?: string | number;
  /**
   * The host: `kvm` (the real one, the default), a named profile (for tests), or `default`
   * (`pvkit describe`'s default: the real KVM when usable, else the newest profile).
   */
  readonly host?: string;
}

/** The composed machine with the vCPUs' APIC IDs. */
export interface BootMachine {
  /** The composition (`pvkit describe`'s). */
  readonly composed: ComposedMachine;
  /** The vCPUs' APIC IDs, by index. */
  readonly apicIds: readonly number[];
  /** What people should know about how this machine runs on pvkit's VMM. */
  readonly notes: readonly string[];
}

/**
 * The CPU model `pvkit boot` uses without `-cpu`.
 *
 * @example
 * ```ts
 * import { BOOT_DEFAULT_CPU } from "@pvkit/vmm";
 * console.log(BOOT_DEFAULT_CPU); // host
 * ```
 */
export const BOOT_DEFAULT_CPU = "host";

/** The highest xAPIC ID an MP table can name (0xFF is the broadcast ID). */
const MAX_XAPIC_ID = 0xfe;

/**
 * Composes the machine and checks it can boot on pvkit's VMM: the composition must hold
 * (its errors become the message), the irqchip must be in-kernel (`kernel-irqchip=on`), and
 * every APIC ID must fit an MP table.
 *
 * @throws {PvkitError} `boot-bad-machine` with the composition's errors and how to fix them
 * @example
 * ```ts
 * import { composeBootMachine } from "@pvkit/vmm";
 * const m = composeBootMachine({ cpu: "host", smp: 2, host: "linux-6.1" });
 * console.log(m.apicIds, m.composed.machine.irqchip); // [ 0, 1 ] on
 * ```
 */
export function composeBootMachine(options: BootMachineOptions): BootMachine {
  const cpu = options.cpu ?? BOOT_DEFAULT_CPU;
  const optional = optionalPluginsNamedIn(cpu);
  const composed = compose({
    cpu,
    ...(options.machine !== undefined ? { machine: options.machine } : {}),
    ...(options.smp !== undefined ? { smp: options.smp } : {}),
    ...(options.host === "default" ? {} : { host: options.host ?? "kvm" }),
    plugins: optional,
  });
  if (!composed.ok) {
    throw new PvkitError(
      "boot-bad-machine",
      `the machine cannot be composed:\n  ${composed.errors.join("\n  ")}`,
      "`pvkit describe` with the same -cpu/-machine/-smp shows the rules and their fixes",
    );
  }
  const irqchip = composed.machine.irqchip;
  if (irqchip !== "on") {
    throw new PvkitError(
      "boot-bad-machine",
      `pvkit boot needs kernel-irqchip=on, not ${irqchip}: ` +
        (irqchip === "split"
          ? "with a split irqchip the IOAPIC and PIC live in the VMM, and pvkit's VMM has none"
          : "with kernel-irqchip=off the local APICs, IOAPIC and PIC live in the VMM, and " +
            "pvkit's VMM has none"),
      "drop kernel-irqchip=... from -machine (features that need a split irqchip, such as " +
        "kvm-msi-ext-dest-id, cannot boot on pvkit's VMM yet; QEMU boots them)",
    );
  }
  const count = composed.vcpus?.count ?? composed.machine.smp;
  const apicIds = Array.from({ length: count }, (_, i) => composed.vcpus?.apicId(i) ?? i);
  const tooHigh = apicIds.find((id) => id > MAX_XAPIC_ID);
  if (tooHigh !== undefined) {
    throw new PvkitError(
      "boot-bad-machine",
      `APIC ID ${tooHigh} does not fit the MP table pvkit writes (xAPIC IDs 0-${MAX_XAPIC_ID})`,
      "use fewer vCPUs (-smp), or a topology with lower APIC IDs",
    );
  }
  // VMM-provided plugins run their hooks in pvkit's probe backends; the boot VMM offers their
  // CPUID bits but does not route their MSRs or hypercalls to them (KVM then answers alone).
  const notes = optional
    .filter((p) => composed.isEnabled(p.manifest.name))
    .map((p) =>
      `${p.manifest.name}: its CPUID bit is offered, but pvkit boot does not run its VMM hooks ` +
      "(KVM answers its MSR or hypercall alone); Linux uses it only in SEV guests " +
      "(kvm_init_platform, kvm_sev_hc_page_enc_status)"
    );
  return { composed, apicIds, notes };
}
