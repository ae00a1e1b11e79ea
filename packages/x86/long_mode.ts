/**
 * The CPU state a vCPU needs to start directly in 64-bit mode (spec §2.3), as plain data for
 * KVM_SET_SREGS: segment registers, control registers and EFER.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { BOOT_GDT_ENTRIES, decodeGdtEntry } from "./descriptors.ts";
import { CODE_SELECTOR, DATA_SELECTOR, PML4_GPA, TSS_SELECTOR } from "./boot_layout.ts";

/**
 * One segment register as `struct kvm_segment` holds it. `limit` is in bytes, so a
 * page-granular descriptor's 20-bit limit appears expanded (0xFFFFF with g = 1 becomes
 * 0xFFFFFFFF).
 *
 * @example
 * ```ts
 * import { longModeSegments, type SegmentState } from "@pvkit/x86";
 * const cs: SegmentState = longModeSegments().cs;
 * console.log(cs.selector, cs.l, cs.limit.toString(16)); // 8 1 "ffffffff"
 * ```
 */
export interface SegmentState {
  /** Segment base (kvm_segment.base, u64). */
  readonly base: bigint;
  /** Segment limit in bytes (kvm_segment.limit, u32). */
  readonly limit: number;
  /** Selector (kvm_segment.selector). */
  readonly selector: number;
  /** Descriptor type field (0xB code / busy TSS, 0x3 data). */
  readonly type: number;
  /** Present. */
  readonly present: number;
  /** Descriptor privilege level. */
  readonly dpl: number;
  /** Default operation size bit. */
  readonly db: number;
  /** 1 for code/data segments, 0 for system segments. */
  readonly s: number;
  /** 64-bit code segment. */
  readonly l: number;
  /** Granularity. */
  readonly g: number;
  /** Available bit. */
  readonly avl: number;
  /** KVM's "unusable" flag; must be 1 exactly when present is 0. */
  readonly unusable: number;
}

/**
 * The segment registers of the boot state: CS, the data segments, and TR.
 *
 * @example
 * ```ts
 * import { type LongModeSegments, longModeSegments } from "@pvkit/x86";
 * const segs: LongModeSegments = longModeSegments();
 * console.log(Object.keys(segs)); // [ "cs", "ds", "es", "fs", "gs", "ss", "tr" ]
 * ```
 */
export interface LongModeSegments {
  /** 64-bit code segment, selector 0x08. */
  readonly cs: SegmentState;
  /** Flat data segment, selector 0x10. */
  readonly ds: SegmentState;
  /** Same as ds. */
  readonly es: SegmentState;
  /** Same as ds (base 0; FS.base is an MSR in 64-bit mode). */
  readonly fs: SegmentState;
  /** Same as ds (base 0; GS.base is an MSR in 64-bit mode). */
  readonly gs: SegmentState;
  /** Same as ds. */
  readonly ss: SegmentState;
  /** Busy 64-bit TSS, selector 0x18. */
  readonly tr: SegmentState;
}

/**
 * The `kvm_segment` a selector gets when loaded from a GDT entry: the descriptor's fields,
 * the limit expanded to bytes, and `unusable` set when the segment is not present.
 *
 * @example
 * ```ts
 * import { segmentFromGdtEntry } from "@pvkit/x86";
 * const ds = segmentFromGdtEntry(0x10, 0x00cf93000000ffffn);
 * console.log(ds.type, ds.db, ds.limit.toString(16)); // 3 1 "ffffffff"
 * ```
 */
export function segmentFromGdtEntry(selector: number, entry: bigint): SegmentState {
  if (!Number.isInteger(selector) || selector < 0 || selector > 0xffff) {
    throw new PvkitError("x86-bad-descriptor", `selector ${selector} is not a 16-bit value`);
  }
  const d = decodeGdtEntry(entry);
  return {
    base: d.base,
    // With G set the limit counts 4 KiB units and the low 12 bits read as ones.
    limit: d.g ? d.limit * 0x1000 + 0xfff : d.limit,
    selector,
    type: d.type,
    present: d.present,
    dpl: d.dpl,
    db: d.db,
    s: d.s,
    l: d.l,
    g: d.g,
    avl: d.avl,
    unusable: d.present ? 0 : 1,
  };
}

