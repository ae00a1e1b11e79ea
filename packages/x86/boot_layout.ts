/**
 * Guest-physical addresses and selectors of the Firecracker boot layout (spec §2.2-2.3),
 * which pvkit's probe machines reuse so that their CPU state matches a real boot.
 *
 * @module
 */

/**
 * GPA of the boot GDT: four 8-byte entries (null, code, data, TSS).
 *
 * @example
 * ```ts
 * import { BOOT_GDT_GPA } from "@pvkit/x86";
 * console.log(BOOT_GDT_GPA.toString(16)); // "500"
 * ```
 */
export const BOOT_GDT_GPA = 0x500n;

/**
 * GDTR limit of the boot GDT: 4 entries * 8 bytes - 1.
 *
 * @example
 * ```ts
 * import { BOOT_GDT_LIMIT } from "@pvkit/x86";
 * console.log(BOOT_GDT_LIMIT); // 31
 * ```
 */
export const BOOT_GDT_LIMIT = 31;

/**
 * GPA of the boot IDT: one zero u64, so any interrupt before the guest loads its own IDT
 * shuts the vCPU down.
 *
 * @example
 * ```ts
 * import { BOOT_IDT_GPA } from "@pvkit/x86";
 * console.log(BOOT_IDT_GPA.toString(16)); // "520"
 * ```
 */
export const BOOT_IDT_GPA = 0x520n;

/**
 * IDTR limit of the boot IDT (one 8-byte entry).
 *
 * @example
 * ```ts
 * import { BOOT_IDT_LIMIT } from "@pvkit/x86";
 * console.log(BOOT_IDT_LIMIT); // 7
 * ```
 */
export const BOOT_IDT_LIMIT = 7;

/**
 * Selector of the 64-bit code segment (GDT index 1).
 *
 * @example
 * ```ts
 * import { CODE_SELECTOR } from "@pvkit/x86";
 * console.log(CODE_SELECTOR); // 8
 * ```
 */
export const CODE_SELECTOR = 0x08;

/**
 * Selector of the flat data segment (GDT index 2), loaded into DS, ES, FS, GS and SS.
 *
 * @example
 * ```ts
 * import { DATA_SELECTOR } from "@pvkit/x86";
 * console.log(DATA_SELECTOR); // 16
 * ```
 */
export const DATA_SELECTOR = 0x10;

/**
 * Selector of the TSS descriptor (GDT index 3), loaded into TR.
 *
 * @example
 * ```ts
 * import { TSS_SELECTOR } from "@pvkit/x86";
 * console.log(TSS_SELECTOR); // 24
 * ```
 */
export const TSS_SELECTOR = 0x18;

/**
 * GPA of the PML4 page; CR3 points here.
 *
 * @example
 * ```ts
 * import { PML4_GPA } from "@pvkit/x86";
 * console.log(PML4_GPA.toString(16)); // "9000"
 * ```
 */
export const PML4_GPA = 0x9000n;

/**
 * GPA of the page-directory-pointer table that PML4[0] points to.
 *
 * @example
 * ```ts
 * import { PDPT_GPA } from "@pvkit/x86";
 * console.log(PDPT_GPA.toString(16)); // "a000"
 * ```
 */
export const PDPT_GPA = 0xa000n;

/**
 * GPA of the page directory that PDPT[0] points to: 512 2 MiB pages covering 0-1 GiB.
 *
 * @example
 * ```ts
 * import { PD_GPA } from "@pvkit/x86";
 * console.log(PD_GPA.toString(16)); // "b000"
 * ```
 */
export const PD_GPA = 0xb000n;

/**
 * Initial RSP (and RBP) at boot: the top of the boot stack below the PML4 page.
 *
 * @example
 * ```ts
 * import { BOOT_STACK_POINTER } from "@pvkit/x86";
 * console.log(BOOT_STACK_POINTER.toString(16)); // "8ff0"
 * ```
 */
export const BOOT_STACK_POINTER = 0x8ff0n;

/**
 * GPA where Firecracker loads a kernel (HIMEM_START); a natural origin for probe code.
 *
 * @example
 * ```ts
 * import { Assembler, HIMEM_START } from "@pvkit/x86";
 * console.log(new Assembler(HIMEM_START).here().toString(16)); // "100000"
 * ```
 */
export const HIMEM_START = 0x100000n;
