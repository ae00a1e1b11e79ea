import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { placeInitrd } from "./initrd_placement.ts";

const MIB = 1 << 20;
// Debian 6.1's header values: runs at 16 MiB, init_size 63.6 MiB, so RAM up to 79.6 MiB.
const debian = {
  payload: new Uint8Array(0x7d8200),
  relocatable: true,
  prefAddress: 0x1000000n,
  kernelAlignment: 0x200000,
  initSize: 0x3f98000,
  initrdAddrMax: 0x7fffffff,
};

Deno.test("placeInitrd: page-aligned at the top of low RAM", () => {
  assertEquals(placeInitrd(debian, 10 * MIB, 256 * MIB), { gpa: 0xf600000n, size: 10 * MIB });
  const odd = placeInitrd(debian, 12345, 256 * MIB);
  assertEquals(odd.gpa, 0x10000000n - 16384n); // 12345 bytes rounded to 4 pages below the top
  assertEquals(odd.gpa % 4096n, 0n);
});

Deno.test("placeInitrd: below initrd_addr_max when RAM goes higher", () => {
  const at = placeInitrd(debian, 4096, 3 * 2 ** 30);
  assertEquals(at.gpa, 0x7ffff000n); // the last byte is initrd_addr_max
  const low = placeInitrd({ ...debian, initrdAddrMax: 0x37ffffff }, MIB, 2 ** 30);
  assertEquals(low.gpa + BigInt(MIB) - 1n <= 0x37ffffffn, true);
});

Deno.test("placeInitrd: never below the end of the kernel's footprint", () => {
  // 256 MiB RAM, the kernel takes 79.6 MiB (rounded to the page): 176.4 MiB are left.
  const fits = 256 * MIB - 0x4f98000;
  assertEquals(placeInitrd(debian, fits, 256 * MIB).gpa, 0x4f98000n);
  assertThrows(() => placeInitrd(debian, fits + 1, 256 * MIB), PvkitError);
});

Deno.test("placeInitrd: too big for the guest's RAM says how much would do", () => {
  const e = assertThrows(() => placeInitrd(debian, 300 * MIB, 256 * MIB, "initrd.img"), PvkitError);
  assertEquals(e.code, "vmm-initrd-too-big");
  assertEquals(
    e.message,
    "initrd.img of 300 MiB does not fit in 256 MiB of guest RAM: the kernel takes the first " +
      "79.6 MiB; give the guest at least 380 MiB with -m",
  );
  assertEquals(e.hint, "give the guest at least 380 MiB with -m");
});

Deno.test("placeInitrd: too big for initrd_addr_max, whatever the RAM", () => {
  const e = assertThrows(() => placeInitrd(debian, 2100 * MIB, 3 * 2 ** 30), PvkitError);
  assertEquals(e.code, "vmm-initrd-too-big");
  assertMatch(e.message, /initrd of 2\.1 GiB|initrd of 2100 MiB/);
  assertMatch(e.message, /initrd_addr_max \(0x7FFFFFFF\)/);
});

Deno.test("placeInitrd: an empty initrd is refused", () => {
  const e = assertThrows(() => placeInitrd(debian, 0, 256 * MIB), PvkitError);
  assertEquals(e.code, "vmm-initrd-empty");
});
