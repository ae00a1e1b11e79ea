/**
 * Test helper (not exported from mod.ts): synthetic bzImages with a chosen setup header, valid
 * by default, for the loader's tests. Field offsets are boot.rst's, written out here on purpose
 * instead of reusing `SETUP_HEADER`, so a wrong offset there fails the tests.
 *
 * @module
 */

import { nestedCacheDir } from "@pvkit/nested";

/** Header fields of a synthetic bzImage; every one has a valid default. */
export interface SyntheticBzImageOptions {
  /** Raw `setup_sects` (default 4; 0 also means 4). */
  setupSects?: number;
  /** Boot flag at 0x1FE (default 0xAA55). */
  bootFlag?: number;
  /** Magic at 0x202 (default "HdrS"). */
  magic?: string;
  /** Boot protocol (default 0x020F). */
  version?: number;
  /** loadflags (default LOADED_HIGH). */
  loadflags?: number;
  /** xloadflags (default XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G). */
  xloadflags?: number;
  /** Bytes of protected-mode kernel (default 64 KiB). */
  payloadSize?: number;
  /** `syssize` in paragraphs (default: the payload's). */
  syssize?: number;
  /** init_size (default 8 MiB). */
  initSize?: number;
  /** pref_address (default 16 MiB). */
  prefAddress?: bigint;
  /** kernel_alignment (default 2 MiB). */
  kernelAlignment?: number;
  /** relocatable_kernel (default 1). */
  relocatable?: number;
  /** cmdline_size (default 2047). */
  cmdlineSize?: number;
  /** initrd_addr_max (default 0x7FFFFFFF). */
  initrdAddrMax?: number;
  /** The jump's offset byte at 0x201 (default 0x6A: the header ends at 0x26C). */
  jumpOffset?: number;
}

/** The payload byte at offset `i`: a pattern the tests can recognise in guest memory. */
export function payloadByte(i: number): number {
  return (i * 7 + 3) & 0xff;
}

/** A bzImage file: boot sector and setup sectors with the header, then the payload. */
export function syntheticBzImage(options: SyntheticBzImageOptions = {}): Uint8Array {
  const rawSects = options.setupSects ?? 4;
  const sects = rawSects === 0 ? 4 : rawSects;
  const payloadSize = options.payloadSize ?? 64 * 1024;
  const bytes = new Uint8Array((sects + 1) * 512 + payloadSize);
  const v = new DataView(bytes.buffer);
  v.setUint8(0x1f1, rawSects);
  // build.c pads the payload to whole paragraphs; floor() keeps odd test sizes valid.
  v.setUint32(0x1f4, options.syssize ?? Math.floor(payloadSize / 16), true);
  v.setUint16(0x1fe, options.bootFlag ?? 0xaa55, true);
  v.setUint8(0x200, 0xeb); // jmp short
  v.setUint8(0x201, options.jumpOffset ?? 0x6a);
  const magic = options.magic ?? "HdrS";
  for (let i = 0; i < 4; i++) bytes[0x202 + i] = magic.charCodeAt(i);
  v.setUint16(0x206, options.version ?? 0x020f, true);
  v.setUint8(0x211, options.loadflags ?? 0x01);
  v.setUint32(0x214, 0x100000, true); // code32_start
  v.setUint32(0x22c, options.initrdAddrMax ?? 0x7fff_ffff, true);
  v.setUint32(0x230, options.kernelAlignment ?? 0x200000, true);
  v.setUint8(0x234, options.relocatable ?? 1);
  v.setUint8(0x235, 21); // min_alignment
  v.setUint16(0x236, options.xloadflags ?? 0x03, true);
  v.setUint32(0x238, options.cmdlineSize ?? 2047, true);
  v.setBigUint64(0x258, options.prefAddress ?? 0x1000000n, true);
  v.setUint32(0x260, options.initSize ?? 8 << 20, true);
  // A byte past the header end (0x26C), so a loader copying too much shows.
  v.setUint8(0x270, 0x5a);
  const start = (sects + 1) * 512;
  for (let i = 0; i < payloadSize; i++) bytes[start + i] = payloadByte(i);
  return bytes;
}

/** The real kernel pvkit boots: Debian's, unpacked into pvkit nested's cache, if it is there. */
export function findDebianKernel(): string | undefined {
  const kernels = `${nestedCacheDir()}/kernel`;
  try {
    for (const pkg of Deno.readDirSync(kernels)) {
      if (!pkg.isDirectory) continue;
      try {
        for (const f of Deno.readDirSync(`${kernels}/${pkg.name}/boot`)) {
          if (f.name.startsWith("vmlinuz-")) return `${kernels}/${pkg.name}/boot/${f.name}`;
        }
      } catch { /* no boot/ folder: not an unpacked kernel */ }
    }
  } catch { /* no cache */ }
  return undefined;
}
