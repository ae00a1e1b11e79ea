/**
 * Where the initrd goes: page-aligned, as high as it can, below both the end of low RAM and the
 * kernel's `initrd_addr_max`, and above everything the kernel occupies while it boots (the
 * compressed image at 1 MiB and `init_size` bytes from its runtime start). Firecracker puts it
 * at the top of the first RAM region too (`initrd_load_addr`).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { alignDown, alignUp, formatSize, hex, mibCeil } from "./_format.ts";
import { lowRamEnd, MMIO_HOLE_START } from "./boot_layout.ts";
import type { BzImage } from "./bzimage.ts";
import { kernelFootprint, type KernelFootprintFields } from "./kernel_footprint.ts";

/**
 * Where the initrd lies in guest RAM.
 *
 * @example
 * ```ts
 * import type { InitrdPlacement } from "@pvkit/vmm";
 * const at: InitrdPlacement = { gpa: 0x7c00000n, size: 4 << 20 };
 * console.log(at.gpa.toString(16)); // "7c00000"
 * ```
 */
export interface InitrdPlacement {
  /** First byte, page-aligned. */
  readonly gpa: bigint;
  /** Length in bytes. */
  readonly size: number;
}

/**
 * The {@linkcode BzImage} fields {@linkcode placeInitrd} reads.
 *
 * @example
 * ```ts
 * import type { InitrdPlacementFields } from "@pvkit/vmm";
 * const fields: (keyof InitrdPlacementFields)[] = ["initrdAddrMax", "initSize"];
 * console.log(fields.length); // 2
 * ```
 */
export type InitrdPlacementFields = KernelFootprintFields & Pick<BzImage, "initrdAddrMax">;

const PAGE = 4096n;

/**
 * Places an initrd of `size` bytes for `image` in a guest with `memBytes` of RAM. `file`
 * names the initrd in errors (default "initrd"). Throws {@linkcode PvkitError}
 * `vmm-initrd-empty` for 0 bytes, `vmm-initrd-too-big` when it does not fit between the
 * kernel and the top of low RAM (saying how much RAM would do), or above `initrd_addr_max`.
 *
 * @example
 * ```ts
 * import { placeInitrd } from "@pvkit/vmm";
 * const image = {
 *   payload: new Uint8Array(8 << 20),
 *   relocatable: true,
 *   prefAddress: 0x1000000n,
 *   kernelAlignment: 0x200000,
 *   initSize: 0x3f98000,
 *   initrdAddrMax: 0x7fffffff,
 * };
 * console.log(placeInitrd(image, 10 << 20, 256 << 20).gpa.toString(16)); // "f600000"
 * try {
 *   placeInitrd(image, 300 << 20, 256 << 20);
 * } catch (e) {
 *   console.log((e as Error).message);
 *   // "initrd of 300 MiB does not fit in 256 MiB of guest RAM: ..."
 * }
 * ```
 */
export function placeInitrd(
  image: InitrdPlacementFields,
  size: number,
  memBytes: number,
  file = "initrd",
): InitrdPlacement {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new PvkitError("vmm-initrd-too-big", `${file} size ${size} is not a byte count`);
  }
  if (size === 0) {
    throw new PvkitError(
      "vmm-initrd-empty",
      `${file} is empty (0 bytes)`,
      "pass an initramfs (a cpio archive), or no initrd at all",
    );
  }
  const lowEnd = lowRamEnd(memBytes);
  const addrLimit = BigInt(image.initrdAddrMax) + 1n; // initrd_addr_max is the last byte
  const limit = addrLimit < lowEnd ? addrLimit : lowEnd;
  const floor = alignUp(kernelFootprint(image).end, PAGE);
  const top = BigInt(size) > limit ? -1n : alignDown(limit - BigInt(size), PAGE);
  if (top >= floor) return { gpa: top, size };

  const needed = floor + alignUp(BigInt(size), PAGE);
  if (needed > addrLimit) {
    throw new PvkitError(
      "vmm-initrd-too-big",
      `${file} of ${formatSize(size)} does not fit below the kernel's initrd_addr_max (${
        hex(image.initrdAddrMax)
      }) above the ${formatSize(floor)} the kernel takes`,
      "use a smaller initrd",
    );
  }
  const hint = needed <= MMIO_HOLE_START
    ? `give the guest at least ${mibCeil(needed)} MiB with -m`
    : "use a smaller initrd";
  throw new PvkitError(
    "vmm-initrd-too-big",
    `${file} of ${formatSize(size)} does not fit in ${
      formatSize(memBytes)
    } of guest RAM: the kernel takes the first ${formatSize(floor)}; ${hint}`,
    hint,
  );
}
