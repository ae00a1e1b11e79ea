import { PvkitError } from "@pvkit/machine";
import { assertEquals, assertThrows } from "@std/assert";
import {
  BOOT_GDT_ENTRIES,
  bootGdt,
  bootIdt,
  decodeGdtEntry,
  encodeDescriptorTablePointer,
  encodeGdtEntry,
  encodeIdtGate64,
  IDT_INTERRUPT_GATE,
  IDT_TRAP_GATE,
} from "./descriptors.ts";

Deno.test("the boot GDT matches the raw descriptors of spec §2.3", () => {
  assertEquals(BOOT_GDT_ENTRIES, [
    0n,
    0x00af9b000000ffffn,
    0x00cf93000000ffffn,
    0x008f8b000000ffffn,
  ]);
  const { gpa, bytes } = bootGdt();
  assertEquals(gpa, 0x500n);
  const view = new DataView(bytes.buffer);
  assertEquals([0, 8, 16, 24].map((o) => view.getBigUint64(o, true)), [...BOOT_GDT_ENTRIES]);
  assertEquals(bootIdt(), { gpa: 0x520n, bytes: new Uint8Array(8) });
});

Deno.test("encodeGdtEntry places base and limit in their split fields", () => {
  const raw = encodeGdtEntry(0x4092, 0x12345678, 0xabcde);
  assertEquals(raw, 0x124a92345678bcden);
  assertEquals(decodeGdtEntry(raw), {
    base: 0x12345678n,
    limit: 0xabcde,
    type: 2,
    s: 1,
    dpl: 0,
    present: 1,
    avl: 0,
    l: 0,
    db: 1,
    g: 0,
  });
  // Round trip of every bit of the access byte and flags nibble.
  for (const flags of [0x0000, 0xf0ff, 0x10e0, 0x2000, 0x8060]) {
    const d = decodeGdtEntry(encodeGdtEntry(flags, 0xffffffff, 0xfffff));
    const access = d.type | (d.s << 4) | (d.dpl << 5) | (d.present << 7);
    const nibble = d.avl | (d.l << 1) | (d.db << 2) | (d.g << 3);
    assertEquals(access | (nibble << 12), flags);
    assertEquals([d.base, d.limit], [0xffffffffn, 0xfffff]);
  }
});

Deno.test("encodeGdtEntry rejects flags over the limit bits and out-of-range fields", () => {
  const e = assertThrows(() => encodeGdtEntry(0x0a9b, 0, 0), PvkitError, "bits 11:8");
  assertEquals(e.code, "x86-bad-descriptor");
  assertThrows(() => encodeGdtEntry(0x1_0000, 0, 0), PvkitError);
  assertThrows(() => encodeGdtEntry(0x9b, 0x1_0000_0000, 0), PvkitError);
  assertThrows(() => encodeGdtEntry(0x9b, 0, 0x10_0000), PvkitError);
});

Deno.test("encodeIdtGate64 lays out offset, selector, IST, type, DPL and P", () => {
  const gate = encodeIdtGate64(0xffff_8000_1234_5678n, 0x08, IDT_TRAP_GATE, { ist: 2, dpl: 3 });
  assertEquals([...gate], [
    0x78,
    0x56, // offset 15:0
    0x08,
    0x00, // selector
    0x02, // IST
    0xef, // P | DPL 3 | type 0xF
    0x34,
    0x12, // offset 31:16
    0x00,
    0x80,
    0xff,
    0xff, // offset 63:32
    0,
    0,
    0,
    0, // reserved
  ]); // deno-fmt-ignore
  const absent = encodeIdtGate64(0x1000, 0x08, IDT_INTERRUPT_GATE, { present: false });
  assertEquals(absent[5], 0x0e);
  assertEquals(encodeIdtGate64(0x1000, 0x08)[5], 0x8e, "interrupt gate by default");
});

Deno.test("encodeIdtGate64 rejects bad types and fields", () => {
  const e = assertThrows(() => encodeIdtGate64(0, 8, 0xc), PvkitError, "0xE");
  assertEquals(e.code, "x86-bad-descriptor");
  assertThrows(() => encodeIdtGate64(0, 8, 0xe, { ist: 8 }), PvkitError);
  assertThrows(() => encodeIdtGate64(0, 8, 0xe, { dpl: 4 }), PvkitError);
  assertThrows(() => encodeIdtGate64(0, 0x10000), PvkitError);
  assertThrows(() => encodeIdtGate64(-1, 8), PvkitError);
});

Deno.test("encodeDescriptorTablePointer is limit (u16) then base (u64)", () => {
  assertEquals(
    [...encodeDescriptorTablePointer(31, 0x500n)],
    [0x1f, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0],
  );
  assertThrows(() => encodeDescriptorTablePointer(0x10000, 0), PvkitError);
});
