/**
 * Reads a Linux bzImage's setup header (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel
 * Header") and refuses, each with its own error, what pvkit cannot boot in 64-bit mode: no
 * bzImage at all (an ELF `vmlinux`, random bytes, an empty or cut-off file), a boot protocol
 * older than 2.12, no 64-bit entry point.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { formatSize, hex } from "./_format.ts";

/**
 * Offsets of the setup-header fields pvkit reads or writes, in the file and in the zero page
 * alike (boot.rst; `struct setup_header` in arch/x86/include/uapi/asm/bootparam.h).
 *
 * @example
 * ```ts
 * import { SETUP_HEADER } from "@pvkit/vmm";
 * console.log(SETUP_HEADER.version.toString(16), SETUP_HEADER.xloadflags.toString(16));
 * // "206" "236"
 * ```
 */
export const SETUP_HEADER = {
  /** u8: size of the real-mode setup in 512-byte sectors (0 means 4). The header starts here. */
  setupSects: 0x1f1,
  /** u32: size of the protected-mode code in 16-byte paragraphs (protocol 2.04+). */
  syssize: 0x1f4,
  /** u16: 0xAA55. */
  bootFlag: 0x1fe,
  /** u8: the jump's offset; the header ends at 0x202 + this byte. */
  jumpOffset: 0x201,
  /** u32: "HdrS". */
  header: 0x202,
  /** u16: boot protocol version, e.g. 0x020F. */
  version: 0x206,
  /** u8: the loader's type (write 0xFF). */
  typeOfLoader: 0x210,
  /** u8: LOADED_HIGH, KASLR_FLAG, QUIET_FLAG, KEEP_SEGMENTS, CAN_USE_HEAP. */
  loadflags: 0x211,
  /** u32: the 32-bit entry / load address. */
  code32Start: 0x214,
  /** u32: initrd GPA. */
  ramdiskImage: 0x218,
  /** u32: initrd size. */
  ramdiskSize: 0x21c,
  /** u32: command-line GPA. */
  cmdLinePtr: 0x228,
  /** u32: highest address the initrd may occupy. */
  initrdAddrMax: 0x22c,
  /** u32: physical alignment the kernel needs if relocatable. */
  kernelAlignment: 0x230,
  /** u8: non-zero if the kernel is relocatable. */
  relocatableKernel: 0x234,
  /** u16: XLF_KERNEL_64, XLF_CAN_BE_LOADED_ABOVE_4G, ... (protocol 2.12+). */
  xloadflags: 0x236,
  /** u32: maximum command-line length without the NUL (protocol 2.06+). */
  cmdlineSize: 0x238,
  /** u64: preferred load address (protocol 2.10+). */
  prefAddress: 0x258,
  /** u32: linear memory the kernel needs from its runtime start (protocol 2.10+). */
  initSize: 0x260,
} as const;

/**
 * `loadflags` bit 0: the protected-mode code is loaded at 0x100000 (set in every bzImage).
 *
 * @example
 * ```ts
 * import { LOADED_HIGH } from "@pvkit/vmm";
 * console.log(LOADED_HIGH); // 1
 * ```
 */
export const LOADED_HIGH = 0x01;

/**
 * `loadflags` bit 7: `heap_end_ptr` is valid (the real-mode setup's heap; unused by a 64-bit
 * entry, so pvkit leaves it as the kernel has it).
 *
 * @example
 * ```ts
 * import { CAN_USE_HEAP } from "@pvkit/vmm";
 * console.log(CAN_USE_HEAP); // 128
 * ```
 */
export const CAN_USE_HEAP = 0x80;

/**
 * `xloadflags` bit 0: the kernel has the legacy 64-bit entry point at load address + 0x200.
 *
 * @example
 * ```ts
 * import { XLF_KERNEL_64 } from "@pvkit/vmm";
 * console.log(XLF_KERNEL_64); // 1
 * ```
 */
export const XLF_KERNEL_64 = 0x01;

/**
 * `xloadflags` bit 1: kernel, boot_params, command line and initrd may lie above 4 GiB.
 *
 * @example
 * ```ts
 * import { XLF_CAN_BE_LOADED_ABOVE_4G } from "@pvkit/vmm";
 * console.log(XLF_CAN_BE_LOADED_ABOVE_4G); // 2
 * ```
 */
export const XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;

