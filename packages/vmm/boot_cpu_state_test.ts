import { assertEquals } from "@std/assert";
import { zeroKvmRegs } from "@pvkit/kvm";
import {
  BOOT_FPU,
  bootCpuState,
  bootCpuTables,
  bootMsrEntries,
  identityMapGib,
} from "./boot_cpu_state.ts";

const u64s = (bytes: Uint8Array) => {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, i) => v.getBigUint64(i * 8, true));
};

Deno.test("bootCpuState: registers of the 64-bit boot protocol (Firecracker's setup_regs)", () => {
  const s = bootCpuState(0x100200n);
  assertEquals(s.regs, {
    ...zeroKvmRegs(),
    rip: 0x100200n,
    rsi: 0x7000n,
    rsp: 0x8ff0n,
    rbp: 0x8ff0n,
    rflags: 0x2n,
  });
  assertEquals(bootCpuState(0x200n, 0x9000n).regs.rsi, 0x9000n);
});

Deno.test("bootCpuState: long mode with flat segments from the boot GDT", () => {
  const { sregs } = bootCpuState(0x100200n);
  const seg = (
    s: typeof sregs.cs,
  ) => [s.selector, s.type, s.s, s.l, s.db, s.g, s.present, s.dpl, s.unusable, s.limit, s.base];
  assertEquals(seg(sregs.cs), [0x08, 0xb, 1, 1, 0, 1, 1, 0, 0, 0xffffffff, 0n]);
  for (const data of [sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss]) {
    assertEquals(seg(data), [0x10, 0x3, 1, 0, 1, 1, 1, 0, 0, 0xffffffff, 0n]);
  }
  assertEquals(seg(sregs.tr), [0x18, 0xb, 0, 0, 0, 1, 1, 0, 0, 0xffffffff, 0n]);
  assertEquals(sregs.gdt, { base: 0x500n, limit: 31 });
  assertEquals(sregs.idt, { base: 0x520n, limit: 7 });
  assertEquals(sregs.cr0, 0x80000011n); // PG | ET | PE
  assertEquals(sregs.cr3, 0x9000n);
  assertEquals(sregs.cr4, 0x20n); // PAE
  assertEquals(sregs.efer, 0x500n); // LME | LMA
});

Deno.test("bootCpuState: FPU control words and Firecracker's boot MSRs", () => {
  const s = bootCpuState(0x100200n);
  assertEquals(s.fpu, { fcw: 0x37f, mxcsr: 0x1f80 });
  assertEquals(BOOT_FPU, s.fpu);
  assertEquals(
    bootMsrEntries().map((m) => [m.index, m.data]),
    [
      [0x174, 0n],
      [0x175, 0n],
      [0x176, 0n],
      [0xc0000081, 0n],
      [0xc0000083, 0n],
      [0xc0000102, 0n],
      [0xc0000084, 0n],
      [0xc0000082, 0n],
      [0x10, 0n],
      [0x1a0, 1n],
      [0x2ff, 0x806n],
    ],
  );
  assertEquals(s.msrs, bootMsrEntries());
});

Deno.test("bootCpuTables: GDT, IDT and a 1 GiB identity map for a small guest", () => {
  const [gdt, idt, pml4, pdpt, pd, ...rest] = bootCpuTables(64 << 20);
  assertEquals(rest, []);
  assertEquals(gdt.gpa, 0x500n);
  assertEquals(u64s(gdt.bytes), [
    0n,
    0x00af9b000000ffffn,
    0x00cf93000000ffffn,
    0x008f8b000000ffffn,
  ]);
  assertEquals([idt.gpa, idt.bytes], [0x520n, new Uint8Array(8)]);
  assertEquals([pml4.gpa, pdpt.gpa, pd.gpa], [0x9000n, 0xa000n, 0xb000n]);
  assertEquals(u64s(pml4.bytes)[0], 0xa003n);
  assertEquals(u64s(pdpt.bytes).slice(0, 2), [0xb003n, 0n]);
  const pde = u64s(pd.bytes);
  assertEquals(pde.length, 512);
  pde.forEach((e, i) => assertEquals(e, (BigInt(i) << 21n) | 0x83n));
});

Deno.test("bootCpuTables: all low RAM is identity-mapped, up to 3 GiB", () => {
  assertEquals(identityMapGib(4096), 1);
  assertEquals(identityMapGib(2 ** 30), 1);
  assertEquals(identityMapGib(2 ** 30 + 4096), 2);
  assertEquals(identityMapGib(16 * 2 ** 30), 3);
  const tables = bootCpuTables(16 * 2 ** 30);
  assertEquals(tables.map((c) => c.gpa), [
    0x500n,
    0x520n,
    0x9000n,
    0xa000n,
    0xb000n,
    0xc000n,
    0xd000n,
  ]);
  assertEquals(u64s(tables[3].bytes).slice(0, 4), [0xb003n, 0xc003n, 0xd003n, 0n]);
  assertEquals(u64s(tables[6].bytes)[511], 0xbfe00083n); // the last 2 MiB below 3 GiB
});
