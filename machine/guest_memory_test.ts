import { assertEquals, assertThrows } from "@std/assert";
import { GuestMemoryError, PvkitError } from "./errors.ts";
import { ArrayGuestMemory } from "./guest_memory.ts";

Deno.test("guest memory reads and writes little-endian values", () => {
  const ram = new ArrayGuestMemory(64);
  ram.writeU64(8n, 0x1122334455667788n);
  assertEquals(ram.readU8(8n), 0x88);
  assertEquals(ram.readU32(12n), 0x11223344);
  ram.writeU64(16n, -1n);
  assertEquals(ram.readU64(16n), 0xffffffffffffffffn);
});

Deno.test("out-of-range accesses throw and write nothing", () => {
  const ram = new ArrayGuestMemory(16);
  assertThrows(() => ram.writeU64(12n, 1n), GuestMemoryError);
  assertEquals(ram.readBytes(0n, 16), new Uint8Array(16));
  assertThrows(() => ram.readU8(-1n), GuestMemoryError);
  assertThrows(() => ram.readU8(1n << 64n), GuestMemoryError);
  const e = assertThrows(() => ram.writeBytes(10n, new Uint8Array(8)), GuestMemoryError);
  assertEquals((e as GuestMemoryError).message.includes("0xa"), true);
});

Deno.test("guest RAM the host cannot allocate is a PvkitError, not a RangeError", () => {
  assertThrows(
    () => new ArrayGuestMemory(2 ** 53),
    PvkitError,
    `cannot allocate ${2 ** 53} bytes of guest RAM`,
  );
});
