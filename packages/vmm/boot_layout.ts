/**
 * Where a Linux boot puts things in guest-physical memory: Firecracker's layout (spec §2.2,
 * `src/vmm/src/arch/x86_64/layout.rs`), and the RAM regions around the 32-bit MMIO hole.
 *
 * | GPA | what |
 * |---|---|
 * | 0x500 / 0x520 | boot GDT / IDT (`@pvkit/x86`'s `BOOT_GDT_GPA`, `BOOT_IDT_GPA`) |
 * | 0x7000 | zero page (boot_params), RSI at entry |
 * | 0x8FF0 | boot stack top (`BOOT_STACK_POINTER`) |
 * | 0x9000 / 0xA000 / 0xB000.. | PML4 / PDPT / page directories (one per identity-mapped GiB) |
 * | 0x20000 | kernel command line (2048 bytes with the NUL) |
 * | 0x9FC00 | MP table (the last KiB below 640 KiB, where Linux scans), system area to 1 MiB |
 * | 0x100000 | the bzImage's protected-mode kernel; entry at +0x200 |
 * | top of low RAM | the initrd |
 * | 0xC0000000-0xFFFFFFFF | MMIO hole: IOAPIC 0xFEC00000, LAPIC 0xFEE00000, KVM's TSS 0xFFFBD000 |
 * | 0x100000000.. | RAM beyond 3 GiB |
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { HIMEM_START } from "@pvkit/x86";
import { formatSize } from "./_format.ts";

/**
 * GPA of the zero page (`struct boot_params`, 4 KiB); RSI points here at entry.
 *
 * @example
 * ```ts
 * import { ZERO_PAGE_GPA } from "@pvkit/vmm";
 * console.log(ZERO_PAGE_GPA.toString(16)); // "7000"
 * ```
 */
export const ZERO_PAGE_GPA = 0x7000n;

/**
 * GPA of the kernel command line.
 *
 * @example
 * ```ts
 * import { CMDLINE_GPA } from "@pvkit/vmm";
 * console.log(CMDLINE_GPA.toString(16)); // "20000"
 * ```
 */
export const CMDLINE_GPA = 0x20000n;

/**
 * Room for the command line at {@linkcode CMDLINE_GPA}, the terminating NUL included
 * (Firecracker's `CMDLINE_MAX_SIZE`).
 *
 * @example
 * ```ts
 * import { CMDLINE_MAX_BYTES } from "@pvkit/vmm";
 * console.log(CMDLINE_MAX_BYTES); // 2048
 * ```
 */
export const CMDLINE_MAX_BYTES = 2048;

/**
 * Start of the system area: the last KiB below 640 KiB (where Linux's `find_smp_config`
 * scans for the MP floating pointer) up to 1 MiB. The e820 map reserves it; the MP table
 * starts here.
 *
 * @example
 * ```ts
 * import { SYSTEM_AREA_GPA } from "@pvkit/vmm";
 * console.log(SYSTEM_AREA_GPA.toString(16)); // "9fc00"
 * ```
 */
export const SYSTEM_AREA_GPA = 0x9fc00n;

/**
 * End of the system area (exclusive): 1 MiB, where the kernel is loaded.
 *
 * @example
 * ```ts
 * import { SYSTEM_AREA_END } from "@pvkit/vmm";
 * console.log(SYSTEM_AREA_END.toString(16)); // "100000"
 * ```
 */
export const SYSTEM_AREA_END = 0x100000n;

/**
 * GPA of the MP table (the floating pointer, then the configuration table).
 *
 * @example
 * ```ts
 * import { MPTABLE_GPA } from "@pvkit/vmm";
 * console.log(MPTABLE_GPA.toString(16)); // "9fc00"
 * ```
 */
export const MPTABLE_GPA: bigint = SYSTEM_AREA_GPA;

/**
 * End (exclusive) of the room for the MP table: Firecracker's system memory ends here, where
 * its ACPI RSDP would go (`RSDP_ADDR`). Room for far more than 254 vCPUs.
 *
 * @example
 * ```ts
 * import { MPTABLE_LIMIT } from "@pvkit/vmm";
 * console.log(MPTABLE_LIMIT.toString(16)); // "e0000"
 * ```
 */
export const MPTABLE_LIMIT = 0xe0000n;

/**
 * GPA the bzImage's protected-mode kernel is copied to (HIMEM_START, 1 MiB).
 *
 * @example
 * ```ts
 * import { KERNEL_LOAD_GPA } from "@pvkit/vmm";
 * console.log(KERNEL_LOAD_GPA.toString(16)); // "100000"
 * ```
 */
export const KERNEL_LOAD_GPA: bigint = HIMEM_START;

/**
 * Offset of the 64-bit entry point from the load address (boot.rst, "64-bit Boot Protocol").
 *
 * @example
 * ```ts
 * import { KERNEL_64BIT_ENTRY_OFFSET } from "@pvkit/vmm";
 * console.log(KERNEL_64BIT_ENTRY_OFFSET.toString(16)); // "200"
 * ```
 */
export const KERNEL_64BIT_ENTRY_OFFSET = 0x200n;

