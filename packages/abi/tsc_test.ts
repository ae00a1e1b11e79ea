import { assertEquals } from "@std/assert";
import { MAX_GUEST_TSC_KHZ, tscAfterNs } from "./tsc.ts";

Deno.test("the TSC counts at its frequency and wraps at 2^64 like the hardware counter", () => {
  assertEquals(tscAfterNs(1_000_000_000n, 2_600_000n), 2_600_000_000n);
  const khz = BigInt(MAX_GUEST_TSC_KHZ);
  const ns = 10n ** 19n; // about 317 years: far past 2^64 cycles at this frequency
  const tsc = tscAfterNs(ns, khz);
  assertEquals(tsc < 2n ** 64n, true);
  assertEquals(tsc, ((ns * khz) / 1_000_000n) % 2n ** 64n);
});
