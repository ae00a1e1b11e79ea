/**
 * Codecs for the fixed-layout KVM structs the VM and vCPU ioctls pass: `kvm_regs`,
 * `kvm_sregs` (with `kvm_segment` and `kvm_dtable`), `kvm_msrs`, `kvm_enable_cap`,
 * `kvm_clock_data` and `kvm_userspace_memory_region`.
 *
 * Pure functions over bytes: no FFI, so they are tested without `/dev/kvm`. Offsets are the
 * x86-64 uapi layouts (spec §1.1), little-endian. 64-bit fields are bigints.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { KVM_STRUCT_SIZE } from "./ioctl_numbers.ts";

const U64_MAX = (1n << 64n) - 1n;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkSize(bytes: Uint8Array, size: number, struct: string): void {
  if (bytes.byteLength < size) {
    throw new PvkitError(
      "kvm-bad-struct",
      `${struct} needs ${size} bytes, got ${bytes.byteLength}`,
    );
  }
}

function u64(value: bigint, what: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) {
    throw new PvkitError("kvm-bad-struct", `${what} = ${value} is not an unsigned 64-bit bigint`);
  }
  return value;
}

function uint(value: number, bits: 8 | 16 | 32, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new PvkitError(
      "kvm-bad-struct",
      `${what} = ${value} is not an unsigned ${bits}-bit value`,
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// kvm_regs

/**
 * The general-purpose registers, RIP and RFLAGS: `struct kvm_regs` (144 bytes).
 *
 * @example
 * ```ts
 * import { type KvmRegs, zeroKvmRegs } from "@pvkit/kvm";
 * const regs: KvmRegs = { ...zeroKvmRegs(), rip: 0x100000n, rflags: 2n };
 * console.log(regs.rip.toString(16)); // "100000"
 * ```
 */
export interface KvmRegs {
  /** RAX. */
  rax: bigint;
  /** RBX. */
  rbx: bigint;
  /** RCX. */
  rcx: bigint;
  /** RDX. */
  rdx: bigint;
  /** RSI. */
  rsi: bigint;
  /** RDI. */
  rdi: bigint;
  /** RSP. */
  rsp: bigint;
  /** RBP. */
  rbp: bigint;
  /** R8. */
  r8: bigint;
  /** R9. */
  r9: bigint;
  /** R10. */
  r10: bigint;
  /** R11. */
  r11: bigint;
  /** R12. */
  r12: bigint;
  /** R13. */
  r13: bigint;
  /** R14. */
  r14: bigint;
  /** R15. */
  r15: bigint;
  /** The instruction pointer. */
  rip: bigint;
  /** RFLAGS; bit 1 always reads as 1. */
  rflags: bigint;
}

const REG_ORDER = [
  "rax",
  "rbx",
  "rcx",
  "rdx",
  "rsi",
  "rdi",
  "rsp",
  "rbp",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
  "rip",
  "rflags",
] as const satisfies readonly (keyof KvmRegs)[];

/**
 * A `KvmRegs` with every register 0 (RFLAGS too: set bit 1 before KVM_SET_REGS).
 *
 * @example
 * ```ts
 * import { zeroKvmRegs } from "@pvkit/kvm";
 * console.log(zeroKvmRegs().rax); // 0n
 * ```
 */
export function zeroKvmRegs(): KvmRegs {
  const regs = {} as KvmRegs;
  for (const name of REG_ORDER) regs[name] = 0n;
  return regs;
}

/**
 * Encodes `struct kvm_regs` (the KVM_SET_REGS argument).
 *
 * @example
 * ```ts
 * import { encodeKvmRegs, zeroKvmRegs } from "@pvkit/kvm";
 * const bytes = encodeKvmRegs({ ...zeroKvmRegs(), rip: 0x100000n });
 * console.log(bytes.byteLength, new DataView(bytes.buffer).getUint32(128, true)); // 144 1048576
 * ```
 */