/**
 * Start of the 32-bit MMIO hole (3 GiB): no RAM from here to 4 GiB.
 *
 * @example
 * ```ts
 * import { MMIO_HOLE_START } from "@pvkit/vmm";
 * console.log(MMIO_HOLE_START.toString(16)); // "c0000000"
 * ```
 */
export const MMIO_HOLE_START = 0xc000_0000n;

/**
 * End (exclusive) of the 32-bit MMIO hole, 4 GiB: RAM beyond 3 GiB continues here.
 *
 * @example
 * ```ts
 * import { MMIO_HOLE_END } from "@pvkit/vmm";
 * console.log(MMIO_HOLE_END.toString(16)); // "100000000"
 * ```
 */
export const MMIO_HOLE_END = 0x1_0000_0000n;

/**
 * GPA of the IOAPIC's registers (the MP table's `apicaddr`; KVM's in-kernel IOAPIC).
 *
 * @example
 * ```ts
 * import { IOAPIC_GPA } from "@pvkit/vmm";
 * console.log(IOAPIC_GPA.toString(16)); // "fec00000"
 * ```
 */
export const IOAPIC_GPA = 0xfec0_0000n;

/**
 * GPA of the local APIC's registers (the MP table's `lapic`).
 *
 * @example
 * ```ts
 * import { LAPIC_GPA } from "@pvkit/vmm";
 * console.log(LAPIC_GPA.toString(16)); // "fee00000"
 * ```
 */
export const LAPIC_GPA = 0xfee0_0000n;

/**
 * The three pages KVM_SET_TSS_ADDR takes on Intel (Firecracker's `KVM_TSS_ADDRESS`), inside
 * the MMIO hole.
 *
 * @example
 * ```ts
 * import { KVM_TSS_GPA } from "@pvkit/vmm";
 * console.log(KVM_TSS_GPA.toString(16)); // "fffbd000"
 * ```
 */
export const KVM_TSS_GPA = 0xfffb_d000n;

/**
 * One contiguous stretch of guest RAM: one KVM memory slot.
 *
 * @example
 * ```ts
 * import type { GuestRamRegion } from "@pvkit/vmm";
 * const low: GuestRamRegion = { gpa: 0n, size: 256 << 20 };
 * console.log(low.size); // 268435456
 * ```
 */
export interface GuestRamRegion {
  /** First guest-physical address (`guestPhysAddr` of `KvmVm.mapGuestRam`). */
  readonly gpa: bigint;
  /** Size in bytes, a multiple of 4 KiB. */
  readonly size: number;
}

const PAGE = 4096;

/**
 * The RAM regions of a guest with `memBytes` of RAM: all of it from GPA 0 up to 3 GiB, the
 * rest from 4 GiB on (the MMIO hole in between), as Firecracker's `arch_memory_regions`.
 * `memBytes` must be a positive multiple of 4 KiB.
 *
 * @example
 * ```ts
 * import { guestRamRegions } from "@pvkit/vmm";
 * console.log(guestRamRegions(256 << 20)); // [ { gpa: 0n, size: 268435456 } ]
 * console.log(guestRamRegions(4 * 2 ** 30).map((r) => [r.gpa.toString(16), r.size / 2 ** 30]));
 * // [ [ "0", 3 ], [ "100000000", 1 ] ]
 * ```
 */
export function guestRamRegions(memBytes: number): GuestRamRegion[] {
  checkMemBytes(memBytes);
  const hole = Number(MMIO_HOLE_START);
  if (memBytes <= hole) return [{ gpa: 0n, size: memBytes }];
  return [{ gpa: 0n, size: hole }, { gpa: MMIO_HOLE_END, size: memBytes - hole }];
}

/**
 * End (exclusive) of the RAM below the MMIO hole: `min(memBytes, 3 GiB)`. Everything the boot
 * writes (kernel, initrd, tables) lies below it.
 *
 * @example
 * ```ts
 * import { lowRamEnd } from "@pvkit/vmm";
 * console.log(lowRamEnd(64 << 20).toString(16), lowRamEnd(8 * 2 ** 30).toString(16));
 * // "4000000" "c0000000"
 * ```
 */
export function lowRamEnd(memBytes: number): bigint {
  checkMemBytes(memBytes);
  const end = BigInt(memBytes);
  return end < MMIO_HOLE_START ? end : MMIO_HOLE_START;
}

function checkMemBytes(memBytes: number): void {
  if (!Number.isSafeInteger(memBytes) || memBytes <= 0 || memBytes % PAGE !== 0) {
    throw new PvkitError(
      "vmm-bad-memory-size",
      `guest RAM of ${memBytes} bytes is not a positive multiple of 4 KiB`,
      "give the guest a memory size in whole MiB with -m",
    );
  }
  // Firecracker keeps 256 GiB onwards for 64-bit MMIO; a pvkit guest never gets near it.
  if (memBytes > 128 * 2 ** 30) {
    throw new PvkitError(
      "vmm-bad-memory-size",
      `guest RAM of ${formatSize(memBytes)} is more than pvkit's VMM supports (128 GiB)`,
      "give the guest less memory with -m",
    );
  }
}
