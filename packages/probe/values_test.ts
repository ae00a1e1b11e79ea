import { assertEquals, assertThrows } from "@std/assert";
import { ProbeError } from "./errors.ts";
import { formatValue, parseMemorySize, parseProbeValue, toUnsigned, U64_MAX } from "./values.ts";

Deno.test("parseProbeValue reads numbers, hex, decimal and negative decimal", () => {
  assertEquals(parseProbeValue(0), 0n);
  assertEquals(parseProbeValue(12), 12n);
  assertEquals(parseProbeValue(-1000), -1000n);
  assertEquals(parseProbeValue(Number.MAX_SAFE_INTEGER), 2n ** 53n - 1n);
  assertEquals(parseProbeValue("0x4b564d01"), 0x4b564d01n);
  assertEquals(parseProbeValue("0x4B564D01"), 0x4b564d01n);
  assertEquals(parseProbeValue("1000"), 1000n);
  assertEquals(parseProbeValue("-1000"), -1000n);
  assertEquals(parseProbeValue("-0"), 0n);
  assertEquals(parseProbeValue("0x000000000000000000001"), 1n); // leading zeros are not bits
});

Deno.test("parseProbeValue accepts 2^64 - 1 and rejects 2^64", () => {
  assertEquals(parseProbeValue("0xffffffffffffffff"), U64_MAX);
  assertEquals(parseProbeValue("18446744073709551615"), U64_MAX);
  for (const wide of ["0x10000000000000000", "18446744073709551616"]) {
    const e = assertThrows(() => parseProbeValue(wide, "$.value"), ProbeError);
    assertEquals(e.message, `probe.json: $.value: "${wide}" does not fit in 64 bits`);
  }
});

Deno.test("parseProbeValue accepts down to -2^63", () => {
  assertEquals(parseProbeValue("-9223372036854775808"), -(2n ** 63n));
  assertThrows(() => parseProbeValue("-9223372036854775809"), ProbeError, "below -2^63");
});

Deno.test("parseProbeValue rejects what is not a 64-bit integer", async (t) => {
  const cases: [unknown, string][] = [
    [1.5, "1.5 is not an integer"],
    [2 ** 53, "9007199254740992 is too large for a JSON number (above 2^53)"],
    [NaN, "NaN is not an integer"],
    ["", '"" is not a number or hex string'],
    ["0x", '"0x" is not a number or hex string'],
    ["0X10", '"0X10" is not a number or hex string'],
    [" 1", '" 1" is not a number or hex string'],
    ["+1", '"+1" is not a number or hex string'],
    ["1e3", '"1e3" is not a number or hex string'],
    ["1.0", '"1.0" is not a number or hex string'],
    ["0x4b564d1g", '"0x4b564d1g" is not a number or hex string'],
    ["-0x10", '"-0x10": negative values are written in decimal'],
    [true, "true is not a number or hex string"],
    [null, "null is not a number or hex string"],
    [undefined, "nothing is not a number or hex string"],
    [[1], "[1] is not a number or hex string"],
  ];
  for (const [json, problem] of cases) {
    await t.step(String(JSON.stringify(json)), () => {
      const e = assertThrows(() => parseProbeValue(json, "$.x", "p.json"), ProbeError);
      assertEquals(e.message, `p.json: $.x: ${problem}`);
      assertEquals(e.code, "bad-probe");
      assertEquals(e.path, "$.x");
    });
  }
});

Deno.test("toUnsigned takes negative values modulo 2^bits", () => {
  assertEquals(toUnsigned(-1n), U64_MAX);
  assertEquals(toUnsigned(-1000n), 0xfffffffffffffc18n);
  assertEquals(toUnsigned(-1000n, 32), 0xfffffc18n);
  assertEquals(toUnsigned(0xfffffffffffffc18n, 32), 0xfffffc18n);
  assertEquals(toUnsigned(5n), 5n);
});

Deno.test("parseMemorySize reads bytes and K/M/G sizes (powers of 1024)", () => {
  assertEquals(parseMemorySize("16M"), 16 * 1024 * 1024);
  assertEquals(parseMemorySize("16m"), 16 * 1024 * 1024);
  assertEquals(parseMemorySize("4K"), 4096);
  assertEquals(parseMemorySize("1G"), 1024 ** 3);
  assertEquals(parseMemorySize("4096"), 4096);
  assertEquals(parseMemorySize("0x100000"), 0x100000);
  assertEquals(parseMemorySize(8192), 8192);
});

Deno.test("parseMemorySize rejects sizes that are not whole pages", async (t) => {
  for (const json of ["16X", "16MB", "1.5G", "", "-4096", 0, 4095, -4096, "100", 1.5, true, "0x"]) {
    await t.step(JSON.stringify(json), () => {
      const e = assertThrows(
        () => parseMemorySize(json, "$.machine.memory"),
        ProbeError,
      );
      assertEquals(e.path, "$.machine.memory");
    });
  }
});

Deno.test("formatValue prints unpadded lowercase hex", () => {
  assertEquals(formatValue(0n), "0x0");
  assertEquals(formatValue(0xabcn), "0xabc");
  assertEquals(formatValue(U64_MAX), "0xffffffffffffffff");
  assertThrows(() => formatValue(-1n), RangeError);
  assertThrows(() => formatValue(U64_MAX + 1n), RangeError);
});
