import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { identityMapPageTables } from "./page_tables.ts";

function entries(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: 512 }, (_, i) => view.getBigUint64(i * 8, true));
}

Deno.test("identity map: PML4 -> PDPT -> 512 2 MiB pages, as in spec §2.3", () => {
  const [pml4, pdpt, pd, ...rest] = identityMapPageTables();
  assertEquals(rest, []);
  assertEquals([pml4.gpa, pdpt.gpa, pd.gpa], [0x9000n, 0xa000n, 0xb000n]);
  for (const t of [pml4, pdpt, pd]) assertEquals(t.bytes.length, 4096);
  assertEquals(entries(pml4.bytes), [0xa003n, ...new Array(511).fill(0n)]);
  assertEquals(entries(pdpt.bytes), [0xb003n, ...new Array(511).fill(0n)]);
  assertEquals(
    entries(pd.bytes),
    Array.from({ length: 512 }, (_, i) => (BigInt(i) << 21n) | 0x83n),
  );
  assertEquals(entries(pd.bytes)[511], 0x3fe00083n); // the last page maps 1 GiB - 2 MiB
});

Deno.test("identity map of 4 GiB: one page directory per GiB, from 0xB000", () => {
  const [pml4, pdpt, ...pds] = identityMapPageTables(4);
  assertEquals(entries(pml4.bytes), [0xa003n, ...new Array(511).fill(0n)]);
  assertEquals(pds.map((c) => c.gpa), [0xb000n, 0xc000n, 0xd000n, 0xe000n]);
  assertEquals(entries(pdpt.bytes).slice(0, 5), [0xb003n, 0xc003n, 0xd003n, 0xe003n, 0n]);
  assertEquals(entries(pds[1].bytes)[0], (1n << 30n) | 0x83n);
  assertEquals(entries(pds[3].bytes)[511], 0xffe00083n); // the last 2 MiB below 4 GiB
});

Deno.test("identity map: 0 or 5 GiB is refused", () => {
  for (const gib of [0, 5, 1.5]) {
    const e = assertThrows(() => identityMapPageTables(gib), PvkitError);
    assertEquals(e.code, "x86-bad-identity-map");
  }
});
