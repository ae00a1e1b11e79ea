/**
 * CPUID vocabulary shared by the core, plugins and backends.
 *
 * @module
 */

/** The four output registers of one CPUID leaf/subleaf. Values are unsigned 32-bit numbers. */
export interface CpuidRegisters {
  /** EAX. */
  eax: number;
  /** EBX. */
  ebx: number;
  /** ECX. */
  ecx: number;
  /** EDX. */
  edx: number;
}

/** The name of a CPUID output register. */
export type CpuidRegister = "eax" | "ebx" | "ecx" | "edx";

/** The CPUID output registers, in their architectural order. */
export const CPUID_REGISTERS: readonly CpuidRegister[] = ["eax", "ebx", "ecx", "edx"];

/**
 * Formats a 32-bit register value the way pvkit prints registers: `"0x"` and 8 lowercase hex
 * digits.
 *
 * @example
 * ```ts
 * import { hex32 } from "@pvkit/machine";
 * console.log(hex32(0x1007efb)); // "0x01007efb"
 * ```
 */
export function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}

/**
 * Formats a CPUID leaf number as pvkit's JSON keys do: `"0x"` and 8 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { leafKey } from "@pvkit/machine";
 * console.log(leafKey(0x40000001)); // "0x40000001"
 * ```
 */
export function leafKey(leaf: number): string {
  return hex32(leaf);
}

/**
 * Builds a 32-bit mask from bit numbers.
 *
 * @example
 * ```ts
 * import { bitMask } from "@pvkit/machine";
 * console.log(bitMask([0, 3]).toString(16)); // "9"
 * ```
 */
export function bitMask(bits: readonly number[]): number {
  let mask = 0;
  for (const bit of bits) mask = (mask | (1 << bit)) >>> 0;
  return mask;
}