/**
 * The oldest boot protocol pvkit boots: 2.12, the first with `xloadflags` (and so a declared
 * 64-bit entry point). Firecracker's `load_kernel` has the same floor.
 *
 * @example
 * ```ts
 * import { MIN_BOOT_PROTOCOL } from "@pvkit/vmm";
 * console.log(MIN_BOOT_PROTOCOL.toString(16)); // "20c"
 * ```
 */
export const MIN_BOOT_PROTOCOL = 0x020c;

const BOOT_FLAG = 0xaa55;
const HDRS = 0x5372_6448; // "HdrS"
const SECTOR = 512;
/** The setup header ends, at most, where `boot_params` puts `edd_mbr_sig_buffer` (0x290). */
const HEADER_MAX_END = 0x290;
/** Enough of the file to read every field up to `init_size`. */
const HEADER_MIN_END = SETUP_HEADER.initSize + 4;

/**
 * A parsed bzImage: the setup-header fields the loader uses, the header bytes to copy into the
 * zero page, and the protected-mode kernel to copy to 0x100000.
 *
 * @example
 * ```ts
 * import type { BzImage } from "@pvkit/vmm";
 * const describe = (k: BzImage) => `${k.file}: protocol ${k.version.toString(16)}`;
 * console.log(typeof describe); // "function"
 * ```
 */
export interface BzImage {
  /** The name errors use (the file name, or "the kernel"). */
  readonly file: string;
  /** Real-mode setup sectors, with 0 read as 4. The payload starts at `(setupSects + 1) * 512`. */
  readonly setupSects: number;
  /** Boot protocol version, e.g. 0x020F for 2.15. */
  readonly version: number;
  /** `loadflags` as the kernel has it. */
  readonly loadflags: number;
  /** `xloadflags`. */
  readonly xloadflags: number;
  /** `code32_start`: the kernel's default load address (0x100000). */
  readonly code32Start: number;
  /** `init_size`: bytes the kernel needs from its runtime start before it reads the e820 map. */
  readonly initSize: number;
  /** `kernel_alignment`. */
  readonly kernelAlignment: number;
  /** `relocatable_kernel` != 0. */
  readonly relocatable: boolean;
  /** `cmdline_size`: the longest command line the kernel takes, without the NUL. */
  readonly cmdlineSize: number;
  /** `initrd_addr_max`: the highest address the initrd may occupy. */
  readonly initrdAddrMax: number;
  /** `pref_address`: where the kernel prefers to run (LOAD_PHYSICAL_ADDR, 16 MiB on Debian). */
  readonly prefAddress: bigint;
  /** The setup header, file bytes 0x1F1 to `0x202 + byte[0x201]`, for the zero page. */
  readonly setupHeader: Uint8Array;
  /** The protected-mode kernel: the file from `(setupSects + 1) * 512` to its end. */
  readonly payload: Uint8Array;
}

function notBootable(code: string, message: string, hint?: string): PvkitError {
  return new PvkitError(code, message, hint);
}

const PASS_BZIMAGE =
  "pass the bzImage: arch/x86/boot/bzImage of a kernel build, or /boot/vmlinuz-*";

/**
 * Parses and checks a bzImage. `file` names it in errors (default "the kernel"). Throws
 * {@linkcode PvkitError} with code `vmm-kernel-empty`, `vmm-kernel-elf` (an uncompressed
 * vmlinux), `vmm-not-bzimage`, `vmm-kernel-truncated`, `vmm-boot-protocol-too-old`,
 * `vmm-kernel-not-loaded-high` or `vmm-kernel-no-64bit-entry`.
 *
 * @example
 * ```ts
 * import { parseBzImage } from "@pvkit/vmm";
 * try {
 *   parseBzImage(new TextEncoder().encode("\x7fELF..."), "vmlinux");
 * } catch (e) {
 *   console.log((e as Error).message);
 *   // "vmlinux is an ELF file (an uncompressed vmlinux), not a bzImage"
 * }
 * ```
 */
