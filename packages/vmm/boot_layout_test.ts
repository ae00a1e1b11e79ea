import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { guestRamRegions, lowRamEnd, MMIO_HOLE_END, MMIO_HOLE_START } from "./boot_layout.ts";

const MIB = 1 << 20;
const GIB = 2 ** 30;

Deno.test("guestRamRegions: all RAM at 0 up to the MMIO hole", () => {
  assertEquals(guestRamRegions(64 * MIB), [{ gpa: 0n, size: 64 * MIB }]);
  assertEquals(guestRamRegions(3 * GIB), [{ gpa: 0n, size: 3 * GIB }]);
});

Deno.test("guestRamRegions: RAM past 3 GiB continues at 4 GiB", () => {
  assertEquals(guestRamRegions(3 * GIB + 4096), [
    { gpa: 0n, size: 3 * GIB },
    { gpa: 0x1_0000_0000n, size: 4096 },
  ]);
  assertEquals(guestRamRegions(8 * GIB), [
    { gpa: 0n, size: Number(MMIO_HOLE_START) },
    { gpa: MMIO_HOLE_END, size: 5 * GIB },
  ]);
});

Deno.test("lowRamEnd is the end of the region at 0", () => {
  assertEquals(lowRamEnd(64 * MIB), 0x400_0000n);
  assertEquals(lowRamEnd(16 * GIB), 0xc000_0000n);
});

Deno.test("guestRamRegions refuses sizes that are not whole pages, or absurd", () => {
  for (const bad of [0, -4096, 4097, 1.5, NaN, 256 * GIB]) {
    const e = assertThrows(() => guestRamRegions(bad), PvkitError);
    assertEquals(e.code, "vmm-bad-memory-size");
  }
});