export function encodeKvmRegs(regs: KvmRegs): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(KVM_STRUCT_SIZE.kvm_regs);
  const v = view(bytes);
  REG_ORDER.forEach((name, i) => v.setBigUint64(i * 8, u64(regs[name], name), true));
  return bytes;
}

/**
 * Decodes `struct kvm_regs` (what KVM_GET_REGS fills).
 *
 * @example
 * ```ts
 * import { decodeKvmRegs, encodeKvmRegs, zeroKvmRegs } from "@pvkit/kvm";
 * const regs = decodeKvmRegs(encodeKvmRegs({ ...zeroKvmRegs(), rsp: 0x8ff0n }));
 * console.log(regs.rsp.toString(16)); // "8ff0"
 * ```
 */
export function decodeKvmRegs(bytes: Uint8Array): KvmRegs {
  checkSize(bytes, KVM_STRUCT_SIZE.kvm_regs, "struct kvm_regs");
  const v = view(bytes);
  const regs = {} as KvmRegs;
  REG_ORDER.forEach((name, i) => regs[name] = v.getBigUint64(i * 8, true));
  return regs;
}

// ---------------------------------------------------------------------------------------------
// kvm_sregs

/**
 * One segment register as `struct kvm_segment` (24 bytes) holds it: the hidden descriptor
 * cache. `limit` is in bytes. The shape matches `SegmentState` from `@pvkit/x86`, so
 * `longModeSegments()` values can be assigned directly.
 *
 * @example
 * ```ts
 * import type { KvmSegment } from "@pvkit/kvm";
 * const cs: KvmSegment = {
 *   base: 0n, limit: 0xffffffff, selector: 8, type: 0xb, present: 1, dpl: 0, db: 0, s: 1,
 *   l: 1, g: 1, avl: 0, unusable: 0,
 * };
 * console.log(cs.selector);
 * ```
 */
export interface KvmSegment {
  /** Segment base. */
  base: bigint;
  /** Limit in bytes (u32). */
  limit: number;
  /** The selector. */
  selector: number;
  /** Descriptor type (4 bits). */
  type: number;
  /** Present. */
  present: number;
  /** Privilege level. */
  dpl: number;
  /** Default operand size. */
  db: number;
  /** 1 for code/data, 0 for system segments. */
  s: number;
  /** 64-bit code. */
  l: number;
  /** Granularity. */
  g: number;
  /** Available bit. */
  avl: number;
  /** KVM's "unusable" flag (set when not present). */
  unusable: number;
}

/**
 * A descriptor-table register (GDTR or IDTR) as `struct kvm_dtable` holds it.
 *
 * @example
 * ```ts
 * import type { KvmDtable } from "@pvkit/kvm";
 * const gdt: KvmDtable = { base: 0x500n, limit: 31 };
 * console.log(gdt.limit);
 * ```
 */
export interface KvmDtable {
  /** Linear base address. */
  base: bigint;
  /** Limit: size in bytes minus one (u16). */
  limit: number;
}

/**
 * The special registers: `struct kvm_sregs` (312 bytes), as KVM_GET_SREGS/KVM_SET_SREGS move
 * them.
 *
 * @example
 * ```ts
 * import { decodeKvmSregs, type KvmSregs } from "@pvkit/kvm";
 * const sregs: KvmSregs = decodeKvmSregs(new Uint8Array(312));
 * sregs.efer = 0x500n;
 * console.log(sregs.cs.selector, sregs.efer); // 0 1280n
 * ```
 */
export interface KvmSregs {
  /** CS. */
  cs: KvmSegment;
  /** DS. */
  ds: KvmSegment;
  /** ES. */
  es: KvmSegment;
  /** FS. */
  fs: KvmSegment;
  /** GS. */
  gs: KvmSegment;
  /** SS. */
  ss: KvmSegment;
  /** The task register. */
  tr: KvmSegment;
  /** The LDT register. */
  ldt: KvmSegment;
  /** GDTR. */
  gdt: KvmDtable;
  /** IDTR. */
  idt: KvmDtable;
  /** CR0. */
  cr0: bigint;
  /** CR2 (the last page-fault address). */
  cr2: bigint;
  /** CR3 (page-table root). */
  cr3: bigint;
  /** CR4. */
  cr4: bigint;
  /** CR8 (task priority). */
  cr8: bigint;
  /** IA32_EFER. */
  efer: bigint;
  /** IA32_APIC_BASE. */
  apicBase: bigint;
  /** A pending external interrupt as a 256-bit bitmap, 4 words (no in-kernel irqchip only). */
  interruptBitmap: [bigint, bigint, bigint, bigint];
}

