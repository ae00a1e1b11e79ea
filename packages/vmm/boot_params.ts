/**
 * The zero page (`struct boot_params`, arch/x86/include/uapi/asm/bootparam.h) a 64-bit Linux
 * entry gets in RSI, written in one place as linux-loader's `configurator/x86_64` and
 * Firecracker's `configure_64bit_boot` do: the kernel's own setup header, then what the loader
 * fills in (loader type, command line, initrd, e820 map). And the command line's bytes.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { KERNEL_LOAD_GPA } from "./boot_layout.ts";
import { type BzImage, SETUP_HEADER } from "./bzimage.ts";
import { type E820Entry, encodeE820 } from "./e820.ts";

/**
 * Size of the zero page.
 *
 * @example
 * ```ts
 * import { BOOT_PARAMS_SIZE } from "@pvkit/vmm";
 * console.log(BOOT_PARAMS_SIZE); // 4096
 * ```
 */
export const BOOT_PARAMS_SIZE = 4096;

/**
 * Offsets in `struct boot_params` outside the setup header (whose fields are
 * {@linkcode SETUP_HEADER}'s).
 *
 * @example
 * ```ts
 * import { BOOT_PARAMS } from "@pvkit/vmm";
 * console.log(BOOT_PARAMS.extRamdiskImage.toString(16), BOOT_PARAMS.hdr.toString(16)); // "c0" "1f1"
 * ```
 */
export const BOOT_PARAMS = {
  /** u64: ACPI RSDP address (0: the kernel searches for it). */
  acpiRsdpAddr: 0x070,
  /** u32: bits 63-32 of the initrd GPA. */
  extRamdiskImage: 0x0c0,
  /** u32: bits 63-32 of the initrd size. */
  extRamdiskSize: 0x0c4,
  /** u32: bits 63-32 of the command-line GPA. */
  extCmdLinePtr: 0x0c8,
  /** u8: number of e820 entries. */
  e820Entries: 0x1e8,
  /** u8: 0xFF in the file; left 0 by a loader that copies only the setup header. */
  sentinel: 0x1ef,
  /** The setup header. */
  hdr: 0x1f1,
  /** The e820 table, 128 entries of 20 bytes. */
  e820Table: 0x2d0,
} as const;

/**
 * `type_of_loader` 0xFF: a loader without an assigned ID. The kernel ignores the initrd when
 * this is 0 (`early_reserve_initrd`).
 *
 * @example
 * ```ts
 * import { LOADER_TYPE_UNDEFINED } from "@pvkit/vmm";
 * console.log(LOADER_TYPE_UNDEFINED.toString(16)); // "ff"
 * ```
 */
export const LOADER_TYPE_UNDEFINED = 0xff;

/**
 * What {@linkcode buildBootParams} fills in.
 *
 * @example
 * ```ts
 * import type { BootParamsOptions } from "@pvkit/vmm";
 * const keys: (keyof BootParamsOptions)[] = ["image", "cmdlineGpa", "cmdlineLength", "e820"];
 * console.log(keys.length); // 4
 * ```
 */
export interface BootParamsOptions {
  /** The parsed bzImage (its setup header starts the zero page). */
  readonly image: Pick<BzImage, "setupHeader">;
  /** GPA of the NUL-terminated command line (must not be 0). */
  readonly cmdlineGpa: bigint;
  /** Bytes of the command line with its NUL (`encodeCmdline(...).length`). */
  readonly cmdlineLength: number;
  /** Where the initrd was written, if any. */
  readonly initrd?: { readonly gpa: bigint; readonly size: number };
  /** The e820 map. */
  readonly e820: readonly E820Entry[];
  /** Where the protected-mode kernel was loaded (default 0x100000), for `code32_start`. */
  readonly kernelGpa?: bigint;
}

const LOW32 = 0xffff_ffffn;

