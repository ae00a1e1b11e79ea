import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { parseBzImage, XLF_KERNEL_64 } from "./bzimage.ts";
import { findDebianKernel, payloadByte, syntheticBzImage } from "./_test_bzimage.ts";

function refused(bytes: Uint8Array, code: string, file = "vmlinux.bin"): PvkitError {
  const e = assertThrows(() => parseBzImage(bytes, file), PvkitError);
  assertEquals(e.code, code, e.message);
  return e;
}

Deno.test("parseBzImage reads the setup header fields and splits off the payload", () => {
  const image = parseBzImage(syntheticBzImage({ setupSects: 6, payloadSize: 5000 }), "bzImage");
  assertEquals(image.file, "bzImage");
  assertEquals(image.setupSects, 6);
  assertEquals(image.version, 0x020f);
  assertEquals(image.loadflags, 0x01);
  assertEquals(image.xloadflags, 0x03);
  assertEquals(image.code32Start, 0x100000);
  assertEquals(image.initSize, 8 << 20);
  assertEquals(image.kernelAlignment, 0x200000);
  assertEquals(image.relocatable, true);
  assertEquals(image.cmdlineSize, 2047);
  assertEquals(image.initrdAddrMax, 0x7fffffff);
  assertEquals(image.prefAddress, 0x1000000n);
  // The header is 0x1F1 .. 0x202 + byte[0x201] (0x6A): 0x7B bytes, starting with setup_sects.
  assertEquals(image.setupHeader.length, 0x26c - 0x1f1);
  assertEquals(image.setupHeader[0], 6);
  assertEquals(image.setupHeader[0x206 - 0x1f1], 0x0f);
  assertEquals(image.payload.length, 5000);
  assertEquals([image.payload[0], image.payload[4999]], [payloadByte(0), payloadByte(4999)]);
});

Deno.test("parseBzImage: setup_sects 0 means 4", () => {
  const image = parseBzImage(syntheticBzImage({ setupSects: 0, payloadSize: 100 }));
  assertEquals(image.setupSects, 4);
  assertEquals(image.payload.length, 100);
  assertEquals(image.payload[0], payloadByte(0));
});

Deno.test("parseBzImage: a header longer than boot_params has room for is cut at 0x290", () => {
  const image = parseBzImage(syntheticBzImage({ jumpOffset: 0xff }));
  assertEquals(image.setupHeader.length, 0x290 - 0x1f1);
});

Deno.test("parseBzImage refuses an empty file", () => {
  const e = refused(new Uint8Array(0), "vmm-kernel-empty");
  assertEquals(e.message, "vmlinux.bin is empty (0 bytes)");
  assertMatch(e.hint ?? "", /bzImage/);
});

Deno.test("parseBzImage refuses an ELF vmlinux, saying to pass the bzImage", () => {
  const elf = new Uint8Array(4096);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const e = refused(elf, "vmm-kernel-elf", "vmlinux");
  assertEquals(e.message, "vmlinux is an ELF file (an uncompressed vmlinux), not a bzImage");
  assertMatch(e.hint ?? "", /arch\/x86\/boot\/bzImage.*\/boot\/vmlinuz-\*/);
});

Deno.test("parseBzImage refuses a file shorter than a boot sector", () => {
  const e = refused(new Uint8Array(100), "vmm-not-bzimage");
  assertMatch(e.message, /vmlinux\.bin is not a bzImage: 100 bytes is shorter than .* 512-byte/);
});

Deno.test("parseBzImage refuses random bytes (no boot flag)", () => {
  let seed = 12345;
  const random = new Uint8Array(64 * 1024).map(() =>
    (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24
  );
  random[0x1fe] = 0; // make sure the pseudo-random bytes are not a boot flag by chance
  const e = refused(random, "vmm-not-bzimage");
  assertEquals(e.message, "vmlinux.bin is not a bzImage (no 0xAA55 boot flag at 0x1FE)");
});

Deno.test("parseBzImage refuses a boot sector without the HdrS magic", () => {
  const e = refused(syntheticBzImage({ magic: "XXXX" }), "vmm-not-bzimage");
  assertMatch(e.message, /no "HdrS" setup-header magic at 0x202/);
});

Deno.test("parseBzImage refuses a file that ends inside the setup header", () => {
  const e = refused(syntheticBzImage().subarray(0, 0x230), "vmm-kernel-truncated");
  assertMatch(e.message, /vmlinux\.bin is truncated: 560 bytes end inside the setup header/);
});

Deno.test("parseBzImage refuses boot protocols before 2.12", () => {
  const e = refused(syntheticBzImage({ version: 0x0206 }), "vmm-boot-protocol-too-old");
  assertMatch(
    e.message,
    /^vmlinux\.bin's boot protocol 2\.06 is too old: pvkit needs 2\.12 or later/,
  );
  parseBzImage(syntheticBzImage({ version: 0x020c })); // 2.12 itself is fine
});

Deno.test("parseBzImage refuses a zImage (LOADED_HIGH clear)", () => {
  const e = refused(syntheticBzImage({ loadflags: 0x80 }), "vmm-kernel-not-loaded-high");
  assertMatch(e.message, /zImage, not a bzImage \(LOADED_HIGH clear in loadflags 0x80\)/);
});

Deno.test("parseBzImage refuses a kernel without a 64-bit entry point", () => {
  const e = refused(syntheticBzImage({ xloadflags: 0x02 }), "vmm-kernel-no-64bit-entry");
  assertMatch(e.message, /^vmlinux\.bin has no 64-bit entry point \(XLF_KERNEL_64 clear/);
});

Deno.test("parseBzImage refuses a file cut short of what syssize says", () => {
  const whole = syntheticBzImage({ payloadSize: 8192 });
  const e = refused(whole.subarray(0, whole.length - 100), "vmm-kernel-truncated");
  assertMatch(e.message, /truncated: 10652 bytes, but its header says 10752 \(4 setup sectors/);
  // Nothing after the setup sectors at all.
  refused(whole.subarray(0, 5 * 512), "vmm-kernel-truncated");
});

Deno.test("parseBzImage names the kernel 'the kernel' by default", () => {
  const e = assertThrows(() => parseBzImage(new Uint8Array(0)), PvkitError);
  assertEquals(e.message, "the kernel is empty (0 bytes)");
});

const debianKernel = findDebianKernel();

Deno.test({
  name: "parseBzImage reads Debian's kernel (needs the Debian kernel from pvkit nested's cache)",
  ignore: debianKernel === undefined,
  fn() {
    const image = parseBzImage(Deno.readFileSync(debianKernel!), debianKernel);
    assert(image.version >= 0x020f, `protocol ${image.version.toString(16)}`);
    assertEquals(image.xloadflags & XLF_KERNEL_64, XLF_KERNEL_64);
    assertEquals(image.loadflags & 1, 1);
    assert(image.relocatable);
    assertEquals(image.setupHeader.length, 0x26c - 0x1f1); // jump offset 0x6A since 2.12
    assert(image.payload.length > 1 << 20);
    assert(image.initSize > image.payload.length);
    assertEquals(image.prefAddress, 0x1000000n); // LOAD_PHYSICAL_ADDR
  },
});
