/**
 * Segment descriptors, 64-bit IDT gates and descriptor-table pointers, encoded from the
 * layouts in the Intel SDM vol. 3A (§3.4.5 "Segment Descriptors", §6.14.1 "64-Bit Mode IDT",
 * §3.5.1 "Segment Descriptor Tables"), plus the boot GDT of spec §2.3.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { checkRange, le, toBigInt } from "./_encoding.ts";
import { BOOT_GDT_GPA, BOOT_IDT_GPA, BOOT_IDT_LIMIT } from "./boot_layout.ts";
import type { GuestChunk } from "./guest_chunk.ts";

/**
 * Packs a GDT entry the way Firecracker's `gdt_entry(flags, base, limit)` is specified:
 * `flags` bits 7:0 are the access byte (type, S, DPL, P) and bits 15:12 the AVL, L, D/B and
 * G flags; bits 11:8 must be zero (the descriptor keeps limit 19:16 there).
 *
 * @example
 * ```ts
 * import { encodeGdtEntry } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodeGdtEntry(0xa09b, 0, 0xfffff), 0x00af9b000000ffffn); // 64-bit code
 * assertEquals(encodeGdtEntry(0xc093, 0, 0xfffff), 0x00cf93000000ffffn); // flat data
 * ```
 */
export function encodeGdtEntry(flags: number, base: number | bigint, limit: number): bigint {
  const f = checkRange(toBigInt(flags, "GDT flags"), 0n, 0x10000n, "GDT flags");
  if ((f & 0x0f00n) !== 0n) {
    throw new PvkitError(
      "x86-bad-descriptor",
      `GDT flags 0x${f.toString(16)} set bits 11:8, where the descriptor keeps limit 19:16`,
      "put the access byte in bits 7:0 and AVL/L/D/G in bits 15:12, e.g. 0xa09b",
    );
  }
  const b = checkRange(toBigInt(base, "GDT base"), 0n, 1n << 32n, "GDT base");
  const l = checkRange(toBigInt(limit, "GDT limit"), 0n, 1n << 20n, "GDT limit");
  return (l & 0xffffn) | // limit 15:0
    ((b & 0xff_ffffn) << 16n) | // base 23:0
    ((f & 0xffn) << 40n) | // type, S, DPL, P
    ((l >> 16n) << 48n) | // limit 19:16
    ((f >> 12n) << 52n) | // AVL, L, D/B, G
    ((b >> 24n) << 56n); // base 31:24
}

/**
 * The fields of an 8-byte code or data segment descriptor, as {@linkcode decodeGdtEntry}
 * returns them. `limit` is the raw 20-bit field (in 4 KiB units when `g` = 1).
 *
 * @example
 * ```ts
 * import { decodeGdtEntry, type SegmentDescriptor } from "@pvkit/x86";
 * const code: SegmentDescriptor = decodeGdtEntry(0x00af9b000000ffffn);
 * console.log(code.l, code.db, code.type); // 1 0 11
 * ```
 */
export interface SegmentDescriptor {
  /** Segment base, 32 bits. */
  readonly base: bigint;
  /** Raw 20-bit limit. */
  readonly limit: number;
  /** Type field, bits 43:40 (0xB = execute/read accessed code, or busy TSS when s = 0). */
  readonly type: number;
  /** 1 for code/data, 0 for system descriptors (TSS, LDT). */
  readonly s: number;
  /** Descriptor privilege level. */
  readonly dpl: number;
  /** Present. */
  readonly present: number;
  /** Available for software. */
  readonly avl: number;
  /** 64-bit code segment. */
  readonly l: number;
  /** Default operation size (1 = 32-bit); must be 0 when l = 1. */
  readonly db: number;
  /** Granularity: the limit counts 4 KiB pages. */
  readonly g: number;
}

/**
 * Splits an 8-byte segment descriptor into its fields.
 *
 * @example
 * ```ts
 * import { decodeGdtEntry } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 * const data = decodeGdtEntry(0x00cf93000000ffffn);
 * assertEquals([data.type, data.s, data.db, data.g, data.limit], [3, 1, 1, 1, 0xfffff]);
 * ```
 */
export function decodeGdtEntry(raw: bigint): SegmentDescriptor {
  const d = checkRange(raw, 0n, 1n << 64n, "GDT entry");
  const bit = (n: bigint): number => Number((d >> n) & 1n);
  return {
    base: ((d >> 16n) & 0xff_ffffn) | (((d >> 56n) & 0xffn) << 24n),
    limit: Number((d & 0xffffn) | (((d >> 48n) & 0xfn) << 16n)),
    type: Number((d >> 40n) & 0xfn),
    s: bit(44n),
    dpl: Number((d >> 45n) & 3n),
    present: bit(47n),
    avl: bit(52n),
    l: bit(53n),
    db: bit(54n),
    g: bit(55n),
  };
}

/**
 * The boot GDT of spec §2.3: null, 64-bit code (0x08), flat data (0x10), busy TSS (0x18).
 *
 * @example
 * ```ts
 * import { BOOT_GDT_ENTRIES } from "@pvkit/x86";
 * console.log(BOOT_GDT_ENTRIES.map((e) => e.toString(16)));
 * // [ "0", "af9b000000ffff", "cf93000000ffff", "8f8b000000ffff" ]
 * ```
 */
export const BOOT_GDT_ENTRIES: readonly bigint[] = Object.freeze([
  0n,
  encodeGdtEntry(0xa09b, 0, 0xfffff), // code: P, S, type 0xB; G, L
  encodeGdtEntry(0xc093, 0, 0xfffff), // data: P, S, type 0x3; G, D/B
  encodeGdtEntry(0x808b, 0, 0xfffff), // TSS: P, type 0xB (busy); G
]);

