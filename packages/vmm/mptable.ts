/**
 * The Intel MultiProcessor Specification 1.4 table that tells Linux about the vCPUs and the
 * IOAPIC when there is no ACPI (spec §2.4; Firecracker's `mptable.rs`; Linux's
 * arch/x86/kernel/mpparse.c reads it). Without it Linux brings up one CPU only.
 *
 * Layout at {@linkcode MPTABLE_GPA}: the 16-byte floating pointer (`_MP_`), then the
 * configuration table (`PCMP` header, then one processor entry per vCPU, the ISA bus, the
 * IOAPIC, 24 identity-mapped ISA interrupts, and the ExtINT/NMI local interrupts). Each of the
 * two structures sums to 0 mod 256.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import type { GuestChunk } from "@pvkit/x86";
import { IOAPIC_GPA, LAPIC_GPA, MPTABLE_GPA, MPTABLE_LIMIT } from "./boot_layout.ts";

/**
 * The most vCPUs an MP table describes here: xAPIC IDs are 8 bits, 0xFF is the broadcast ID,
 * and the IOAPIC takes one more (Firecracker's `MAX_SUPPORTED_CPUS`).
 *
 * @example
 * ```ts
 * import { MPTABLE_MAX_CPUS } from "@pvkit/vmm";
 * console.log(MPTABLE_MAX_CPUS); // 254
 * ```
 */
export const MPTABLE_MAX_CPUS = 254;

/**
 * IOAPIC pins the table routes, 0-23: ISA IRQ i to pin i, as KVM's default routing
 * (`kvm_setup_default_irq_routing`) and Firecracker's table have it.
 *
 * @example
 * ```ts
 * import { MPTABLE_IOAPIC_PINS } from "@pvkit/vmm";
 * console.log(MPTABLE_IOAPIC_PINS); // 24
 * ```
 */
export const MPTABLE_IOAPIC_PINS = 24;

/** Entry types (MP spec table 4-3). */
const MP_PROCESSOR = 0;
const MP_BUS = 1;
const MP_IOAPIC = 2;
const MP_INTSRC = 3;
const MP_LINTSRC = 4;
/** Interrupt types (MP spec table 4-8). */
const MP_INT = 0;
const MP_NMI = 1;
const MP_EXTINT = 3;

const CPU_ENABLED = 1;
const CPU_BOOTPROCESSOR = 2;
const MPC_APIC_USABLE = 1;
const APIC_VERSION = 0x14; // an integrated local APIC, as KVM's
const CPU_STEPPING = 0x600; // family 6
const CPU_FEATURE_FPU = 0x001;
const CPU_FEATURE_APIC = 0x200;
const MP_SPEC_REVISION = 4; // MP spec 1.4

const MPF_SIZE = 16;
const MPC_HEADER_SIZE = 44;
const MPC_CPU_SIZE = 20;
const MPC_SMALL_ENTRY_SIZE = 8; // bus, ioapic, intsrc, lintsrc
const MAX_APIC_ID = 0xfe;

/**
 * Bytes of the MP table (floating pointer included) for `cpus` vCPUs: 284 + 20 per vCPU.
 *
 * @example
 * ```ts
 * import { mpTableSize } from "@pvkit/vmm";
 * console.log(mpTableSize(1), mpTableSize(4)); // 304 364
 * ```
 */
export function mpTableSize(cpus: number): number {
  return MPF_SIZE + MPC_HEADER_SIZE + MPC_CPU_SIZE * cpus +
    MPC_SMALL_ENTRY_SIZE * (2 + MPTABLE_IOAPIC_PINS + 2);
}

/**
 * Options of {@linkcode buildMpTable}.
 *
 * @example
 * ```ts
 * import type { MpTableOptions } from "@pvkit/vmm";
 * const opts: MpTableOptions = { ioapicId: 8 };
 * console.log(opts.gpa); // undefined: 0x9FC00
 * ```
 */
export interface MpTableOptions {
  /** The IOAPIC's ID: any ID no vCPU has (default: the highest vCPU APIC ID + 1; Firecracker
   * uses ncpus + 1). */
  readonly ioapicId?: number;
  /** Where the table goes (default {@linkcode MPTABLE_GPA}); `physptr` points into it. */
  readonly gpa?: bigint;
}

/** Adds up bytes mod 256. */
function byteSum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/**
 * The MP table for vCPUs with local APIC IDs `apicIds` (the first is the boot CPU), as bytes
 * for {@linkcode MPTABLE_GPA}. Throws {@linkcode PvkitError} `vmm-too-many-cpus` past
 * {@linkcode MPTABLE_MAX_CPUS} vCPUs, `vmm-bad-apic-id` for a missing, repeated or
 * out-of-range ID or an IOAPIC ID that collides with a vCPU's.
 *
 * @example
 * ```ts
 * import { buildMpTable } from "@pvkit/vmm";
 * const { gpa, bytes } = buildMpTable([0, 1]);
 * console.log(gpa.toString(16), bytes.length, new TextDecoder().decode(bytes.subarray(0, 4)));
 * // "9fc00" 324 "_MP_"
 * ```
 */