export function parseBzImage(bytes: Uint8Array, file = "the kernel"): BzImage {
  const size = bytes.byteLength;
  if (size === 0) {
    throw notBootable("vmm-kernel-empty", `${file} is empty (0 bytes)`, PASS_BZIMAGE);
  }
  if (
    size >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46
  ) {
    throw notBootable(
      "vmm-kernel-elf",
      `${file} is an ELF file (an uncompressed vmlinux), not a bzImage`,
      PASS_BZIMAGE,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, size);
  if (size < SECTOR) {
    throw notBootable(
      "vmm-not-bzimage",
      `${file} is not a bzImage: ${
        formatSize(size)
      } is shorter than a bzImage's 512-byte boot sector`,
      PASS_BZIMAGE,
    );
  }
  if (v.getUint16(SETUP_HEADER.bootFlag, true) !== BOOT_FLAG) {
    throw notBootable(
      "vmm-not-bzimage",
      `${file} is not a bzImage (no 0xAA55 boot flag at 0x1FE)`,
      PASS_BZIMAGE,
    );
  }
  if (size < HEADER_MIN_END) {
    throw notBootable(
      "vmm-kernel-truncated",
      `${file} is truncated: ${size} bytes end inside the setup header (needs ${
        hex(HEADER_MIN_END)
      })`,
      "copy the file again",
    );
  }
  if (v.getUint32(SETUP_HEADER.header, true) !== HDRS) {
    throw notBootable(
      "vmm-not-bzimage",
      `${file} is not a bzImage (no "HdrS" setup-header magic at 0x202): a boot sector, ` +
        `or a kernel older than boot protocol 2.00`,
      PASS_BZIMAGE,
    );
  }
  const version = v.getUint16(SETUP_HEADER.version, true);
  if (version < MIN_BOOT_PROTOCOL) {
    throw notBootable(
      "vmm-boot-protocol-too-old",
      `${file}'s boot protocol ${protocol(version)} is too old: pvkit needs ${
        protocol(MIN_BOOT_PROTOCOL)
      } or later (64-bit entry, xloadflags; Linux 3.8 and later)`,
      "boot a newer kernel",
    );
  }
  const loadflags = v.getUint8(SETUP_HEADER.loadflags);
  if ((loadflags & LOADED_HIGH) === 0) {
    throw notBootable(
      "vmm-kernel-not-loaded-high",
      `${file} is a zImage, not a bzImage (LOADED_HIGH clear in loadflags ${hex(loadflags)})`,
      PASS_BZIMAGE,
    );
  }
  const xloadflags = v.getUint16(SETUP_HEADER.xloadflags, true);
  if ((xloadflags & XLF_KERNEL_64) === 0) {
    throw notBootable(
      "vmm-kernel-no-64bit-entry",
      `${file} has no 64-bit entry point (XLF_KERNEL_64 clear in xloadflags ${
        hex(xloadflags)
      }): a 32-bit kernel`,
      "boot an x86-64 kernel (CONFIG_X86_64)",
    );
  }
  const rawSetupSects = v.getUint8(SETUP_HEADER.setupSects);
  const setupSects = rawSetupSects === 0 ? 4 : rawSetupSects;
  const payloadStart = (setupSects + 1) * SECTOR;
  const headerEnd = Math.min(0x202 + v.getUint8(SETUP_HEADER.jumpOffset), HEADER_MAX_END);
  // syssize counts the protected-mode code in 16-byte paragraphs: a shorter file was cut off.
  const payloadSize = v.getUint32(SETUP_HEADER.syssize, true) * 16;
  if (size <= payloadStart || size < payloadStart + payloadSize) {
    throw notBootable(
      "vmm-kernel-truncated",
      `${file} is truncated: ${size} bytes, but its header says ${
        payloadStart + payloadSize
      } (${setupSects} setup sectors, then ${payloadSize} bytes of kernel)`,
      "copy the file again",
    );
  }
  return {
    file,
    setupSects,
    version,
    loadflags,
    xloadflags,
    code32Start: v.getUint32(SETUP_HEADER.code32Start, true),
    initSize: v.getUint32(SETUP_HEADER.initSize, true),
    kernelAlignment: v.getUint32(SETUP_HEADER.kernelAlignment, true),
    relocatable: v.getUint8(SETUP_HEADER.relocatableKernel) !== 0,
    cmdlineSize: v.getUint32(SETUP_HEADER.cmdlineSize, true),
    initrdAddrMax: v.getUint32(SETUP_HEADER.initrdAddrMax, true),
    prefAddress: v.getBigUint64(SETUP_HEADER.prefAddress, true),
    setupHeader: bytes.subarray(SETUP_HEADER.setupSects, headerEnd),
    payload: bytes.subarray(payloadStart),
  };
}

/** 0x020F as "2.15". */
function protocol(version: number): string {
  return `${version >> 8}.${(version & 0xff).toString().padStart(2, "0")}`;
}
