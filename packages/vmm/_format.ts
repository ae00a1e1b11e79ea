/**
 * Sizes and addresses as the boot errors print them.
 *
 * @module
 */

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** `300 MiB`, `1.5 GiB`, `17.3 MiB`, `640 KiB`, `12 bytes`: a size for an error message. */
export function formatSize(bytes: number | bigint): string {
  const n = Number(bytes);
  const unit = (size: number, name: string): string => {
    return `${Math.round((n / size) * 10) / 10} ${name}`;
  };
  if (n >= GIB && n % (GIB / 4) === 0) return unit(GIB, "GiB");
  if (n >= MIB) return unit(MIB, "MiB");
  if (n >= KIB) return unit(KIB, "KiB");
  return `${n} byte${n === 1 ? "" : "s"}`;
}

/** `0x100000`: a guest-physical address or header value in hex. */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16).toUpperCase()}`;
}

/** Rounds `value` up to a multiple of `align` (a power of two). */
export function alignUp(value: bigint, align: bigint): bigint {
  return (value + align - 1n) & ~(align - 1n);
}

/** Rounds `value` down to a multiple of `align` (a power of two). */
export function alignDown(value: bigint, align: bigint): bigint {
  return value & ~(align - 1n);
}

/** `value` bytes rounded up to whole MiB, for "give the guest at least N MiB". */
export function mibCeil(value: bigint | number): number {
  return Math.ceil(Number(value) / MIB);
}