/**
 * The boot GDT as bytes at {@linkcode BOOT_GDT_GPA} (0x500), ready to copy into guest RAM.
 *
 * @example
 * ```ts
 * import { bootGdt } from "@pvkit/x86";
 * const { gpa, bytes } = bootGdt();
 * console.log(gpa.toString(16), bytes.length); // "500" 32
 * ```
 */
export function bootGdt(): GuestChunk {
  return { gpa: BOOT_GDT_GPA, bytes: new Uint8Array(BOOT_GDT_ENTRIES.flatMap((e) => le(e, 8))) };
}

/**
 * The boot IDT at {@linkcode BOOT_IDT_GPA} (0x520): one zero entry, as Firecracker writes it.
 *
 * @example
 * ```ts
 * import { bootIdt } from "@pvkit/x86";
 * const { gpa, bytes } = bootIdt();
 * console.log(gpa.toString(16), bytes); // "520" Uint8Array(8) [ 0, 0, 0, 0, 0, 0, 0, 0 ]
 * ```
 */
export function bootIdt(): GuestChunk {
  return { gpa: BOOT_IDT_GPA, bytes: new Uint8Array(BOOT_IDT_LIMIT + 1) };
}

/**
 * Gate type of a 64-bit interrupt gate: entering the handler clears IF.
 *
 * @example
 * ```ts
 * import { IDT_INTERRUPT_GATE } from "@pvkit/x86";
 * console.log(IDT_INTERRUPT_GATE); // 14
 * ```
 */
export const IDT_INTERRUPT_GATE = 0xe;

/**
 * Gate type of a 64-bit trap gate: entering the handler leaves IF alone.
 *
 * @example
 * ```ts
 * import { IDT_TRAP_GATE } from "@pvkit/x86";
 * console.log(IDT_TRAP_GATE); // 15
 * ```
 */
export const IDT_TRAP_GATE = 0xf;

/**
 * Options of a 64-bit IDT gate beyond handler, selector and type.
 *
 * @example
 * ```ts
 * import type { IdtGateOptions } from "@pvkit/x86";
 * const userCallable: IdtGateOptions = { dpl: 3 };
 * console.log(userCallable);
 * ```
 */
export interface IdtGateOptions {
  /** Interrupt-stack-table index 0-7; 0 (the default) keeps the current stack. */
  readonly ist?: number;
  /** Lowest privilege level allowed to reach the gate with `int n`; default 0. */
  readonly dpl?: number;
  /** Present bit; default true. A non-present gate raises #NP. */
  readonly present?: boolean;
}

/**
 * Encodes a 16-byte 64-bit IDT gate (SDM vol. 3A, figure 6-8): offset 15:0, selector,
 * IST, type/DPL/P, offset 31:16, offset 63:32, reserved.
 *
 * @example
 * ```ts
 * import { Assembler, CODE_SELECTOR, encodeIdtGate64, IDT_INTERRUPT_GATE } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 * const a = new Assembler(0x100000).hlt().label("timer").iretq();
 * const gate = encodeIdtGate64(a.addressOf("timer"), CODE_SELECTOR, IDT_INTERRUPT_GATE);
 * assertEquals([...gate], [0x01, 0x00, 0x08, 0x00, 0x00, 0x8e, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
 * ```
 */
export function encodeIdtGate64(
  handler: bigint | number,
  selector: number,
  type: number = IDT_INTERRUPT_GATE,
  options: IdtGateOptions = {},
): Uint8Array {
  const offset = checkRange(toBigInt(handler, "IDT handler"), 0n, 1n << 64n, "IDT handler");
  const sel = Number(checkRange(toBigInt(selector, "IDT selector"), 0n, 0x10000n, "selector"));
  if (type !== IDT_INTERRUPT_GATE && type !== IDT_TRAP_GATE) {
    throw new PvkitError(
      "x86-bad-descriptor",
      `IDT gate type ${type} is not a 64-bit interrupt (0xE) or trap (0xF) gate`,
      "pass IDT_INTERRUPT_GATE or IDT_TRAP_GATE",
    );
  }
  const ist = Number(checkRange(toBigInt(options.ist ?? 0, "IST"), 0n, 8n, "IDT gate IST"));
  const dpl = Number(checkRange(toBigInt(options.dpl ?? 0, "DPL"), 0n, 4n, "IDT gate DPL"));
  const present = (options.present ?? true) ? 0x80 : 0;
  const bytes = new Uint8Array(16);
  bytes.set(le(offset & 0xffffn, 2), 0);
  bytes.set(le(BigInt(sel), 2), 2);
  bytes[4] = ist;
  bytes[5] = present | (dpl << 5) | type;
  bytes.set(le((offset >> 16n) & 0xffffn, 2), 6);
  bytes.set(le(offset >> 32n, 4), 8);
  return bytes;
}

/**
 * Encodes the 10-byte operand of `lgdt`/`lidt` in 64-bit mode: a 16-bit limit, then a
 * 64-bit base.
 *
 * @example
 * ```ts
 * import { encodeDescriptorTablePointer } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 * assertEquals([...encodeDescriptorTablePointer(0xfff, 0x3000n)], [
 *   0xff, 0x0f, 0x00, 0x30, 0, 0, 0, 0, 0, 0,
 * ]);
 * ```
 */
export function encodeDescriptorTablePointer(limit: number, base: bigint | number): Uint8Array {
  const l = checkRange(toBigInt(limit, "table limit"), 0n, 0x10000n, "descriptor table limit");
  const b = checkRange(toBigInt(base, "table base"), 0n, 1n << 64n, "descriptor table base");
  return new Uint8Array([...le(l, 2), ...le(b, 8)]);
}
