import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  decodeE820,
  E820_RAM,
  E820_RESERVED,
  type E820Entry,
  e820Map,
  encodeE820,
} from "./e820.ts";

const MIB = 1 << 20;
const GIB = 2 ** 30;

Deno.test("e820Map of 64 MiB: low RAM, the reserved system area, RAM from 1 MiB", () => {
  assertEquals(e820Map(64 * MIB), [
    { addr: 0n, size: 0x9fc00n, type: E820_RAM },
    { addr: 0x9fc00n, size: 0x60400n, type: E820_RESERVED },
    { addr: 0x100000n, size: BigInt(63 * MIB), type: E820_RAM },
  ]);
});

Deno.test("e820Map of 5 GiB: RAM below the MMIO hole and above 4 GiB", () => {
  const map = e820Map(5 * GIB);
  assertEquals(map.slice(2), [
    { addr: 0x100000n, size: 0xc000_0000n - 0x100000n, type: E820_RAM },
    { addr: 0x1_0000_0000n, size: BigInt(2 * GIB), type: E820_RAM },
  ]);
  // Nothing is listed inside the hole, and no two entries overlap.
  const sorted = [...map].sort((a, b) => Number(a.addr - b.addr));
  for (let i = 1; i < sorted.length; i++) {
    assertEquals(sorted[i - 1].addr + sorted[i - 1].size <= sorted[i].addr, true);
  }
});

Deno.test("e820Map refuses RAM that ends below 1 MiB", () => {
  const e = assertThrows(() => e820Map(MIB), PvkitError);
  assertEquals(e.code, "vmm-memory-too-small");
});

Deno.test("encodeE820 writes the count at 0x1E8 and 20-byte entries from 0x2D0", () => {
  const page = new Uint8Array(4096);
  encodeE820(page, e820Map(64 * MIB));
  const v = new DataView(page.buffer);
  assertEquals(page[0x1e8], 3);
  // Entry 1: { addr u64, size u64, type u32 } packed at 0x2D0 + 20.
  assertEquals(v.getBigUint64(0x2d0 + 20, true), 0x9fc00n);
  assertEquals(v.getBigUint64(0x2d0 + 28, true), 0x60400n);
  assertEquals(v.getUint32(0x2d0 + 36, true), E820_RESERVED);
  assertEquals(v.getBigUint64(0x2d0 + 40, true), 0x100000n);
  // Nothing else was touched.
  const touched = new Set<number>([0x1e8]);
  for (let i = 0x2d0; i < 0x2d0 + 60; i++) touched.add(i);
  for (let i = 0; i < 4096; i++) if (!touched.has(i)) assertEquals(page[i], 0, `byte ${i}`);
  assertEquals(decodeE820(page), e820Map(64 * MIB));
});

Deno.test("encodeE820 takes 128 entries and refuses 129", () => {
  const entries = (n: number): E820Entry[] =>
    Array.from({ length: n }, (_, i) => ({ addr: BigInt(i) << 20n, size: 1n << 20n, type: 1 }));
  const page = new Uint8Array(4096);
  encodeE820(page, entries(128));
  assertEquals(page[0x1e8], 128);
  assertEquals(new DataView(page.buffer).getBigUint64(0x2d0 + 127 * 20, true), 127n << 20n);
  const e = assertThrows(() => encodeE820(page, entries(129)), PvkitError);
  assertEquals(e.code, "vmm-e820-too-long");
});