const SEGMENT_OFFSETS = [
  ["cs", 0],
  ["ds", 24],
  ["es", 48],
  ["fs", 72],
  ["gs", 96],
  ["ss", 120],
  ["tr", 144],
  ["ldt", 168],
] as const;
const SEG_U8_FIELDS = ["type", "present", "dpl", "db", "s", "l", "g", "avl", "unusable"] as const;
const CR_OFFSETS = [
  ["cr0", 224],
  ["cr2", 232],
  ["cr3", 240],
  ["cr4", 248],
  ["cr8", 256],
  ["efer", 264],
  ["apicBase", 272],
] as const;
const GDT_OFFSET = 192;
const IDT_OFFSET = 208;
const INTERRUPT_BITMAP_OFFSET = 280;

function decodeSegment(v: DataView, off: number): KvmSegment {
  const seg = {
    base: v.getBigUint64(off, true),
    limit: v.getUint32(off + 8, true),
    selector: v.getUint16(off + 12, true),
  } as KvmSegment;
  SEG_U8_FIELDS.forEach((f, i) => seg[f] = v.getUint8(off + 14 + i));
  return seg;
}

function encodeSegment(v: DataView, off: number, seg: KvmSegment, name: string): void {
  v.setBigUint64(off, u64(seg.base, `${name}.base`), true);
  v.setUint32(off + 8, uint(seg.limit, 32, `${name}.limit`), true);
  v.setUint16(off + 12, uint(seg.selector, 16, `${name}.selector`), true);
  SEG_U8_FIELDS.forEach((f, i) => v.setUint8(off + 14 + i, uint(seg[f], 8, `${name}.${f}`)));
}

/**
 * Decodes `struct kvm_sregs` (what KVM_GET_SREGS fills).
 *
 * @example
 * ```ts
 * import { decodeKvmSregs } from "@pvkit/kvm";
 * const bytes = new Uint8Array(312);
 * new DataView(bytes.buffer).setBigUint64(224, 0x60000010n, true); // KVM's reset CR0
 * console.log(decodeKvmSregs(bytes).cr0.toString(16)); // "60000010"
 * ```
 */
export function decodeKvmSregs(bytes: Uint8Array): KvmSregs {
  checkSize(bytes, KVM_STRUCT_SIZE.kvm_sregs, "struct kvm_sregs");
  const v = view(bytes);
  const sregs = {} as KvmSregs;
  for (const [name, off] of SEGMENT_OFFSETS) sregs[name] = decodeSegment(v, off);
  sregs.gdt = { base: v.getBigUint64(GDT_OFFSET, true), limit: v.getUint16(GDT_OFFSET + 8, true) };
  sregs.idt = { base: v.getBigUint64(IDT_OFFSET, true), limit: v.getUint16(IDT_OFFSET + 8, true) };
  for (const [name, off] of CR_OFFSETS) sregs[name] = v.getBigUint64(off, true);
  sregs.interruptBitmap = [0, 1, 2, 3].map((i) =>
    v.getBigUint64(INTERRUPT_BITMAP_OFFSET + i * 8, true)
  ) as KvmSregs["interruptBitmap"];
  return sregs;
}

/**
 * Encodes `struct kvm_sregs` (the KVM_SET_SREGS argument). Throws {@linkcode PvkitError}
 * (`kvm-bad-struct`) when a field does not fit its C type.
 *
 * @example
 * ```ts
 * import { decodeKvmSregs, encodeKvmSregs } from "@pvkit/kvm";
 * const sregs = decodeKvmSregs(new Uint8Array(312));
 * sregs.cr3 = 0x9000n;
 * sregs.gdt = { base: 0x500n, limit: 31 };
 * const bytes = encodeKvmSregs(sregs);
 * console.log(new DataView(bytes.buffer).getUint16(200, true)); // 31
 * ```
 */
