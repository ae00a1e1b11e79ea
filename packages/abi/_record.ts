// Internal helpers shared by the record codecs. Not exported from mod.ts.

import { ArrayGuestMemory, type Gpa, type GuestMemory, GuestMemoryError } from "@pvkit/machine";

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Throws {@linkcode GuestMemoryError} unless all `size` bytes at `gpa` are guest RAM, so a
 * record write either happens whole or not at all.
 */
export function assertRecordInRam(mem: GuestMemory, gpa: Gpa, size: number): void {
  if (!mem.contains(gpa, size)) throw new GuestMemoryError(gpa, size, mem.size);
}

const directViews = new WeakMap<ArrayGuestMemory, DataView>();

/**
 * For a plain {@linkcode ArrayGuestMemory} (not a subclass, which may override its
 * accessors), a DataView over all of its RAM, so hot-path reads decode in place instead of
 * copying through `readBytes` (which allocates a buffer per call). `undefined` otherwise.
 */
export function directView(mem: GuestMemory): DataView | undefined {
  if (!(mem instanceof ArrayGuestMemory)) return undefined;
  let view = directViews.get(mem);
  if (view === undefined) {
    if (Object.getPrototypeOf(mem) !== ArrayGuestMemory.prototype) return undefined;
    view = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.byteLength);
    directViews.set(mem, view);
  }
  return view;
}

/**
 * The byte offset of `gpa` in a direct view, after the same bounds check
 * `ArrayGuestMemory.contains` makes; throws {@linkcode GuestMemoryError} otherwise.
 */
export function directOffset(view: DataView, gpa: Gpa, size: number): number {
  if (gpa >= 0n && gpa <= MAX_SAFE_BIG) {
    const off = Number(gpa);
    if (off + size <= view.byteLength) return off;
  }
  throw new GuestMemoryError(gpa, size, view.byteLength);
}

// One scratch buffer for encoding records before a single writeBytes. Encoders clear the
// bytes they use first, so a failed encode leaves nothing behind for the next one.
const SCRATCH = new Uint8Array(64);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/**
 * Encodes a record of `size` bytes with `encode` into a zeroed scratch buffer, then writes it
 * with one `writeBytes`. Checks bounds first, so an out-of-range record writes nothing.
 */
export function writeRecord(
  mem: GuestMemory,
  gpa: Gpa,
  size: number,
  encode: (view: DataView) => void,
): void {
  assertRecordInRam(mem, gpa, size);
  SCRATCH.fill(0, 0, size);
  encode(SCRATCH_VIEW);
  mem.writeBytes(gpa, SCRATCH.subarray(0, size));
}

/** A DataView over the record at `gpa`: in place for a direct view, else over a copy. */
export function readRecord(mem: GuestMemory, gpa: Gpa, size: number): [DataView, number] {
  const view = directView(mem);
  if (view !== undefined) return [view, directOffset(view, gpa, size)];
  const bytes = mem.readBytes(gpa, size);
  return [new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0];
}
