/**
 * {@linkcode GuestChunk}: bytes destined for one guest-physical address.
 *
 * @module
 */

/**
 * Bytes to copy into guest memory at `gpa`: assembled code, a descriptor table, a page table.
 *
 * @example
 * ```ts
 * import type { GuestChunk } from "@pvkit/x86";
 * const chunk: GuestChunk = { gpa: 0x500n, bytes: new Uint8Array(32) };
 * console.log(chunk.gpa.toString(16), chunk.bytes.length); // "500" 32
 * ```
 */
export interface GuestChunk {
  /** Guest-physical address of the first byte. */
  readonly gpa: bigint;
  /** The bytes, in guest memory order. */
  readonly bytes: Uint8Array;
}
