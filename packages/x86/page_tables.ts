/**
 * The boot page tables of spec §2.3: an identity map of the first 1 GiB (or up to 4 GiB) with
 * 2 MiB pages, in the Firecracker layout (PML4 at 0x9000, PDPT at 0xA000, PDs from 0xB000).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { le } from "./_encoding.ts";
import { PD_GPA, PDPT_GPA, PML4_GPA } from "./boot_layout.ts";
import type { GuestChunk } from "./guest_chunk.ts";

/**
 * Page-table entry bit 0: present.
 *
 * @example
 * ```ts
 * import { PTE_PRESENT } from "@pvkit/x86";
 * console.log(PTE_PRESENT); // 1n
 * ```
 */
export const PTE_PRESENT = 0x1n;

/**
 * Page-table entry bit 1: writable.
 *
 * @example
 * ```ts
 * import { PTE_WRITABLE } from "@pvkit/x86";
 * console.log(PTE_WRITABLE); // 2n
 * ```
 */
export const PTE_WRITABLE = 0x2n;

/**
 * Page-directory entry bit 7: maps a 2 MiB page instead of pointing to a page table.
 *
 * @example
 * ```ts
 * import { PTE_PAGE_SIZE } from "@pvkit/x86";
 * console.log(PTE_PAGE_SIZE); // 128n
 * ```
 */
export const PTE_PAGE_SIZE = 0x80n;

const ENTRIES = 512;
const PAGE = 4096;
const TWO_MIB = 1n << 21n;

function table(entries: (i: number) => bigint, count: number): Uint8Array {
  const bytes = new Uint8Array(PAGE);
  for (let i = 0; i < count; i++) bytes.set(le(entries(i), 8), i * 8);
  return bytes;
}

/**
 * The most GiB {@linkcode identityMapPageTables} maps: the whole 32-bit address space, with
 * page directories at 0xB000-0xEFFF (below the boot command line at 0x20000).
 *
 * @example
 * ```ts
 * import { MAX_IDENTITY_MAP_GIB } from "@pvkit/x86";
 * console.log(MAX_IDENTITY_MAP_GIB); // 4
 * ```
 */
export const MAX_IDENTITY_MAP_GIB = 4;

/**
 * The 4 KiB tables that identity-map guest addresses 0 to `gib` GiB (default 1, at most
 * {@linkcode MAX_IDENTITY_MAP_GIB}) with 2 MiB pages: PML4[0] = 0xA000 | P | RW,
 * PDPT[g] = (0xB000 + g * 0x1000) | P | RW for each GiB g, and in page directory g,
 * PD[i] = ((g * 512 + i) << 21) | P | RW | PS. Copy each chunk to its `gpa` and set CR3 to
 * {@linkcode PML4_GPA}. With one GiB this is exactly Firecracker's boot map.
 *
 * @example
 * ```ts
 * import { identityMapPageTables } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 * const [pml4, pdpt, pd] = identityMapPageTables();
 * assertEquals([pml4.gpa, pdpt.gpa, pd.gpa], [0x9000n, 0xa000n, 0xb000n]);
 * const view = new DataView(pd.bytes.buffer);
 * assertEquals(view.getBigUint64(8 * 3, true), 0x600083n); // PD[3] maps 6 MiB
 * assertEquals(identityMapPageTables(2).map((c) => c.gpa), [0x9000n, 0xa000n, 0xb000n, 0xc000n]);
 * ```
 */
export function identityMapPageTables(gib = 1): GuestChunk[] {
  if (!Number.isInteger(gib) || gib < 1 || gib > MAX_IDENTITY_MAP_GIB) {
    throw new PvkitError(
      "x86-bad-identity-map",
      `cannot identity-map ${gib} GiB: the boot page tables map 1 to ${MAX_IDENTITY_MAP_GIB} GiB`,
    );
  }
  const link = (next: bigint): bigint => next | PTE_PRESENT | PTE_WRITABLE;
  const pdGpa = (g: number): bigint => PD_GPA + BigInt(g * PAGE);
  const directories = Array.from({ length: gib }, (_, g) => ({
    gpa: pdGpa(g),
    bytes: table(
      (i) => (BigInt(g * ENTRIES + i) * TWO_MIB) | PTE_PRESENT | PTE_WRITABLE | PTE_PAGE_SIZE,
      ENTRIES,
    ),
  }));
  return [
    { gpa: PML4_GPA, bytes: table(() => link(PDPT_GPA), 1) },
    { gpa: PDPT_GPA, bytes: table((g) => link(pdGpa(g)), gib) },
    ...directories,
  ];
}
