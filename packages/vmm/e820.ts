/**
 * The e820 memory map a Linux guest reads from its zero page (`boot_params.e820_table`), as
 * Firecracker's `configure_64bit_boot` builds it: low RAM below the system area, the system
 * area reserved, then RAM from 1 MiB in each RAM region.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { formatSize } from "./_format.ts";
import { guestRamRegions, SYSTEM_AREA_END, SYSTEM_AREA_GPA } from "./boot_layout.ts";

/**
 * e820 type 1: usable RAM.
 *
 * @example
 * ```ts
 * import { E820_RAM } from "@pvkit/vmm";
 * console.log(E820_RAM); // 1
 * ```
 */
export const E820_RAM = 1;

/**
 * e820 type 2: reserved.
 *
 * @example
 * ```ts
 * import { E820_RESERVED } from "@pvkit/vmm";
 * console.log(E820_RESERVED); // 2
 * ```
 */
export const E820_RESERVED = 2;

/**
 * e820 type 3: ACPI tables, reclaimable.
 *
 * @example
 * ```ts
 * import { E820_ACPI } from "@pvkit/vmm";
 * console.log(E820_ACPI); // 3
 * ```
 */
export const E820_ACPI = 3;

/**
 * Entries `boot_params.e820_table` holds (E820_MAX_ENTRIES_ZEROPAGE).
 *
 * @example
 * ```ts
 * import { E820_MAX_ENTRIES_ZEROPAGE } from "@pvkit/vmm";
 * console.log(E820_MAX_ENTRIES_ZEROPAGE); // 128
 * ```
 */
export const E820_MAX_ENTRIES_ZEROPAGE = 128;

/**
 * Offset of `e820_entries` (u8) in the zero page.
 *
 * @example
 * ```ts
 * import { E820_ENTRIES_OFFSET } from "@pvkit/vmm";
 * console.log(E820_ENTRIES_OFFSET.toString(16)); // "1e8"
 * ```
 */
export const E820_ENTRIES_OFFSET = 0x1e8;

/**
 * Offset of `e820_table` in the zero page: 20-byte packed `struct boot_e820_entry`s.
 *
 * @example
 * ```ts
 * import { E820_TABLE_OFFSET } from "@pvkit/vmm";
 * console.log(E820_TABLE_OFFSET.toString(16)); // "2d0"
 * ```
 */
export const E820_TABLE_OFFSET = 0x2d0;

const ENTRY_SIZE = 20;

/**
 * One e820 range (`struct boot_e820_entry`: u64 addr, u64 size, u32 type).
 *
 * @example
 * ```ts
 * import { E820_RAM, type E820Entry } from "@pvkit/vmm";
 * const low: E820Entry = { addr: 0n, size: 0x9fc00n, type: E820_RAM };
 * console.log(low.size.toString(16)); // "9fc00"
 * ```
 */
export interface E820Entry {
  /** First guest-physical address. */
  readonly addr: bigint;
  /** Length in bytes. */
  readonly size: bigint;
  /** {@linkcode E820_RAM}, {@linkcode E820_RESERVED} or {@linkcode E820_ACPI}. */
  readonly type: number;
}

/**
 * The e820 map of a guest with `memBytes` of RAM (laid out by `guestRamRegions`):
 *
 * 1. [0, 0x9FC00) RAM;
 * 2. [0x9FC00, 0x100000) reserved: the MP table, then the legacy VGA/ROM hole. Firecracker
 *    reserves only to 0xE0000 (where its ACPI tables go) and lists nothing above; Linux takes
 *    640 KiB-1 MiB out of RAM itself anyway (`trim_bios_range` in arch/x86/kernel/setup.c),
 *    so one entry says the same without a gap;
 * 3. [0x100000, end of low RAM) RAM, and the RAM above 4 GiB, if any.
 *
 * There is no PCI, so no MMCONFIG range is reserved.
 *
 * @example
 * ```ts
 * import { e820Map } from "@pvkit/vmm";
 * for (const e of e820Map(64 << 20)) {
 *   console.log(e.addr.toString(16), e.size.toString(16), e.type);
 * }
 * // "0" "9fc00" 1
 * // "9fc00" "60400" 2
 * // "100000" "3f00000" 1
 * ```
 */
export function e820Map(memBytes: number): E820Entry[] {
  const regions = guestRamRegions(memBytes);
  if (BigInt(regions[0].size) <= SYSTEM_AREA_END) {
    throw new PvkitError(
      "vmm-memory-too-small",
      `guest RAM of ${formatSize(memBytes)} ends below 1 MiB, where the kernel is loaded`,
      "give the guest more memory with -m",
    );
  }
  const entries: E820Entry[] = [
    { addr: 0n, size: SYSTEM_AREA_GPA, type: E820_RAM },
    { addr: SYSTEM_AREA_GPA, size: SYSTEM_AREA_END - SYSTEM_AREA_GPA, type: E820_RESERVED },
  ];
  for (const r of regions) {
    // The first megabyte of the region at 0 is described above.
    const start = r.gpa < SYSTEM_AREA_END ? SYSTEM_AREA_END : r.gpa;
    entries.push({ addr: start, size: r.gpa + BigInt(r.size) - start, type: E820_RAM });
  }
  return entries;
}

/**
 * Writes `entries` into a zero page: the count at 0x1E8, the table at 0x2D0. Throws
 * {@linkcode PvkitError} (`vmm-e820-too-long`) past 128 entries.
 *
 * @example
 * ```ts
 * import { e820Map, encodeE820 } from "@pvkit/vmm";
 * const zeroPage = new Uint8Array(4096);
 * encodeE820(zeroPage, e820Map(64 << 20));
 * console.log(zeroPage[0x1e8]); // 3
 * ```
 */
export function encodeE820(bootParams: Uint8Array, entries: readonly E820Entry[]): void {
  if (entries.length > E820_MAX_ENTRIES_ZEROPAGE) {
    throw new PvkitError(
      "vmm-e820-too-long",
      `the e820 map has ${entries.length} entries; the zero page holds ${E820_MAX_ENTRIES_ZEROPAGE}`,
    );
  }
  const v = new DataView(bootParams.buffer, bootParams.byteOffset, bootParams.byteLength);
  v.setUint8(E820_ENTRIES_OFFSET, entries.length);
  entries.forEach((e, i) => {
    const at = E820_TABLE_OFFSET + i * ENTRY_SIZE;
    v.setBigUint64(at, e.addr, true);
    v.setBigUint64(at + 8, e.size, true);
    v.setUint32(at + 16, e.type, true);
  });
}

/**
 * Reads the e820 map back out of a zero page (for tests and boot reports).
 *
 * @example
 * ```ts
 * import { decodeE820, e820Map, encodeE820 } from "@pvkit/vmm";
 * const zeroPage = new Uint8Array(4096);
 * encodeE820(zeroPage, e820Map(64 << 20));
 * console.log(decodeE820(zeroPage).length); // 3
 * ```
 */
export function decodeE820(bootParams: Uint8Array): E820Entry[] {
  const v = new DataView(bootParams.buffer, bootParams.byteOffset, bootParams.byteLength);
  const count = Math.min(v.getUint8(E820_ENTRIES_OFFSET), E820_MAX_ENTRIES_ZEROPAGE);
  return Array.from({ length: count }, (_, i) => {
    const at = E820_TABLE_OFFSET + i * ENTRY_SIZE;
    return {
      addr: v.getBigUint64(at, true),
      size: v.getBigUint64(at + 8, true),
      type: v.getUint32(at + 16, true),
    };
  });
}
