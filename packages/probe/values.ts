/**
 * Numbers in probe files: JSON numbers or strings (`"0x4b564d01"`, `"1000"`, `"-1000"`), read
 * as bigint; memory sizes with K/M/G suffixes; and the `"0x"` form results are printed in.
 *
 * @module
 */

import { JsonAt, show } from "./_json.ts";

/** The largest unsigned 64-bit value, 2^64 - 1. */
export const U64_MAX: bigint = (1n << 64n) - 1n;

/** The smallest signed 64-bit value, -2^63: the most negative a probe value may be. */
const I64_MIN = -(1n << 63n);

const HEX = /^0x[0-9a-fA-F]+$/;
const DECIMAL = /^-?[0-9]+$/;
const SIZE = /^([0-9]+)([KMGkmg]?)$/;
const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const PAGE = 4096;

const NUMBER_HINT = 'write values as JSON numbers or as strings: "0x4b564d01", "1000" or "-1000"';

/**
 * Reads a probe value: a JSON number that is a safe integer, or a string in hex (`"0x..."`),
 * decimal or negative decimal. The result lies in [-2^63, 2^64 - 1]; anything wider than
 * 64 bits, fractional or of another type is a {@linkcode ProbeError} naming `path` in `source`.
 *
 * Negative values are kept negative here; where a value meets a register it is taken modulo
 * 2^64 (or the register's width), see {@linkcode toUnsigned}.
 *
 * @example
 * ```ts
 * import { parseProbeValue } from "@pvkit/probe";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(parseProbeValue("0x4b564d01"), 0x4b564d01n);
 * assertEquals(parseProbeValue("-1000"), -1000n);
 * assertEquals(parseProbeValue(12), 12n);
 * assertEquals(parseProbeValue("0xffffffffffffffff"), 2n ** 64n - 1n);
 * assertThrows(() => parseProbeValue("0x10000000000000000", "$.value")); // 65 bits
 * ```
 */
export function parseProbeValue(json: unknown, path = "$", source = "probe.json"): bigint {
  const at: JsonAt = new JsonAt(source, path);
  let value: bigint;
  if (typeof json === "number") {
    if (!Number.isInteger(json)) at.fail(`${show(json)} is not an integer`);
    if (!Number.isSafeInteger(json)) {
      at.fail(
        `${show(json)} is too large for a JSON number (above 2^53)`,
        'write it as a string, e.g. "0xffffffffffffffff"',
      );
    }
    value = BigInt(json);
  } else if (typeof json === "string" && (HEX.test(json) || DECIMAL.test(json))) {
    value = BigInt(json);
  } else if (typeof json === "string" && /^-0x/i.test(json)) {
    at.fail(`${show(json)}: negative values are written in decimal`, 'e.g. "-1000"');
  } else {
    at.fail(`${show(json)} is not a number or hex string`, NUMBER_HINT);
  }
  if (value > U64_MAX) at.fail(`${show(json)} does not fit in 64 bits`);
  if (value < I64_MIN) at.fail(`${show(json)} is below -2^63, the most negative 64-bit value`);
  return value;
}

/**
 * Takes `value` modulo 2^`bits`: how a negative probe value (`"-1000"`) meets a register of
 * that width, and how results are compared (unsigned 64-bit; 32-bit for a hypercall made in
 * 32-bit mode).
 *
 * @example
 * ```ts
 * import { toUnsigned } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(toUnsigned(-1n), 0xffffffffffffffffn);
 * assertEquals(toUnsigned(-1000n, 32), 0xfffffc18n);
 * ```
 */
export function toUnsigned(value: bigint, bits = 64): bigint {
  return BigInt.asUintN(bits, value);
}

/**
 * Reads a memory size in bytes: a JSON number, or a string of decimal digits with an optional
 * K, M or G suffix (powers of 1024, either case), or a hex string. The size must be a positive
 * whole number of 4 KiB pages.
 *
 * @example
 * ```ts
 * import { parseMemorySize } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseMemorySize("16M"), 16 * 1024 * 1024);
 * assertEquals(parseMemorySize("1G"), 1 << 30);
 * assertEquals(parseMemorySize("0x100000"), 0x100000);
 * assertEquals(parseMemorySize(8192), 8192);
 * ```
 */
export function parseMemorySize(json: unknown, path = "$", source = "probe.json"): number {
  const at: JsonAt = new JsonAt(source, path);
  let bytes: number;
  const match = typeof json === "string" ? SIZE.exec(json) : null;
  if (typeof json === "number") {
    if (!Number.isSafeInteger(json)) at.fail(`${show(json)} is not a whole number of bytes`);
    bytes = json;
  } else if (match !== null) {
    bytes = Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()];
  } else if (typeof json === "string" && HEX.test(json)) {
    bytes = Number(BigInt(json));
  } else {
    at.fail(
      `${show(json)} is not a memory size`,
      'give bytes, or a number with K, M or G: 16777216, "16M", "1G", "0x100000"',
    );
  }
  if (!Number.isSafeInteger(bytes)) at.fail(`${show(json)} is too large`);
  if (bytes <= 0 || bytes % PAGE !== 0) {
    at.fail(`${show(json)} is not a positive whole number of 4 KiB pages`, 'e.g. "16M"');
  }
  return bytes;
}

/**
 * Formats a result value: `"0x"` and lowercase hex digits without padding (`0n` → `"0x0"`).
 * Results are unsigned 64-bit; a negative or wider value is a backend bug and throws a
 * `RangeError`.
 *
 * @example
 * ```ts
 * import { formatValue } from "@pvkit/probe";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(formatValue(0n), "0x0");
 * assertEquals(formatValue(0x4b564d01n), "0x4b564d01");
 * assertEquals(formatValue(2n ** 64n - 1000n), "0xfffffffffffffc18");
 * ```
 */
export function formatValue(value: bigint): string {
  if (value < 0n || value > U64_MAX) {
    throw new RangeError(`result value ${value} is not an unsigned 64-bit value`);
  }
  return "0x" + value.toString(16);
}
