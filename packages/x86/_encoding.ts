// Field-level encoding rules from the Intel SDM vol. 2, chapter 2 ("Instruction Format"):
// little-endian immediates, and the ModRM/SIB/displacement bytes of a memory operand in
// 64-bit mode with 64-bit addressing.

import { PvkitError } from "@pvkit/machine";
import { reg } from "./_registers.ts";
import type { Memory } from "./memory.ts";

/** A whole number as a bigint; `what` names the value for the error message. */
export function toBigInt(value: number | bigint, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value)) {
    throw new PvkitError(
      "x86-bad-immediate",
      `${what}: ${value} is not a whole number`,
      "pass an integer Number (up to 2^53) or a bigint",
    );
  }
  return BigInt(value);
}

/** Throws `x86-immediate-out-of-range` unless lo <= value < hiExclusive. */
export function checkRange(
  value: bigint,
  lo: bigint,
  hiExclusive: bigint,
  what: string,
  hint?: string,
): bigint {
  if (value < lo || value >= hiExclusive) {
    throw new PvkitError(
      "x86-immediate-out-of-range",
      `${what}: ${show(value)} does not fit; the form takes ${show(lo)}..${show(hiExclusive - 1n)}`,
      hint,
    );
  }
  return value;
}

/** Hex for big magnitudes, decimal for small ones, as a reader would write them. */
export function show(value: bigint): string {
  const abs = value < 0n ? -value : value;
  if (abs < 256n) return value.toString();
  return `${value < 0n ? "-" : ""}0x${abs.toString(16)}`;
}

/** The low `width` bytes of `value` (two's complement), least significant first. */
export function le(value: bigint, width: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/** True when the value survives truncation to a signed integer of `bits` bits. */
export function fitsSigned(value: bigint, bits: number): boolean {
  return BigInt.asIntN(bits, value) === value;
}

/** The ModRM byte and what follows it, plus the REX.X/REX.B bits a memory operand needs. */
export interface EncodedMemory {
  /** REX.X (0b10) and REX.B (0b01) bits. */
  readonly rex: number;
  /** ModRM, then SIB when present, then the displacement. */
  readonly bytes: readonly number[];
}

const SCALE_BITS: ReadonlyMap<number, number> = new Map([[1, 0], [2, 1], [4, 2], [8, 3]]);

/**
 * Encodes `[base + index*scale + disp]` with ModRM.reg = `regField` (a register code or an
 * opcode extension /digit). The SDM rules this follows (vol. 2, tables 2-2 and 2-3):
 * - rm = 100 means "a SIB byte follows", so rsp/r12 as a base always take a SIB byte;
 * - mod = 00 with rm = 101 means RIP-relative, so rbp/r13 as a base take mod = 01 and disp8 0;
 * - SIB index = 100 means "no index" (REX.X = 0), so rsp cannot be an index;
 * - SIB base = 101 with mod = 00 means "no base, disp32": the absolute form used for `[abs]`.
 */
export function encodeMemory(mem: Memory, regField: number, what: string): EncodedMemory {
  const disp = checkRange(
    toBigInt(mem.disp ?? 0, `${what} displacement`),
    -(1n << 31n),
    1n << 31n,
    `${what} displacement`,
    "x86-64 displacements are sign-extended 32-bit values; put the address in a base " +
      "register with movImm and use { base, disp: 0 }",
  );
  const base = mem.base === undefined ? undefined : reg(mem.base, [64], `${what} base`);
  const index = mem.index === undefined ? undefined : reg(mem.index, [64], `${what} index`);
  const scale = mem.scale ?? 1;
  const ss = SCALE_BITS.get(scale);
  if (ss === undefined) {
    throw new PvkitError(
      "x86-bad-memory-operand",
      `${what}: scale ${scale} is not encodable`,
      "use a scale of 1, 2, 4 or 8",
    );
  }
  if (index === undefined && scale !== 1) {
    throw new PvkitError(
      "x86-bad-memory-operand",
      `${what}: scale ${scale} given without an index register`,
      "add `index`, or drop `scale`",
    );
  }
  if (index !== undefined && index.code === 4) {
    throw new PvkitError(
      "x86-bad-memory-operand",
      `${what}: rsp cannot be an index register (SIB index 100 means "no index")`,
      "swap base and index when the scale is 1, or copy rsp to another register",
    );
  }
  const r = (regField & 7) << 3;
  const indexBits = index === undefined ? 4 : index.code & 7;
  const rexX = index !== undefined && index.code >= 8 ? 0b10 : 0;

  if (base === undefined) {
    // mod 00, rm 100, SIB base 101: disp32 with no base (index optional).
    return { rex: rexX, bytes: [0x04 | r, (ss << 6) | (indexBits << 3) | 0b101, ...le(disp, 4)] };
  }

  const rexB = base.code >= 8 ? 0b01 : 0;
  const low = base.code & 7;
  const mod = disp === 0n && low !== 0b101 ? 0b00 : fitsSigned(disp, 8) ? 0b01 : 0b10;
  const dispBytes = mod === 0b00 ? [] : le(disp, mod === 0b01 ? 1 : 4);
  if (index === undefined && low !== 0b100) {
    return { rex: rexB, bytes: [(mod << 6) | r | low, ...dispBytes] };
  }
  return {
    rex: rexX | rexB,
    bytes: [(mod << 6) | r | 0b100, (ss << 6) | (indexBits << 3) | low, ...dispBytes],
  };
}
