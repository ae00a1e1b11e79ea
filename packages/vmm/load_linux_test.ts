import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { ArrayGuestMemory, PvkitError } from "@pvkit/machine";
import { decodeE820, e820Map } from "./e820.ts";
import { loadLinux, type LoadLinuxOptions, minimumGuestMemory } from "./load_linux.ts";
import { parseBzImage } from "./bzimage.ts";
import { findDebianKernel, payloadByte, syntheticBzImage } from "./_test_bzimage.ts";

const MIB = 1 << 20;

function options(overrides: Partial<LoadLinuxOptions> = {}): LoadLinuxOptions {
  return {
    kernel: syntheticBzImage({ payloadSize: 300_000 }),
    kernelFile: "bzImage",
    initrd: new Uint8Array(100_000).fill(0xcd),
    initrdFile: "initrd.cpio",
    cmdline: "console=ttyS0 panic=1",
    memBytes: 64 * MIB,
    apicIds: [0, 1],
    ...overrides,
  };
}

Deno.test("loadLinux writes kernel, command line, zero page, initrd, MP table and tables", () => {
  const memory = new ArrayGuestMemory(64 * MIB);
  const setup = loadLinux(memory, options());

  // The protected-mode kernel at 1 MiB, entry at +0x200.
  assertEquals(setup.entry, 0x100200n);
  assertEquals(setup.regs.rip, 0x100200n);
  const kernel = memory.readBytes(0x100000n, 300_000);
  assertEquals([kernel[0], kernel[299_999]], [payloadByte(0), payloadByte(299_999)]);
  assertEquals(setup.kernel.loadEnd, 0x100000n + 300_000n);
  assertEquals(setup.kernel.end, 0x1800000n); // runs at 16 MiB with init_size 8 MiB

  // The command line at 0x20000, NUL-terminated.
  assertEquals(setup.cmdline, { gpa: 0x20000n, length: 22, text: "console=ttyS0 panic=1" });
  assertEquals(
    new TextDecoder().decode(memory.readBytes(0x20000n, 22)),
    "console=ttyS0 panic=1\0",
  );

  // The initrd at the top of RAM, page-aligned.
  assertEquals(setup.initrd, { gpa: 0x4000000n - 0x19000n, size: 100_000 });
  assertEquals(memory.readU8(setup.initrd!.gpa), 0xcd);
  assertEquals(memory.readU8(setup.initrd!.gpa + 99_999n), 0xcd);

  // The zero page at 0x7000 (RSI) says where all that is.
  assertEquals([setup.zeroPage, setup.regs.rsi], [0x7000n, 0x7000n]);
  const zp = 0x7000n;
  assertEquals(memory.readU16(zp + 0x1fen), 0xaa55);
  assertEquals(memory.readU32(zp + 0x202n), 0x53726448);
  assertEquals(memory.readU16(zp + 0x206n), 0x020f);
  assertEquals(memory.readU8(zp + 0x210n), 0xff);
  assertEquals(memory.readU32(zp + 0x228n), 0x20000);
  assertEquals(memory.readU32(zp + 0x238n), 22);
  assertEquals(memory.readU32(zp + 0x218n), Number(setup.initrd!.gpa));
  assertEquals(memory.readU32(zp + 0x21cn), 100_000);
  assertEquals(decodeE820(memory.readBytes(zp, 4096)), e820Map(64 * MIB));
  assertEquals(setup.e820, e820Map(64 * MIB));

  // The MP table at 0x9FC00, the boot GDT, IDT and page tables.
  assertEquals(new TextDecoder().decode(memory.readBytes(0x9fc00n, 4)), "_MP_");
  assertEquals(memory.readU32(0x9fc04n), 0x9fc10);
  assertEquals(new TextDecoder().decode(memory.readBytes(0x9fc10n, 4)), "PCMP");
  assertEquals(setup.mpTable, { gpa: 0x9fc00n, size: 324 });
  assertEquals(memory.readU64(0x508n), 0x00af9b000000ffffn);
  assertEquals(memory.readU64(0x9000n), 0xa003n);
  assertEquals(memory.readU64(0xa000n), 0xb003n);
  assertEquals(memory.readU64(0xb000n + 8n * 511n), 0x3fe00083n);

  // The entry state for the vCPU setters.
  assertEquals(setup.sregs.cr3, 0x9000n);
  assertEquals(setup.fpu, { fcw: 0x37f, mxcsr: 0x1f80 });
  assertEquals(setup.msrs.length, 11);
  assertEquals(setup.ramRegions, [{ gpa: 0n, size: 64 * MIB }]);
  assertEquals(setup.image.version, 0x020f);
});

Deno.test("loadLinux without an initrd leaves the ramdisk fields 0", () => {
  const memory = new ArrayGuestMemory(32 * MIB);
  const setup = loadLinux(memory, options({ initrd: undefined, memBytes: 32 * MIB }));
  assertEquals(setup.initrd, undefined);
  assertEquals([memory.readU32(0x7218n), memory.readU32(0x721cn)], [0, 0]);
});

