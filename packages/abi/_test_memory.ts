// Test doubles for GuestMemory. Not exported from mod.ts.

import { ArrayGuestMemory, type Gpa, type GuestMemory } from "@pvkit/machine";

/** One access seen by {@linkcode RecordingMemory}. */
export interface Access {
  /** Which accessor was called. */
  op: string;
  /** The GPA it was called with. */
  gpa: Gpa;
  /** For writes, the value or a copy of the bytes written. */
  value?: number | bigint | Uint8Array;
}

/**
 * A GuestMemory that is not an ArrayGuestMemory (so the codecs take their generic path),
 * forwarding to one and logging every access. `onReadU32` can change memory between reads
 * to play a concurrent writer.
 */
export class RecordingMemory implements GuestMemory {
  readonly inner: ArrayGuestMemory;
  readonly log: Access[] = [];
  onReadU32?: (gpa: Gpa, count: number) => void;
  #readU32Count = 0;

  constructor(size: number) {
    this.inner = new ArrayGuestMemory(size);
  }
  get size(): number {
    return this.inner.size;
  }
  get writes(): Access[] {
    return this.log.filter((a) => a.op.startsWith("write"));
  }
  contains(gpa: Gpa, length: number): boolean {
    return this.inner.contains(gpa, length);
  }
  readU8(gpa: Gpa): number {
    this.log.push({ op: "readU8", gpa });
    return this.inner.readU8(gpa);
  }
  readU16(gpa: Gpa): number {
    this.log.push({ op: "readU16", gpa });
    return this.inner.readU16(gpa);
  }
  readU32(gpa: Gpa): number {
    this.log.push({ op: "readU32", gpa });
    const value = this.inner.readU32(gpa);
    this.onReadU32?.(gpa, ++this.#readU32Count);
    return value;
  }
  readU64(gpa: Gpa): bigint {
    this.log.push({ op: "readU64", gpa });
    return this.inner.readU64(gpa);
  }
  readBytes(gpa: Gpa, length: number): Uint8Array {
    this.log.push({ op: "readBytes", gpa });
    return this.inner.readBytes(gpa, length);
  }
  writeU8(gpa: Gpa, value: number): void {
    this.log.push({ op: "writeU8", gpa, value });
    this.inner.writeU8(gpa, value);
  }
  writeU16(gpa: Gpa, value: number): void {
    this.log.push({ op: "writeU16", gpa, value });
    this.inner.writeU16(gpa, value);
  }
  writeU32(gpa: Gpa, value: number): void {
    this.log.push({ op: "writeU32", gpa, value });
    this.inner.writeU32(gpa, value);
  }
  writeU64(gpa: Gpa, value: bigint): void {
    this.log.push({ op: "writeU64", gpa, value });
    this.inner.writeU64(gpa, value);
  }
  writeBytes(gpa: Gpa, bytes: Uint8Array): void {
    this.log.push({ op: "writeBytes", gpa, value: bytes.slice() });
    this.inner.writeBytes(gpa, bytes);
  }
}

/** An ArrayGuestMemory subclass: the codecs must not take their in-place fast path for it. */
export class SubclassedMemory extends ArrayGuestMemory {
  readBytesCalls = 0;
  override readBytes(gpa: Gpa, length: number): Uint8Array {
    this.readBytesCalls++;
    return super.readBytes(gpa, length);
  }
}

/** A RAM of `size` bytes filled with a recognisable pattern (byte i = (i * 7 + 3) & 0xff). */
export function patternedMemory(size: number): ArrayGuestMemory {
  const mem = new ArrayGuestMemory(size);
  for (let i = 0; i < size; i++) mem.bytes[i] = (i * 7 + 3) & 0xff;
  return mem;
}

/** Little-endian bytes of `value` over `width` bytes. */
export function le(value: number | bigint, width: number): number[] {
  let v = BigInt.asUintN(width * 8, BigInt(value));
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}
