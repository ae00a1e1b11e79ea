import { assertEquals } from "@std/assert";
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