Deno.test("loadLinux: a guest too small for the kernel is refused with the minimum", () => {
  const memory = new ArrayGuestMemory(16 * MIB);
  const e = assertThrows(
    () => loadLinux(memory, options({ memBytes: 16 * MIB, initrd: undefined })),
    PvkitError,
  );
  assertEquals(e.code, "vmm-memory-too-small");
  assertEquals(
    e.message,
    "16 MiB of guest RAM is too small: bzImage needs at least 24 MiB (293 KiB at 0x100000, " +
      "running at 0x1000000 with init_size 8 MiB)",
  );
  assertEquals(e.hint, "give the guest at least 24 MiB with -m");
  // With an initrd, the minimum counts it too.
  const withInitrd = assertThrows(
    () => loadLinux(memory, options({ memBytes: 16 * MIB, initrd: new Uint8Array(3 * MIB) })),
    PvkitError,
  );
  assertMatch(withInitrd.message, /needs at least 27 MiB with its 3 MiB initrd/);
  assertEquals(minimumGuestMemory(parseBzImage(syntheticBzImage()), 3 * MIB), 27 * MIB);
  // Nothing was written before the refusal.
  assert(memory.bytes.every((b) => b === 0));
});

Deno.test("loadLinux: an initrd too big for the guest is refused", () => {
  const memory = new ArrayGuestMemory(32 * MIB);
  const e = assertThrows(
    () => loadLinux(memory, options({ memBytes: 32 * MIB, initrd: new Uint8Array(10 * MIB) })),
    PvkitError,
  );
  assertEquals(e.code, "vmm-initrd-too-big");
  assertEquals(
    e.message,
    "initrd.cpio of 10 MiB does not fit in 32 MiB of guest RAM: the kernel takes the first " +
      "24 MiB; give the guest at least 34 MiB with -m",
  );
});

Deno.test("loadLinux: the other refusals come through", () => {
  const memory = new ArrayGuestMemory(32 * MIB);
  const code = (o: Partial<LoadLinuxOptions>) =>
    assertThrows(() => loadLinux(memory, options({ memBytes: 32 * MIB, ...o })), PvkitError).code;
  assertEquals(code({ kernel: new Uint8Array(0) }), "vmm-kernel-empty");
  assertEquals(
    code({ kernel: syntheticBzImage({ version: 0x0206 }) }),
    "vmm-boot-protocol-too-old",
  );
  assertEquals(code({ cmdline: "x".repeat(2048) }), "vmm-cmdline-too-long");
  assertEquals(
    code({ kernel: syntheticBzImage({ cmdlineSize: 10 }), cmdline: "console=ttyS0" }),
    "vmm-cmdline-too-long",
  );
  assertEquals(code({ cmdline: "a\0b" }), "vmm-cmdline-nul");
  assertEquals(code({ apicIds: [0, 0] }), "vmm-bad-apic-id");
  assertEquals(code({ memBytes: 64 * MIB }), "vmm-bad-guest-memory");
  assertEquals(code({ memBytes: 32 * MIB + 1 }), "vmm-bad-memory-size");
  assert(memory.bytes.every((b) => b === 0));
});

Deno.test("loadLinux into the low slot of a 4 GiB guest maps and describes both regions", () => {
  // Only the e820 and regions are checked: the low 3 GiB would be too much to allocate here,
  // so give the loader a memory that claims the size and stores sparsely.
  const written = new Map<bigint, Uint8Array>();
  const sparse = {
    size: 3 * 2 ** 30,
    contains: (gpa: bigint, length: number) => gpa >= 0n && Number(gpa) + length <= 3 * 2 ** 30,
    writeBytes: (gpa: bigint, bytes: Uint8Array) => void written.set(gpa, bytes),
  } as unknown as ArrayGuestMemory;
  const setup = loadLinux(sparse, options({ memBytes: 4 * 2 ** 30 }));
  assertEquals(setup.ramRegions, [
    { gpa: 0n, size: 3 * 2 ** 30 },
    { gpa: 0x1_0000_0000n, size: 2 ** 30 },
  ]);
  assertEquals(setup.e820.at(-1), { addr: 0x1_0000_0000n, size: 1n << 30n, type: 1 });
  // The initrd sits below initrd_addr_max (2 GiB), not at 3 GiB.
  assertEquals(setup.initrd!.gpa, 0x8000_0000n - 0x19000n);
  // Page directories for 3 GiB: 0xB000, 0xC000, 0xD000.
  assert(written.has(0xd000n) && !written.has(0xe000n));
});

const debianKernel = findDebianKernel();

Deno.test({
  name:
    "loadLinux loads Debian's kernel into 128 MiB (needs the Debian kernel from pvkit nested's cache)",
  ignore: debianKernel === undefined,
  fn() {
    const kernel = Deno.readFileSync(debianKernel!);
    const image = parseBzImage(kernel);
    // It decompresses at 16 MiB and needs init_size from there: about 80 MiB in all.
    const minimum = minimumGuestMemory(image);
    assert(minimum > 64 * MIB && minimum < 128 * MIB, `minimum ${minimum / MIB} MiB`);
    const small = new ArrayGuestMemory(64 * MIB);
    const e = assertThrows(
      () => loadLinux(small, options({ kernel, initrd: undefined, memBytes: 64 * MIB })),
      PvkitError,
    );
    assertEquals(e.hint, `give the guest at least ${minimum / MIB} MiB with -m`);

    const memory = new ArrayGuestMemory(128 * MIB);
    const setup = loadLinux(memory, options({ kernel, memBytes: 128 * MIB }));
    assertEquals(memory.readBytes(0x100000n, 4096), image.payload.subarray(0, 4096));
    assertEquals(memory.readU16(0x7206n), image.version);
    assert(setup.initrd!.gpa >= setup.kernel.end);
  },
});
