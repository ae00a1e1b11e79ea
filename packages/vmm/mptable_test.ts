import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { buildMpTable, MPTABLE_MAX_CPUS, mpTableSize } from "./mptable.ts";

const sum = (bytes: Uint8Array) => bytes.reduce((a, b) => (a + b) & 0xff, 0);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Parsed {
  cpus: { apicid: number; apicver: number; flags: number; feature: number; featureflag: number }[];
  buses: { id: number; type: string }[];
  ioapics: { id: number; ver: number; flags: number; addr: number }[];
  intsrcs: number[][];
  lintsrcs: number[][];
  oemcount: number;
  lapic: number;
}

/** Reads the table the way arch/x86/kernel/mpparse.c does: checksums, then entries by type. */
function parse(gpa: bigint, bytes: Uint8Array): Parsed {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assertEquals(text(bytes.subarray(0, 4)), "_MP_");
  assertEquals(bytes[8], 1); // length in paragraphs
  assertEquals(bytes[9], 4); // spec 1.4
  assertEquals(sum(bytes.subarray(0, 16)), 0, "mpf_intel checksum");
  assertEquals(bytes.subarray(11, 16), new Uint8Array(5)); // feature1 = 0: a table follows
  const table = v.getUint32(4, true) - Number(gpa);
  assertEquals(table, 16);
  assertEquals(text(bytes.subarray(table, table + 4)), "PCMP");
  const length = v.getUint16(table + 4, true);
  assertEquals(table + length, bytes.length);
  assertEquals(bytes[table + 6], 4);
  assertEquals(sum(bytes.subarray(table, table + length)), 0, "mpc_table checksum");
  const parsed: Parsed = {
    cpus: [],
    buses: [],
    ioapics: [],
    intsrcs: [],
    lintsrcs: [],
    oemcount: v.getUint16(table + 34, true),
    lapic: v.getUint32(table + 36, true),
  };
  let at = table + 44;
  while (at < table + length) {
    const type = bytes[at];
    if (type === 0) {
      parsed.cpus.push({
        apicid: bytes[at + 1],
        apicver: bytes[at + 2],
        flags: bytes[at + 3],
        feature: v.getUint32(at + 4, true),
        featureflag: v.getUint32(at + 8, true),
      });
      at += 20;
      continue;
    }
    const e = [...bytes.subarray(at, at + 8)];
    if (type === 1) parsed.buses.push({ id: e[1], type: text(bytes.subarray(at + 2, at + 8)) });
    else if (type === 2) {
      parsed.ioapics.push({ id: e[1], ver: e[2], flags: e[3], addr: v.getUint32(at + 4, true) });
    } else if (type === 3) parsed.intsrcs.push(e);
    else if (type === 4) parsed.lintsrcs.push(e);
    else throw new Error(`unknown entry type ${type} at ${at}`);
    at += 8;
  }
  assertEquals(at, table + length);
  return parsed;
}

Deno.test("buildMpTable: two vCPUs, as Firecracker's table", () => {
  const { gpa, bytes } = buildMpTable([0, 1]);
  assertEquals(gpa, 0x9fc00n);
  assertEquals(bytes.length, mpTableSize(2));
  const t = parse(gpa, bytes);
  assertEquals(t.cpus, [
    { apicid: 0, apicver: 0x14, flags: 3, feature: 0x600, featureflag: 0x201 }, // enabled | BSP
    { apicid: 1, apicver: 0x14, flags: 1, feature: 0x600, featureflag: 0x201 },
  ]);
  assertEquals(t.buses, [{ id: 0, type: "ISA   " }]);
  assertEquals(t.ioapics, [{ id: 2, ver: 0x14, flags: 1, addr: 0xfec00000 }]);
  // ISA IRQ i -> IOAPIC pin i, irqtype INT, irqflag 0 (conforms to the bus).
  assertEquals(t.intsrcs, Array.from({ length: 24 }, (_, i) => [3, 0, 0, 0, 0, i, 2, i]));
  assertEquals(t.lintsrcs, [
    [4, 3, 0, 0, 0, 0, 0, 0], // ExtINT -> BSP LINT0
    [4, 1, 0, 0, 0, 0, 0xff, 1], // NMI -> all LINT1
  ]);
  assertEquals(t.oemcount, 2 + 1 + 1 + 24 + 2);
  assertEquals(t.lapic, 0xfee00000);
});

Deno.test("buildMpTable: checksums hold for every vCPU count, sparse IDs, another GPA", () => {
  for (const n of [1, 3, 8, 64, MPTABLE_MAX_CPUS]) {
    const ids = Array.from({ length: n }, (_, i) => i);
    const { gpa, bytes } = buildMpTable(ids);
    const t = parse(gpa, bytes);
    assertEquals(t.cpus.length, n);
    assertEquals(t.cpus.filter((c) => c.flags & 2).map((c) => c.apicid), [0]);
    assertEquals(t.ioapics[0].id, n);
  }
  const sparse = buildMpTable([4, 0, 2], { gpa: 0xa0000n, ioapicId: 1 });
  const t = parse(0xa0000n, sparse.bytes);
  assertEquals(t.cpus.map((c) => [c.apicid, c.flags]), [[4, 3], [0, 1], [2, 1]]);
  assertEquals(t.ioapics[0].id, 1);
  assertEquals(t.lintsrcs[0][6], 4); // ExtINT goes to the boot CPU
});

Deno.test("buildMpTable: 254 vCPUs fit below 0xE0000; 255 are refused", () => {
  const max = buildMpTable(Array.from({ length: 254 }, (_, i) => i));
  assertEquals(max.bytes.length, 284 + 20 * 254);
  const e = assertThrows(
    () => buildMpTable(Array.from({ length: 255 }, (_, i) => i)),
    PvkitError,
  );
  assertEquals(e.code, "vmm-too-many-cpus");
  assertMatch(e.message, /255 vCPUs are more than an MP table describes: at most 254/);
});

Deno.test("buildMpTable: a table that would run past 0xE0000 is refused", () => {
  const e = assertThrows(() => buildMpTable([0, 1], { gpa: 0xdff00n }), PvkitError);
  assertEquals(e.code, "vmm-too-many-cpus");
  assertMatch(e.message, /runs past 0xe0000/);
});

Deno.test("buildMpTable refuses bad APIC IDs", () => {
  const bad = (ids: number[], ioapicId: number | undefined, pattern: RegExp) => {
    const e = assertThrows(() => buildMpTable(ids, { ioapicId }), PvkitError);
    assertEquals(e.code, "vmm-bad-apic-id");
    assertMatch(e.message, pattern);
  };
  bad([], undefined, /at least one vCPU/);
  bad([0, 1, 1], undefined, /APIC ID 1 is given to two vCPUs/);
  bad([0, 255], undefined, /APIC ID 255 is not 0-254/);
  bad([0, -1], undefined, /APIC ID -1/);
  bad([0, 1], 1, /IOAPIC ID 1 is also a vCPU's APIC ID/);
  bad([0, 254], undefined, /IOAPIC ID 255 is not 0-254/);
});
