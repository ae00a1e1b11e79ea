import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  BOOT_PARAMS,
  buildBootParams,
  encodeCmdline,
  LOADER_TYPE_UNDEFINED,
} from "./boot_params.ts";
import { parseBzImage, SETUP_HEADER } from "./bzimage.ts";
import { decodeE820, e820Map } from "./e820.ts";
import { syntheticBzImage } from "./_test_bzimage.ts";

Deno.test("zero-page offsets match arch/x86/include/uapi/asm/bootparam.h", () => {
  assertEquals(BOOT_PARAMS, {
    acpiRsdpAddr: 0x070,
    extRamdiskImage: 0x0c0,
    extRamdiskSize: 0x0c4,
    extCmdLinePtr: 0x0c8,
    e820Entries: 0x1e8,
    sentinel: 0x1ef,
    hdr: 0x1f1,
    e820Table: 0x2d0,
  });
  // struct setup_header, as boot.rst lists it.
  assertEquals(SETUP_HEADER, {
    setupSects: 0x1f1,
    syssize: 0x1f4,
    bootFlag: 0x1fe,
    jumpOffset: 0x201,
    header: 0x202,
    version: 0x206,
    typeOfLoader: 0x210,
    loadflags: 0x211,
    code32Start: 0x214,
    ramdiskImage: 0x218,
    ramdiskSize: 0x21c,
    cmdLinePtr: 0x228,
    initrdAddrMax: 0x22c,
    kernelAlignment: 0x230,
    relocatableKernel: 0x234,
    xloadflags: 0x236,
    cmdlineSize: 0x238,
    prefAddress: 0x258,
    initSize: 0x260,
  });
});

Deno.test("buildBootParams: the kernel's header, then the loader's fields", () => {
  const file = syntheticBzImage({ loadflags: 0x81 });
  const image = parseBzImage(file);
  const page = buildBootParams({
    image,
    cmdlineGpa: 0x20000n,
    cmdlineLength: 14,
    initrd: { gpa: 0x3c00000n, size: 0x123456 },
    e820: e820Map(64 << 20),
  });
  const v = new DataView(page.buffer);
  assertEquals(page.length, 4096);
  // Header bytes come from the file, except the fields the loader writes.
  const written = new Set<number>();
  for (const [off, len] of [[0x210, 1], [0x214, 4], [0x218, 8], [0x228, 4], [0x238, 4]]) {
    for (let i = 0; i < len; i++) written.add(off + i);
  }
  for (let off = 0x1f1; off < 0x26c; off++) {
    if (!written.has(off)) assertEquals(page[off], file[off], `header byte ${off.toString(16)}`);
  }
  assertEquals(page[0x26c], 0); // past the header end: not copied (the file has 0x5a at 0x270)
  assertEquals(page[0x270], 0);
  assertEquals(page[0x1ef], 0); // sentinel: only the header was copied
  assertEquals(v.getUint16(0x1fe, true), 0xaa55);
  assertEquals(v.getUint32(0x202, true), 0x53726448);
  assertEquals(page[0x210], LOADER_TYPE_UNDEFINED);
  assertEquals(page[0x211], 0x81); // loadflags kept as the kernel has them
  assertEquals(v.getUint32(0x214, true), 0x100000);
  assertEquals(v.getUint32(0x218, true), 0x3c00000);
  assertEquals(v.getUint32(0x21c, true), 0x123456);
  assertEquals(v.getUint32(0x228, true), 0x20000);
  assertEquals(v.getUint32(0x238, true), 14);
  for (const ext of [0x0c0, 0x0c4, 0x0c8]) assertEquals(v.getUint32(ext, true), 0);
  assertEquals(decodeE820(page), e820Map(64 << 20));
});

Deno.test("buildBootParams: the ext_ fields carry bits 63-32", () => {
  const page = buildBootParams({
    image: parseBzImage(syntheticBzImage()),
    cmdlineGpa: 0x1_0002_0000n,
    cmdlineLength: 1,
    initrd: { gpa: 0x2_4000_0000n, size: 2 ** 32 + 5 },
    e820: [],
  });
  const v = new DataView(page.buffer);
  assertEquals(v.getUint32(0x228, true), 0x20000);
  assertEquals(v.getUint32(0x0c8, true), 1);
  assertEquals(v.getUint32(0x218, true), 0x4000_0000);
  assertEquals(v.getUint32(0x0c0, true), 2);
  assertEquals(v.getUint32(0x21c, true), 5);
  assertEquals(v.getUint32(0x0c4, true), 1);
  assertEquals(page[0x1e8], 0);
});

Deno.test("buildBootParams without an initrd leaves ramdisk_image/size 0", () => {
  const page = buildBootParams({
    image: parseBzImage(syntheticBzImage()),
    cmdlineGpa: 0x20000n,
    cmdlineLength: 1,
    e820: e820Map(64 << 20),
  });
  const v = new DataView(page.buffer);
  assertEquals([v.getUint32(0x218, true), v.getUint32(0x21c, true)], [0, 0]);
});

Deno.test("buildBootParams refuses a command line at GPA 0 (the kernel needs it non-zero)", () => {
  const e = assertThrows(
    () =>
      buildBootParams({
        image: parseBzImage(syntheticBzImage()),
        cmdlineGpa: 0n,
        cmdlineLength: 1,
        e820: [],
      }),
    PvkitError,
  );
  assertEquals(e.code, "vmm-bad-boot-params");
});

Deno.test("encodeCmdline: UTF-8 with a NUL", () => {
  assertEquals(encodeCmdline("", 10), new Uint8Array([0]));
  assertEquals(encodeCmdline("a=é", 10), new Uint8Array([0x61, 0x3d, 0xc3, 0xa9, 0]));
  assertEquals(encodeCmdline("x".repeat(2047), 2047).length, 2048);
});

Deno.test("encodeCmdline refuses a line longer than the kernel takes", () => {
  const e = assertThrows(() => encodeCmdline("x".repeat(2048), 2047), PvkitError);
  assertEquals(e.code, "vmm-cmdline-too-long");
  assertEquals(e.message, "the kernel command line is 2048 bytes; at most 2047 fit");
  // Bytes, not characters: 2 bytes each.
  assertThrows(() => encodeCmdline("é".repeat(6), 11), PvkitError, "12 bytes");
});

Deno.test("encodeCmdline refuses a NUL inside the line", () => {
  const e = assertThrows(() => encodeCmdline("console=ttyS0\0quiet", 2047), PvkitError);
  assertEquals(e.code, "vmm-cmdline-nul");
  assertMatch(e.message, /NUL character at offset 13/);
});
