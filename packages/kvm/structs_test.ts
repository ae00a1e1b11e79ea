import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { longModeSegments } from "@pvkit/x86";
import {
  decodeKvmClockData,
  decodeKvmMsrs,
  decodeKvmRegs,
  decodeKvmSregs,
  encodeKvmClockData,
  encodeKvmEnableCap,
  encodeKvmMsrs,
  encodeKvmRegs,
  encodeKvmSregs,
  encodeUserMemoryRegion,
  KVM_STRUCT_SIZE,
  type KvmSregs,
  zeroKvmRegs,
} from "./mod.ts";

Deno.test("kvm_regs: each register at its uapi offset, round trip", () => {
  const regs = zeroKvmRegs();
  const names = Object.keys(regs) as (keyof typeof regs)[];
  names.forEach((name, i) => regs[name] = BigInt(i + 1) * 0x0101_0101_0101n);
  const bytes = encodeKvmRegs(regs);
  assertEquals(bytes.byteLength, KVM_STRUCT_SIZE.kvm_regs);
  const v = new DataView(bytes.buffer);
  assertEquals(v.getBigUint64(128, true), regs.rip); // rip @128
  assertEquals(v.getBigUint64(136, true), regs.rflags); // rflags @136
  assertEquals(v.getBigUint64(48, true), regs.rsp); // rsp @48
  assertEquals(v.getBigUint64(64, true), regs.r8); // r8 @64
  assertEquals(decodeKvmRegs(bytes), regs);
});

Deno.test("kvm_regs: values outside u64 are refused", () => {
  assertThrows(() => encodeKvmRegs({ ...zeroKvmRegs(), rax: -1n }), PvkitError, "rax");
  assertThrows(() => encodeKvmRegs({ ...zeroKvmRegs(), rip: 1n << 64n }), PvkitError, "rip");
});

Deno.test("kvm_sregs: long-mode segments, tables and control registers land at their offsets", () => {
  const sregs: KvmSregs = decodeKvmSregs(new Uint8Array(312));
  const segs = longModeSegments();
  Object.assign(sregs, {
    cs: { ...segs.cs },
    ss: { ...segs.ss },
    tr: { ...segs.tr },
    gdt: { base: 0x500n, limit: 31 },
    idt: { base: 0x520n, limit: 4095 },
    cr0: 0x80000011n,
    cr3: 0x9000n,
    cr4: 0x20n,
    efer: 0x500n,
    apicBase: 0xfee00900n,
    interruptBitmap: [1n, 0n, 0n, 1n << 63n],
  });
  const bytes = encodeKvmSregs(sregs);
  assertEquals(bytes.byteLength, KVM_STRUCT_SIZE.kvm_sregs);
  const v = new DataView(bytes.buffer);
  // cs @0: selector @12, type @14, present @15, l @19, g @20.
  assertEquals(v.getUint32(8, true), 0xffffffff);
  assertEquals(v.getUint16(12, true), 0x08);
  assertEquals([v.getUint8(14), v.getUint8(15), v.getUint8(19), v.getUint8(20)], [0xb, 1, 1, 1]);
  assertEquals(v.getUint16(120 + 12, true), 0x10); // ss @120
  assertEquals(v.getUint16(144 + 12, true), 0x18); // tr @144
  assertEquals(v.getBigUint64(192, true), 0x500n); // gdt.base
  assertEquals(v.getUint16(200, true), 31); // gdt.limit
  assertEquals(v.getBigUint64(208, true), 0x520n); // idt.base
  assertEquals(v.getUint16(216, true), 4095);
  assertEquals(v.getBigUint64(224, true), 0x80000011n); // cr0
  assertEquals(v.getBigUint64(240, true), 0x9000n); // cr3
  assertEquals(v.getBigUint64(248, true), 0x20n); // cr4
  assertEquals(v.getBigUint64(264, true), 0x500n); // efer
  assertEquals(v.getBigUint64(272, true), 0xfee00900n); // apic_base
  assertEquals(v.getBigUint64(304, true), 1n << 63n); // interrupt_bitmap[3]
  assertEquals(decodeKvmSregs(bytes), sregs);
});

Deno.test("kvm_sregs: a segment field wider than its C type is refused", () => {
  const sregs = decodeKvmSregs(new Uint8Array(312));
  sregs.cs.selector = 0x10000;
  assertThrows(() => encodeKvmSregs(sregs), PvkitError, "cs.selector");
});

Deno.test("kvm_msrs: header, 16-byte entries, decode honours the count KVM returned", () => {
  const bytes = encodeKvmMsrs([
    { index: 0x4b564d01, data: 0x1001n },
    { index: 0x10, data: (1n << 64n) - 1n },
  ]);
  assertEquals(bytes.byteLength, 8 + 2 * 16);
  const v = new DataView(bytes.buffer);
  assertEquals(v.getUint32(0, true), 2);
  assertEquals(v.getUint32(8, true), 0x4b564d01);
  assertEquals(v.getBigUint64(16, true), 0x1001n);
  assertEquals(v.getUint32(24, true), 0x10);
  assertEquals(decodeKvmMsrs(bytes).length, 2);
  assertEquals(decodeKvmMsrs(bytes, 1), [{ index: 0x4b564d01, data: 0x1001n }]);
});

Deno.test("kvm_enable_cap: cap, flags, args[4], 104 bytes; more than 4 args refused", () => {
  const bytes = encodeKvmEnableCap(201, [1n << 12n], 0);
  assertEquals(bytes.byteLength, KVM_STRUCT_SIZE.kvm_enable_cap);
  const v = new DataView(bytes.buffer);
  assertEquals([v.getUint32(0, true), v.getUint32(4, true)], [201, 0]);
  assertEquals(v.getBigUint64(8, true), 4096n);
  assertThrows(() => encodeKvmEnableCap(1, [1, 2, 3, 4, 5]), PvkitError, "at most 4");
});

Deno.test("kvm_clock_data: clock @0, flags @8, realtime @16, host_tsc @24", () => {
  const data = { clock: 123n, flags: 6, realtime: 456n, hostTsc: 789n };
  const bytes = encodeKvmClockData(data);
  assertEquals(bytes.byteLength, 48);
  const v = new DataView(bytes.buffer);
  assertEquals(
    [v.getBigUint64(0, true), v.getUint32(8, true), v.getBigUint64(16, true)],
    [123n, 6, 456n],
  );
  assertEquals(v.getBigUint64(24, true), 789n);
  assertEquals(decodeKvmClockData(bytes), data);
});

Deno.test("kvm_userspace_memory_region: slot, flags, gpa, size, userspace address", () => {
  const bytes = encodeUserMemoryRegion({
    slot: 1,
    flags: 2,
    guestPhysAddr: 0x1000_0000n,
    memorySize: 0x20_0000n,
    userspaceAddr: 0x7f00_0000_0000n,
  });
  const v = new DataView(bytes.buffer);
  assertEquals(bytes.byteLength, 32);
  assertEquals([v.getUint32(0, true), v.getUint32(4, true)], [1, 2]);
  assertEquals(
    [v.getBigUint64(8, true), v.getBigUint64(16, true), v.getBigUint64(24, true)],
    [0x1000_0000n, 0x20_0000n, 0x7f00_0000_0000n],
  );
});
