/**
 * The guest-memory hook interface: typed little-endian reads and writes at a guest-physical
 * address (GPA), each bounds-checked against guest RAM.
 *
 * @module
 */

import { GuestMemoryError, PvkitError } from "./errors.ts";

/** A guest-physical address. Always a bigint so 64-bit MSR values carry over unchanged. */
export type Gpa = bigint;

/**
 * Guest RAM as plugins and guest drivers see it. Every accessor throws
 * {@linkcode GuestMemoryError} when any byte of the access lies outside RAM; nothing is written
 * in that case.
 */
export interface GuestMemory {
  /** RAM size in bytes; valid GPAs are `0 .. size - 1`. */
  readonly size: number;
  /** Reads an unsigned byte. */
  readU8(gpa: Gpa): number;
  /** Reads an unsigned little-endian 16-bit value. */
  readU16(gpa: Gpa): number;
  /** Reads an unsigned little-endian 32-bit value. */
  readU32(gpa: Gpa): number;
  /** Reads an unsigned little-endian 64-bit value. */
  readU64(gpa: Gpa): bigint;
  /** Writes a byte (the value is truncated to 8 bits). */
  writeU8(gpa: Gpa, value: number): void;
  /** Writes a little-endian 16-bit value (truncated to 16 bits). */
  writeU16(gpa: Gpa, value: number): void;
  /** Writes a little-endian 32-bit value (truncated to 32 bits). */
  writeU32(gpa: Gpa, value: number): void;
  /** Writes a little-endian 64-bit value (taken mod 2^64). */
  writeU64(gpa: Gpa, value: bigint): void;
  /** Copies `length` bytes out of guest RAM. */
  readBytes(gpa: Gpa, length: number): Uint8Array;
  /** Copies `bytes` into guest RAM. */
  writeBytes(gpa: Gpa, bytes: Uint8Array): void;
  /** True when all `length` bytes at `gpa` are inside RAM. */
  contains(gpa: Gpa, length: number): boolean;
}

/** Zeroed RAM, or a {@linkcode PvkitError} when the host cannot provide it. */
function allocate(size: number): Uint8Array {
  try {
    return new Uint8Array(size);
  } catch (e) {
    throw new PvkitError(
      "guest-memory-unavailable",
      `cannot allocate ${size} bytes of guest RAM: ${(e as Error).message}`,
      "give the machine less memory",
    );
  }
}

/**
 * Guest RAM backed by one `ArrayBuffer`: the reference {@linkcode GuestMemory} used by the
 * emulated backend and by tests.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * const ram = new ArrayGuestMemory(4096);
 * ram.writeU32(0x10n, 0xdeadbeef);
 * console.log(ram.readU32(0x10n).toString(16)); // "deadbeef"
 * ```
 */
export class ArrayGuestMemory implements GuestMemory {
  /** RAM size in bytes. */
  readonly size: number;
  /** The bytes of guest RAM (GPA 0 is index 0). */
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  /** Allocates `size` bytes of zeroed guest RAM, or wraps an existing buffer. */
  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes = typeof sizeOrBytes === "number" ? allocate(sizeOrBytes) : sizeOrBytes;
    this.size = this.bytes.byteLength;
    this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** True when all `length` bytes at `gpa` are inside RAM. */
  contains(gpa: Gpa, length: number): boolean {
    // Number() is exact below 2^53 and huge (or negative) otherwise, which fails the check
    // either way: no BigInt arithmetic on the hot path.
    const at = Number(gpa);
    return at >= 0 && length >= 0 && at + length <= this.size;
  }

  #offset(gpa: Gpa, length: number): number {
    const at = Number(gpa);
    if (!(at >= 0 && at + length <= this.size)) throw new GuestMemoryError(gpa, length, this.size);
    return at;
  }

  /** Reads an unsigned byte. */
  readU8(gpa: Gpa): number {
    return this.#view.getUint8(this.#offset(gpa, 1));
  }
  /** Reads an unsigned little-endian 16-bit value. */
  readU16(gpa: Gpa): number {
    return this.#view.getUint16(this.#offset(gpa, 2), true);
  }
  /** Reads an unsigned little-endian 32-bit value. */
  readU32(gpa: Gpa): number {
    return this.#view.getUint32(this.#offset(gpa, 4), true);
  }
  /** Reads an unsigned little-endian 64-bit value. */
  readU64(gpa: Gpa): bigint {
    return this.#view.getBigUint64(this.#offset(gpa, 8), true);
  }
  /** Writes a byte (the value is truncated to 8 bits). */
  writeU8(gpa: Gpa, value: number): void {
    this.#view.setUint8(this.#offset(gpa, 1), value);
  }
  /** Writes a little-endian 16-bit value (truncated to 16 bits). */
  writeU16(gpa: Gpa, value: number): void {
    this.#view.setUint16(this.#offset(gpa, 2), value, true);
  }
  /** Writes a little-endian 32-bit value (truncated to 32 bits). */
  writeU32(gpa: Gpa, value: number): void {
    this.#view.setUint32(this.#offset(gpa, 4), value, true);
  }
  /** Writes a little-endian 64-bit value (taken mod 2^64). */
  writeU64(gpa: Gpa, value: bigint): void {
    this.#view.setBigUint64(this.#offset(gpa, 8), BigInt.asUintN(64, value), true);
  }
  /** Copies `length` bytes out of guest RAM. */
  readBytes(gpa: Gpa, length: number): Uint8Array {
    const at = this.#offset(gpa, length);
    return this.bytes.slice(at, at + length);
  }
  /** Copies `bytes` into guest RAM. */
  writeBytes(gpa: Gpa, bytes: Uint8Array): void {
    this.bytes.set(bytes, this.#offset(gpa, bytes.byteLength));
  }
}
