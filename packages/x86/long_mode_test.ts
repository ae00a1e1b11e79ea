import { PvkitError } from "@pvkit/machine";
import { assertEquals, assertThrows } from "@std/assert";
import {
  LONG_MODE_CR0,
  LONG_MODE_CR3,
  LONG_MODE_CR4,
  LONG_MODE_EFER,
  LONG_MODE_RFLAGS,
  longModeSegments,
  segmentFromGdtEntry,
} from "./long_mode.ts";

const FLAT = { base: 0n, limit: 0xffffffff, present: 1, dpl: 0, g: 1, avl: 0, unusable: 0 };

Deno.test("longModeSegments gives the kvm_segment values of spec §2.3", () => {
  const segs = longModeSegments();
  assertEquals(segs.cs, { ...FLAT, selector: 0x08, type: 0xb, s: 1, l: 1, db: 0 });
  const data = { ...FLAT, selector: 0x10, type: 3, s: 1, l: 0, db: 1 };
  for (const seg of [segs.ds, segs.es, segs.fs, segs.gs, segs.ss]) assertEquals(seg, data);
  assertEquals(segs.tr, { ...FLAT, selector: 0x18, type: 0xb, s: 0, l: 0, db: 0 });
});

Deno.test("control registers and EFER match spec §2.3", () => {
  assertEquals(LONG_MODE_CR0, 0x80000011n);
  assertEquals(LONG_MODE_CR3, 0x9000n);
  assertEquals(LONG_MODE_CR4, 0x20n);
  assertEquals(LONG_MODE_EFER, 0x500n);
  assertEquals(LONG_MODE_RFLAGS, 0x2n);
});

Deno.test("segmentFromGdtEntry: byte-granular limits stay, absent segments are unusable", () => {
  const small = segmentFromGdtEntry(0x20, 0x0000_8b00_0000_0067n); // 104-byte TSS, G = 0
  assertEquals([small.limit, small.g, small.unusable], [0x67, 0, 0]);
  const absent = segmentFromGdtEntry(0, 0n);
  assertEquals([absent.present, absent.unusable], [0, 1]);
  assertThrows(() => segmentFromGdtEntry(0x10000, 0n), PvkitError, "16-bit");
});