/**
 * The 4 KiB zero page: zeroed, the setup header copied from the bzImage (0x1F1 to
 * `0x202 + byte[0x201]`), then `type_of_loader` = 0xFF, `code32_start` = the load address (as
 * linux-loader does), `cmd_line_ptr` and `cmdline_size` (the length with the NUL, as
 * Firecracker writes it), `ramdisk_image`/`ramdisk_size`, the `ext_` high halves for anything
 * above 4 GiB, and the e820 map. `loadflags` stays as the kernel has it: LOADED_HIGH is set in
 * every bzImage, and CAN_USE_HEAP concerns the real-mode setup a 64-bit entry skips.
 *
 * @example
 * ```ts
 * import { buildBootParams, e820Map } from "@pvkit/vmm";
 * // image: normally parseBzImage(bytes); here a bare setup header (version 2.15 at 0x206).
 * const setupHeader = new Uint8Array(0x202 + 0x6a - 0x1f1);
 * setupHeader.set([0x0f, 0x02], 0x206 - 0x1f1);
 * const zeroPage = buildBootParams({
 *   image: { setupHeader },
 *   cmdlineGpa: 0x20000n,
 *   cmdlineLength: 14,
 *   initrd: { gpa: 0x7000000n, size: 1 << 20 },
 *   e820: e820Map(128 << 20),
 * });
 * const v = new DataView(zeroPage.buffer);
 * console.log(v.getUint16(0x206, true).toString(16), zeroPage[0x210].toString(16)); // "20f" "ff"
 * console.log(v.getUint32(0x228, true).toString(16), v.getUint32(0x218, true).toString(16));
 * // "20000" "7000000"
 * ```
 */
export function buildBootParams(options: BootParamsOptions): Uint8Array {
  const { image, cmdlineGpa, cmdlineLength, initrd, e820 } = options;
  if (cmdlineGpa === 0n) {
    throw new PvkitError("vmm-bad-boot-params", "the command line's GPA must not be 0");
  }
  const bytes = new Uint8Array(BOOT_PARAMS_SIZE);
  const v = new DataView(bytes.buffer);
  bytes.set(image.setupHeader, BOOT_PARAMS.hdr);
  v.setUint8(SETUP_HEADER.typeOfLoader, LOADER_TYPE_UNDEFINED);
  v.setUint32(
    SETUP_HEADER.code32Start,
    Number((options.kernelGpa ?? KERNEL_LOAD_GPA) & LOW32),
    true,
  );
  v.setUint32(SETUP_HEADER.cmdLinePtr, Number(cmdlineGpa & LOW32), true);
  v.setUint32(BOOT_PARAMS.extCmdLinePtr, Number(cmdlineGpa >> 32n), true);
  v.setUint32(SETUP_HEADER.cmdlineSize, cmdlineLength, true);
  if (initrd) {
    const size = BigInt(initrd.size);
    v.setUint32(SETUP_HEADER.ramdiskImage, Number(initrd.gpa & LOW32), true);
    v.setUint32(SETUP_HEADER.ramdiskSize, Number(size & LOW32), true);
    v.setUint32(BOOT_PARAMS.extRamdiskImage, Number(initrd.gpa >> 32n), true);
    v.setUint32(BOOT_PARAMS.extRamdiskSize, Number(size >> 32n), true);
  }
  encodeE820(bytes, e820);
  return bytes;
}

/**
 * The command line as the kernel reads it: UTF-8 with a terminating NUL. Throws
 * {@linkcode PvkitError} `vmm-cmdline-nul` if it contains a NUL (the kernel would stop
 * there), `vmm-cmdline-too-long` if it is longer than `maxLength` bytes without the NUL (pass
 * the kernel's `cmdline_size`, capped at the 2047 bytes the buffer at 0x20000 holds).
 *
 * @example
 * ```ts
 * import { encodeCmdline } from "@pvkit/vmm";
 * const bytes = encodeCmdline("console=ttyS0", 2047);
 * console.log(bytes.length, bytes[13]); // 14 0
 * ```
 */
export function encodeCmdline(cmdline: string, maxLength: number): Uint8Array {
  const nul = cmdline.indexOf("\0");
  if (nul >= 0) {
    throw new PvkitError(
      "vmm-cmdline-nul",
      `the kernel command line has a NUL character at offset ${nul}: the kernel would ignore ` +
        `everything after it`,
      "remove the NUL from the command line",
    );
  }
  const text = new TextEncoder().encode(cmdline);
  if (text.length > maxLength) {
    throw new PvkitError(
      "vmm-cmdline-too-long",
      `the kernel command line is ${text.length} bytes; at most ${maxLength} fit`,
      "shorten the command line",
    );
  }
  const bytes = new Uint8Array(text.length + 1);
  bytes.set(text);
  return bytes;
}