export function encodeKvmSregs(sregs: KvmSregs): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(KVM_STRUCT_SIZE.kvm_sregs);
  const v = view(bytes);
  for (const [name, off] of SEGMENT_OFFSETS) encodeSegment(v, off, sregs[name], name);
  for (const [name, off] of [["gdt", GDT_OFFSET], ["idt", IDT_OFFSET]] as const) {
    v.setBigUint64(off, u64(sregs[name].base, `${name}.base`), true);
    v.setUint16(off + 8, uint(sregs[name].limit, 16, `${name}.limit`), true);
  }
  for (const [name, off] of CR_OFFSETS) v.setBigUint64(off, u64(sregs[name], name), true);
  sregs.interruptBitmap.forEach((w, i) =>
    v.setBigUint64(INTERRUPT_BITMAP_OFFSET + i * 8, u64(w, `interruptBitmap[${i}]`), true)
  );
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// kvm_msrs

/**
 * One MSR as `struct kvm_msr_entry` carries it.
 *
 * @example
 * ```ts
 * import type { MsrEntry } from "@pvkit/kvm";
 * const tsc: MsrEntry = { index: 0x10, data: 0n };
 * console.log(tsc.index);
 * ```
 */
export interface MsrEntry {
  /** The MSR number (u32). */
  index: number;
  /** The value. */
  data: bigint;
}

const MSRS_HEADER = KVM_STRUCT_SIZE.kvm_msrs;
const MSR_ENTRY = KVM_STRUCT_SIZE.kvm_msr_entry;

/**
 * Encodes `struct kvm_msrs` with `nmsrs = entries.length` (KVM_SET_MSRS; for KVM_GET_MSRS pass
 * data 0 and read the values back with {@linkcode decodeKvmMsrs}).
 *
 * @example
 * ```ts
 * import { encodeKvmMsrs } from "@pvkit/kvm";
 * const bytes = encodeKvmMsrs([{ index: 0x4b564d01, data: 0x1001n }]);
 * console.log(bytes.byteLength); // 24
 * ```
 */