export function buildMpTable(
  apicIds: readonly number[],
  options: MpTableOptions = {},
): GuestChunk {
  const gpa = options.gpa ?? MPTABLE_GPA;
  checkApicIds(apicIds);
  const ioapicId = options.ioapicId ?? Math.max(...apicIds) + 1;
  if (!Number.isInteger(ioapicId) || ioapicId < 0 || ioapicId > MAX_APIC_ID) {
    throw new PvkitError(
      "vmm-bad-apic-id",
      `IOAPIC ID ${ioapicId} is not 0-${MAX_APIC_ID}`,
      "give the vCPUs lower APIC IDs, or the IOAPIC an unused one",
    );
  }
  if (apicIds.includes(ioapicId)) {
    throw new PvkitError(
      "vmm-bad-apic-id",
      `IOAPIC ID ${ioapicId} is also a vCPU's APIC ID`,
      "give the IOAPIC an ID no vCPU has",
    );
  }
  const size = mpTableSize(apicIds.length);
  if (gpa + BigInt(size) > MPTABLE_LIMIT) {
    throw new PvkitError(
      "vmm-too-many-cpus",
      `the MP table for ${apicIds.length} vCPUs (${size} bytes at 0x${
        gpa.toString(16)
      }) runs past 0x${MPTABLE_LIMIT.toString(16)}`,
      "use fewer vCPUs",
    );
  }

  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  };

  // mpf_intel: "_MP_", physptr, length in 16-byte units, spec, checksum, feature bytes 0
  // (feature1 = 0: a configuration table follows, no default configuration).
  ascii(0, "_MP_");
  v.setUint32(4, Number(gpa) + MPF_SIZE, true);
  v.setUint8(8, 1);
  v.setUint8(9, MP_SPEC_REVISION);

  const table = MPF_SIZE;
  let at = table + MPC_HEADER_SIZE;
  let entries = 0;
  apicIds.forEach((id, i) => {
    v.setUint8(at, MP_PROCESSOR);
    v.setUint8(at + 1, id);
    v.setUint8(at + 2, APIC_VERSION);
    v.setUint8(at + 3, CPU_ENABLED | (i === 0 ? CPU_BOOTPROCESSOR : 0));
    v.setUint32(at + 4, CPU_STEPPING, true);
    v.setUint32(at + 8, CPU_FEATURE_APIC | CPU_FEATURE_FPU, true);
    at += MPC_CPU_SIZE;
    entries++;
  });
  const small = (fields: number[], word?: [number, number]) => {
    fields.forEach((f, i) => v.setUint8(at + i, f));
    if (word) v.setUint16(at + word[0], word[1], true);
    at += MPC_SMALL_ENTRY_SIZE;
    entries++;
  };
  // Bus 0: ISA (bus type padded to 6 characters).
  small([MP_BUS, 0]);
  ascii(at - MPC_SMALL_ENTRY_SIZE + 2, "ISA   ");
  // The IOAPIC: usable, at 0xFEC00000.
  small([MP_IOAPIC, ioapicId, APIC_VERSION, MPC_APIC_USABLE]);
  v.setUint32(at - MPC_SMALL_ENTRY_SIZE + 4, Number(IOAPIC_GPA), true);
  // ISA IRQ i -> IOAPIC pin i, polarity and trigger "conforms to the bus" (irqflag 0).
  for (let irq = 0; irq < MPTABLE_IOAPIC_PINS; irq++) {
    small([MP_INTSRC, MP_INT, 0, 0, 0, irq, ioapicId, irq]);
  }
  // The 8259's output to LINT0 of the boot CPU (ExtINT); NMI to LINT1 of every CPU (0xFF).
  small([MP_LINTSRC, MP_EXTINT, 0, 0, 0, 0, apicIds[0], 0]);
  small([MP_LINTSRC, MP_NMI, 0, 0, 0, 0, 0xff, 1]);

  // mpc_table header: "PCMP", length of header + entries, spec, checksum, OEM and product
  // IDs, entry count, local APIC address.
  ascii(table, "PCMP");
  v.setUint16(table + 4, size - MPF_SIZE, true);
  v.setUint8(table + 6, MP_SPEC_REVISION);
  ascii(table + 8, "PVKIT   ");
  ascii(table + 16, "PVKIT VMM   ");
  v.setUint16(table + 34, entries, true);
  v.setUint32(table + 36, Number(LAPIC_GPA), true);

  // Checksums last: each structure's bytes sum to 0.
  v.setUint8(10, (256 - byteSum(bytes.subarray(0, MPF_SIZE))) & 0xff);
  v.setUint8(table + 7, (256 - byteSum(bytes.subarray(table))) & 0xff);
  return { gpa, bytes };
}

function checkApicIds(apicIds: readonly number[]): void {
  if (apicIds.length === 0) {
    throw new PvkitError("vmm-bad-apic-id", "the MP table needs at least one vCPU");
  }
  if (apicIds.length > MPTABLE_MAX_CPUS) {
    throw new PvkitError(
      "vmm-too-many-cpus",
      `${apicIds.length} vCPUs are more than an MP table describes: at most ${MPTABLE_MAX_CPUS} ` +
        `(8-bit xAPIC IDs, 0xFF is broadcast, one is the IOAPIC's)`,
      `use at most ${MPTABLE_MAX_CPUS} vCPUs`,
    );
  }
  const seen = new Set<number>();
  for (const id of apicIds) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_APIC_ID) {
      throw new PvkitError("vmm-bad-apic-id", `APIC ID ${id} is not 0-${MAX_APIC_ID}`);
    }
    if (seen.has(id)) {
      throw new PvkitError("vmm-bad-apic-id", `APIC ID ${id} is given to two vCPUs`);
    }
    seen.add(id);
  }
}