/**
 * The segment registers of spec §2.3, derived from {@linkcode BOOT_GDT_ENTRIES} so the
 * hidden state KVM is given matches the GDT the guest can see.
 *
 * @example
 * ```ts
 * import { longModeSegments } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 * const { cs, ss, tr } = longModeSegments();
 * assertEquals([cs.selector, cs.type, cs.l, cs.db, cs.g], [0x08, 0xb, 1, 0, 1]);
 * assertEquals([ss.selector, ss.type, ss.db], [0x10, 3, 1]);
 * assertEquals([tr.selector, tr.type, tr.s], [0x18, 0xb, 0]);
 * ```
 */
export function longModeSegments(): LongModeSegments {
  const data = (): SegmentState => segmentFromGdtEntry(DATA_SELECTOR, BOOT_GDT_ENTRIES[2]);
  return {
    cs: segmentFromGdtEntry(CODE_SELECTOR, BOOT_GDT_ENTRIES[1]),
    ds: data(),
    es: data(),
    fs: data(),
    gs: data(),
    ss: data(),
    tr: segmentFromGdtEntry(TSS_SELECTOR, BOOT_GDT_ENTRIES[3]),
  };
}

/**
 * CR0.PE (bit 0): protected mode.
 *
 * @example
 * ```ts
 * import { CR0_PE } from "@pvkit/x86";
 * console.log(CR0_PE); // 1n
 * ```
 */
export const CR0_PE = 0x1n;

/**
 * CR0.ET (bit 4): extension type, hard-wired to 1 on modern CPUs.
 *
 * @example
 * ```ts
 * import { CR0_ET } from "@pvkit/x86";
 * console.log(CR0_ET); // 16n
 * ```
 */
export const CR0_ET = 0x10n;

/**
 * CR0.PG (bit 31): paging.
 *
 * @example
 * ```ts
 * import { CR0_PG } from "@pvkit/x86";
 * console.log(CR0_PG.toString(16)); // "80000000"
 * ```
 */
export const CR0_PG = 0x8000_0000n;

/**
 * CR4.PAE (bit 5): physical address extension, required for long mode.
 *
 * @example
 * ```ts
 * import { CR4_PAE } from "@pvkit/x86";
 * console.log(CR4_PAE); // 32n
 * ```
 */
export const CR4_PAE = 0x20n;

/**
 * EFER.LME (bit 8): long mode enable.
 *
 * @example
 * ```ts
 * import { EFER_LME } from "@pvkit/x86";
 * console.log(EFER_LME); // 256n
 * ```
 */
export const EFER_LME = 0x100n;

/**
 * EFER.LMA (bit 10): long mode active; KVM_SET_SREGS takes it as given.
 *
 * @example
 * ```ts
 * import { EFER_LMA } from "@pvkit/x86";
 * console.log(EFER_LMA); // 1024n
 * ```
 */
export const EFER_LMA = 0x400n;

/**
 * CR0 for a 64-bit start: PG | ET | PE = 0x80000011 (spec §2.3; Firecracker ORs PG|PE into
 * KVM's reset value instead, giving 0xE0000011, which leaves the caches disabled).
 *
 * @example
 * ```ts
 * import { LONG_MODE_CR0 } from "@pvkit/x86";
 * console.log(LONG_MODE_CR0.toString(16)); // "80000011"
 * ```
 */
export const LONG_MODE_CR0: bigint = CR0_PG | CR0_ET | CR0_PE;

/**
 * CR3 for a 64-bit start: the PML4 of the identity map, at 0x9000.
 *
 * @example
 * ```ts
 * import { LONG_MODE_CR3 } from "@pvkit/x86";
 * console.log(LONG_MODE_CR3.toString(16)); // "9000"
 * ```
 */
export const LONG_MODE_CR3: bigint = PML4_GPA;

/**
 * CR4 for a 64-bit start: PAE only.
 *
 * @example
 * ```ts
 * import { LONG_MODE_CR4 } from "@pvkit/x86";
 * console.log(LONG_MODE_CR4.toString(16)); // "20"
 * ```
 */
export const LONG_MODE_CR4: bigint = CR4_PAE;

/**
 * EFER for a 64-bit start: LME | LMA = 0x500.
 *
 * @example
 * ```ts
 * import { LONG_MODE_EFER } from "@pvkit/x86";
 * console.log(LONG_MODE_EFER.toString(16)); // "500"
 * ```
 */
export const LONG_MODE_EFER: bigint = EFER_LME | EFER_LMA;

/**
 * RFLAGS at entry: only the always-one bit 1; IF = 0.
 *
 * @example
 * ```ts
 * import { LONG_MODE_RFLAGS } from "@pvkit/x86";
 * console.log(LONG_MODE_RFLAGS); // 2n
 * ```
 */
export const LONG_MODE_RFLAGS = 0x2n;