export function encodeKvmMsrs(entries: readonly MsrEntry[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(MSRS_HEADER + entries.length * MSR_ENTRY);
  const v = view(bytes);
  v.setUint32(0, entries.length, true);
  entries.forEach((e, i) => {
    const off = MSRS_HEADER + i * MSR_ENTRY;
    v.setUint32(off, uint(e.index, 32, `msrs[${i}].index`), true);
    v.setBigUint64(off + 8, u64(e.data, `msrs[${i}].data`), true);
  });
  return bytes;
}

/**
 * Decodes the first `count` entries of a `struct kvm_msrs` (KVM_GET_MSRS returns how many it
 * read; entries after that are untouched).
 *
 * @example
 * ```ts
 * import { decodeKvmMsrs, encodeKvmMsrs } from "@pvkit/kvm";
 * const bytes = encodeKvmMsrs([{ index: 0x10, data: 5n }, { index: 0x11, data: 6n }]);
 * console.log(decodeKvmMsrs(bytes, 1)); // [ { index: 16, data: 5n } ]
 * ```
 */
export function decodeKvmMsrs(bytes: Uint8Array, count?: number): MsrEntry[] {
  checkSize(bytes, MSRS_HEADER, "struct kvm_msrs");
  const v = view(bytes);
  const nmsrs = Math.min(v.getUint32(0, true), Math.floor((bytes.byteLength - 8) / MSR_ENTRY));
  const n = Math.min(count ?? nmsrs, nmsrs);
  const out: MsrEntry[] = [];
  for (let i = 0; i < n; i++) {
    const off = MSRS_HEADER + i * MSR_ENTRY;
    out.push({ index: v.getUint32(off, true), data: v.getBigUint64(off + 8, true) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// kvm_enable_cap

/**
 * Encodes `struct kvm_enable_cap` (104 bytes): `cap`, `flags` and up to four u64 arguments.
 *
 * @example
 * ```ts
 * import { encodeKvmEnableCap, KVM_CAP } from "@pvkit/kvm";
 * const bytes = encodeKvmEnableCap(KVM_CAP.KVM_CAP_SPLIT_IRQCHIP, [24n]);
 * const v = new DataView(bytes.buffer);
 * console.log(v.getUint32(0, true), v.getBigUint64(8, true)); // 121 24n
 * ```
 */
export function encodeKvmEnableCap(
  cap: number,
  args: readonly (bigint | number)[] = [],
  flags = 0,
): Uint8Array<ArrayBuffer> {
  if (args.length > 4) {
    throw new PvkitError(
      "kvm-bad-struct",
      `kvm_enable_cap takes at most 4 args, got ${args.length}`,
    );
  }
  const bytes = new Uint8Array(KVM_STRUCT_SIZE.kvm_enable_cap);
  const v = view(bytes);
  v.setUint32(0, uint(cap, 32, "cap"), true);
  v.setUint32(4, uint(flags, 32, "flags"), true);
  args.forEach((a, i) => v.setBigUint64(8 + i * 8, u64(BigInt(a), `args[${i}]`), true));
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// kvm_clock_data

/**
 * `KVM_CLOCK_TSC_STABLE` (2): kvmclock is stable across vCPUs (GET_CLOCK output).
 *
 * @example
 * ```ts
 * import { KVM_CLOCK_TSC_STABLE } from "@pvkit/kvm";
 * console.log(KVM_CLOCK_TSC_STABLE); // 2
 * ```
 */
export const KVM_CLOCK_TSC_STABLE = 2;
/**
 * `KVM_CLOCK_REALTIME` (4): `realtime` is valid; on SET_CLOCK, KVM adds the wall time elapsed
 * since then.
 *
 * @example
 * ```ts
 * import { KVM_CLOCK_REALTIME } from "@pvkit/kvm";
 * console.log(KVM_CLOCK_REALTIME); // 4
 * ```
 */
export const KVM_CLOCK_REALTIME = 4;
/**
 * `KVM_CLOCK_HOST_TSC` (8): `hostTsc` is valid (GET_CLOCK output).
 *
 * @example
 * ```ts
 * import { KVM_CLOCK_HOST_TSC } from "@pvkit/kvm";
 * console.log(KVM_CLOCK_HOST_TSC); // 8
 * ```
 */
export const KVM_CLOCK_HOST_TSC = 8;

/**
 * The VM's kvmclock: `struct kvm_clock_data` (48 bytes).
 *
 * @example
 * ```ts
 * import type { KvmClockData } from "@pvkit/kvm";
 * const start: KvmClockData = { clock: 0n, flags: 0, realtime: 0n, hostTsc: 0n };
 * console.log(start.clock);
 * ```
 */
export interface KvmClockData {
  /** kvmclock in nanoseconds. */
  clock: bigint;
  /** `KVM_CLOCK_*` flags. */
  flags: number;
  /** CLOCK_REALTIME in ns when `flags` has {@linkcode KVM_CLOCK_REALTIME}. */
  realtime: bigint;
  /** The host TSC when `flags` has {@linkcode KVM_CLOCK_HOST_TSC}. */
  hostTsc: bigint;
}

/**
 * Encodes `struct kvm_clock_data` (KVM_SET_CLOCK).
 *
 * @example
 * ```ts
 * import { encodeKvmClockData } from "@pvkit/kvm";
 * const bytes = encodeKvmClockData({ clock: 1_000_000n, flags: 0, realtime: 0n, hostTsc: 0n });
 * console.log(bytes.byteLength); // 48
 * ```
 */
export function encodeKvmClockData(data: KvmClockData): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(KVM_STRUCT_SIZE.kvm_clock_data);
  const v = view(bytes);
  v.setBigUint64(0, u64(data.clock, "clock"), true);
  v.setUint32(8, uint(data.flags, 32, "flags"), true);
  v.setBigUint64(16, u64(data.realtime, "realtime"), true);
  v.setBigUint64(24, u64(data.hostTsc, "hostTsc"), true);
  return bytes;
}

/**
 * Decodes `struct kvm_clock_data` (KVM_GET_CLOCK).
 *
 * @example
 * ```ts
 * import { decodeKvmClockData, encodeKvmClockData } from "@pvkit/kvm";
 * const d = { clock: 42n, flags: 2, realtime: 0n, hostTsc: 0n };
 * console.log(decodeKvmClockData(encodeKvmClockData(d))); // the same values
 * ```
 */
export function decodeKvmClockData(bytes: Uint8Array): KvmClockData {
  checkSize(bytes, KVM_STRUCT_SIZE.kvm_clock_data, "struct kvm_clock_data");
  const v = view(bytes);
  return {
    clock: v.getBigUint64(0, true),
    flags: v.getUint32(8, true),
    realtime: v.getBigUint64(16, true),
    hostTsc: v.getBigUint64(24, true),
  };
}

// ---------------------------------------------------------------------------------------------
// kvm_userspace_memory_region

/**
 * `KVM_MEM_LOG_DIRTY_PAGES` (1): track writes for KVM_GET_DIRTY_LOG.
 *
 * @example
 * ```ts
 * import { KVM_MEM_LOG_DIRTY_PAGES } from "@pvkit/kvm";
 * console.log(KVM_MEM_LOG_DIRTY_PAGES); // 1
 * ```
 */
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
/**
 * `KVM_MEM_READONLY` (2): guest writes exit as MMIO.
 *
 * @example
 * ```ts
 * import { KVM_MEM_READONLY } from "@pvkit/kvm";
 * console.log(KVM_MEM_READONLY); // 2
 * ```
 */
export const KVM_MEM_READONLY = 2;

/**
 * A guest memory slot: `struct kvm_userspace_memory_region` (32 bytes). A `memorySize` of 0
 * deletes the slot.
 *
 * @example
 * ```ts
 * import type { UserMemoryRegion } from "@pvkit/kvm";
 * const region: UserMemoryRegion = {
 *   slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 2n << 20n, userspaceAddr: 0x7f0000000000n,
 * };
 * console.log(region.memorySize);
 * ```
 */
export interface UserMemoryRegion {
  /** Slot number (bits 16-31 select the address space). */
  slot: number;
  /** `KVM_MEM_*` flags. */
  flags: number;
  /** First guest-physical address. */
  guestPhysAddr: bigint;
  /** Size in bytes, a multiple of the page size. */
  memorySize: bigint;
  /** Host virtual address of the backing memory, page-aligned (e.g. `HostMapping.address`). */
  userspaceAddr: bigint;
}

/**
 * Encodes `struct kvm_userspace_memory_region` (KVM_SET_USER_MEMORY_REGION).
 *
 * @example
 * ```ts
 * import { encodeUserMemoryRegion } from "@pvkit/kvm";
 * const bytes = encodeUserMemoryRegion({
 *   slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x200000n, userspaceAddr: 0x10000000n,
 * });
 * console.log(new DataView(bytes.buffer).getBigUint64(16, true)); // 2097152n
 * ```
 */
export function encodeUserMemoryRegion(region: UserMemoryRegion): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(KVM_STRUCT_SIZE.kvm_userspace_memory_region);
  const v = view(bytes);
  v.setUint32(0, uint(region.slot, 32, "slot"), true);
  v.setUint32(4, uint(region.flags, 32, "flags"), true);
  v.setBigUint64(8, u64(region.guestPhysAddr, "guestPhysAddr"), true);
  v.setBigUint64(16, u64(region.memorySize, "memorySize"), true);
  v.setBigUint64(24, u64(region.userspaceAddr, "userspaceAddr"), true);
  return bytes;
}
