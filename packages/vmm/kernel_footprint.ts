/**
 * The guest RAM a bzImage occupies before it can read the e820 map: the compressed kernel
 * where the loader copies it, and `init_size` bytes from where it runs (boot.rst, `init_size`).
 * A relocatable kernel loaded at 1 MiB decompresses at `pref_address` (16 MiB for Debian's), so
 * the second range usually ends well above the first.
 *
 * @module
 */

import { alignUp, formatSize } from "./_format.ts";
import { KERNEL_LOAD_GPA } from "./boot_layout.ts";
import type { BzImage } from "./bzimage.ts";

/**
 * Where a bzImage lies in guest RAM during early boot.
 *
 * @example
 * ```ts
 * import type { KernelFootprint } from "@pvkit/vmm";
 * const f: KernelFootprint = {
 *   loadGpa: 0x100000n,
 *   loadEnd: 0x900000n,
 *   runtimeStart: 0x1000000n,
 *   runtimeEnd: 0x4f98000n,
 *   end: 0x4f98000n,
 * };
 * console.log(((f.end - f.runtimeStart) >> 20n).toString()); // "63"
 * ```
 */
export interface KernelFootprint {
  /** Where the protected-mode kernel is copied (0x100000). */
  readonly loadGpa: bigint;
  /** End (exclusive) of the copied kernel. */
  readonly loadEnd: bigint;
  /** Where the kernel runs: boot.rst's "kernel runtime start address". */
  readonly runtimeStart: bigint;
  /** `runtimeStart + init_size`. */
  readonly runtimeEnd: bigint;
  /** End (exclusive) of everything the kernel needs: `max(loadEnd, runtimeEnd)`. */
  readonly end: bigint;
}

/**
 * The {@linkcode BzImage} fields {@linkcode kernelFootprint} reads.
 *
 * @example
 * ```ts
 * import type { KernelFootprintFields } from "@pvkit/vmm";
 * const fields: (keyof KernelFootprintFields)[] = ["initSize", "prefAddress"];
 * console.log(fields.length); // 2
 * ```
 */
export type KernelFootprintFields = Pick<
  BzImage,
  "payload" | "relocatable" | "prefAddress" | "kernelAlignment" | "initSize"
>;

/**
 * The footprint of `image` loaded at `loadGpa` (default 0x100000). The runtime start follows
 * boot.rst: a relocatable kernel runs at `align_up(max(load address, pref_address),
 * kernel_alignment)`, any other at `pref_address`.
 *
 * @example
 * ```ts
 * import { kernelFootprint } from "@pvkit/vmm";
 * // The header values of Debian's 6.1 kernel (an 8 MiB payload):
 * const f = kernelFootprint({
 *   payload: new Uint8Array(8 << 20),
 *   relocatable: true,
 *   prefAddress: 0x1000000n,
 *   kernelAlignment: 0x200000,
 *   initSize: 0x3f98000,
 * });
 * console.log(f.runtimeStart.toString(16), f.end.toString(16)); // "1000000" "4f98000"
 * ```
 */
export function kernelFootprint(
  image: KernelFootprintFields,
  loadGpa: bigint = KERNEL_LOAD_GPA,
): KernelFootprint {
  const loadEnd = loadGpa + BigInt(image.payload.byteLength);
  let runtimeStart: bigint;
  if (image.relocatable) {
    const start = loadGpa < image.prefAddress ? image.prefAddress : loadGpa;
    const align = BigInt(image.kernelAlignment);
    // kernel_alignment is a power of two in every kernel; anything else aligns to nothing.
    runtimeStart = align > 0n && (align & (align - 1n)) === 0n ? alignUp(start, align) : start;
  } else {
    runtimeStart = image.prefAddress === 0n ? loadGpa : image.prefAddress;
  }
  const runtimeEnd = runtimeStart + BigInt(image.initSize);
  return {
    loadGpa,
    loadEnd,
    runtimeStart,
    runtimeEnd,
    end: runtimeEnd > loadEnd ? runtimeEnd : loadEnd,
  };
}

/**
 * The footprint as a line for a boot report, e.g.
 * `kernel 8.0 MiB at 0x100000, runs at 0x1000000 (init_size 63.6 MiB), needs RAM to 79.6 MiB`.
 *
 * @example
 * ```ts
 * import { describeKernelFootprint } from "@pvkit/vmm";
 * console.log(describeKernelFootprint({
 *   loadGpa: 0x100000n,
 *   loadEnd: 0x900000n,
 *   runtimeStart: 0x1000000n,
 *   runtimeEnd: 0x4f98000n,
 *   end: 0x4f98000n,
 * }));
 * // "kernel 8 MiB at 0x100000, runs at 0x1000000 (init_size 63.6 MiB), needs RAM up to 79.6 MiB"
 * ```
 */
export function describeKernelFootprint(f: KernelFootprint): string {
  return `kernel ${formatSize(f.loadEnd - f.loadGpa)} at 0x${f.loadGpa.toString(16)}, runs at 0x${
    f.runtimeStart.toString(16)
  } (init_size ${formatSize(f.runtimeEnd - f.runtimeStart)}), needs RAM up to ${formatSize(f.end)}`;
}
