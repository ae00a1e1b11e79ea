/**
 * Puts a vCPU straight into 64-bit mode with the Firecracker layout (spec §2.2-2.3), using the
 * tables and register values of `@pvkit/x86`: GDT at 0x500, IDT at 0x520, identity-mapped
 * first GiB (PML4 0x9000, PDPT 0xA000, PD 0xB000), RSP = RBP = 0x8FF0, RFLAGS = 0x2, and
 * guest code (typically at 0x100000) written into guest RAM.
 *
 * @module
 */

import type { GuestMemory } from "@pvkit/machine";
import { PvkitError } from "@pvkit/machine";
import {
  BOOT_GDT_GPA,
  BOOT_GDT_LIMIT,
  BOOT_IDT_GPA,
  BOOT_IDT_LIMIT,
  BOOT_STACK_POINTER,
  bootGdt,
  bootIdt,
  CODE_SELECTOR,
  encodeIdtGate64,
  type GuestChunk,
  HIMEM_START,
  identityMapPageTables,
  IDT_INTERRUPT_GATE,
  LONG_MODE_CR0,
  LONG_MODE_CR3,
  LONG_MODE_CR4,
  LONG_MODE_EFER,
  LONG_MODE_RFLAGS,
  longModeSegments,
} from "@pvkit/x86";
import { type KvmRegs, type KvmSegment, type KvmSregs, zeroKvmRegs } from "./structs.ts";
import type { KvmVcpu } from "./vcpu.ts";

/**
 * Assembled code with labels, as `@pvkit/x86`'s `Assembler` provides it: its bytes at its
 * origin, and label addresses (for IDT handlers named by label).
 *
 * @example
 * ```ts
 * import type { AssembledCode } from "@pvkit/kvm";
 * import { Assembler } from "@pvkit/x86";
 * const code: AssembledCode = new Assembler(0x100000).hlt().label("gp").iretq();
 * console.log(code.addressOf("gp").toString(16)); // "100001"
 * ```
 */
export interface AssembledCode {
  /** The bytes and the GPA they load at. */
  toChunk(): GuestChunk;
  /** The GPA of a label. */
  addressOf(label: string): bigint;
}

/**
 * Guest code for {@linkcode setupLongMode}: an `Assembler` (loaded at its origin), a
 * `GuestChunk`, or raw bytes (loaded at the entry point).
 *
 * @example
 * ```ts
 * import type { GuestCode } from "@pvkit/kvm";
 * import { Assembler } from "@pvkit/x86";
 * const code: GuestCode = new Assembler(0x100000).hlt();
 * console.log(code instanceof Assembler); // true
 * ```
 */
export type GuestCode = AssembledCode | GuestChunk | Uint8Array;

function isAssembled(code: GuestCode | undefined): code is AssembledCode {
  return typeof code === "object" && code !== null && "toChunk" in code &&
    typeof code.toChunk === "function";
}

/**
 * A 64-bit IDT: handler addresses by vector. With an `Assembler` as the code, a handler may be
 * a label name of that program.
 *
 * @example
 * ```ts
 * import type { IdtHandlers } from "@pvkit/kvm";
 * const handlers: IdtHandlers = { 13: "gp_handler", 14: 0x100800n };
 * console.log(Object.keys(handlers)); // [ "13", "14" ]
 * ```
 */
export type IdtHandlers = Readonly<Record<number, bigint | number | string>>;

/**
 * Options of {@linkcode setupLongMode}.
 *
 * @example
 * ```ts
 * import type { LongModeOptions } from "@pvkit/kvm";
 * import { Assembler } from "@pvkit/x86";
 * const opts: LongModeOptions = { code: new Assembler(0x100000).hlt(), regs: { rdi: 1n } };
 * console.log(opts.entry); // undefined: the code's origin
 * ```
 */
export interface LongModeOptions {
  /** Code to write into guest RAM (default: none; write it yourself). */
  code?: GuestCode;
  /** RIP at entry (default: the code's address, else 0x100000). */
  entry?: bigint;
  /** RSP and RBP at entry (default 0x8FF0). */
  stackPointer?: bigint;
  /**
   * Exception/interrupt handlers: a full 256-gate IDT at 0x520 with 64-bit interrupt gates for
   * these vectors (others not present). Default: Firecracker's one zero entry, so any
   * exception ends in a triple fault (a `shutdown` exit).
   */
  idt?: IdtHandlers;
  /** Initial registers (others are 0); these win over `entry` and `stackPointer`. */
  regs?: Partial<KvmRegs>;
}

/**
 * GPA of the IDT {@linkcode setupLongMode} writes (the Firecracker IDT address).
 *
 * @example
 * ```ts
 * import { LONG_MODE_IDT_GPA } from "@pvkit/kvm";
 * console.log(LONG_MODE_IDT_GPA.toString(16)); // "520"
 * ```
 */
export const LONG_MODE_IDT_GPA: bigint = BOOT_IDT_GPA;

const IDT_GATES = 256;
const GATE_SIZE = 16;

/**
 * Builds a 256-gate 64-bit IDT at `gpa` (default {@linkcode LONG_MODE_IDT_GPA}): an interrupt
 * gate with selector 0x08 for each handler, every other gate not present. `resolve` turns a
 * label name into an address (e.g. `assembler.addressOf`).
 *
 * @example
 * ```ts
 * import { buildIdt } from "@pvkit/kvm";
 * const idt = buildIdt({ 13: 0x100040n });
 * console.log(idt.gpa.toString(16), idt.bytes.length, idt.bytes[13 * 16 + 5].toString(16));
 * // "520" 4096 "8e"
 * ```
 */
export function buildIdt(
  handlers: IdtHandlers,
  gpa: bigint = LONG_MODE_IDT_GPA,
  resolve?: (label: string) => bigint,
): GuestChunk {
  const bytes = new Uint8Array(IDT_GATES * GATE_SIZE);
  for (const [key, handler] of Object.entries(handlers)) {
    const vector = Number(key);
    if (!Number.isInteger(vector) || vector < 0 || vector >= IDT_GATES) {
      throw new PvkitError("kvm-bad-idt", `IDT vector ${key} is not 0-255`);
    }
    let address: bigint | number;
    if (typeof handler === "string") {
      if (!resolve) {
        throw new PvkitError(
          "kvm-bad-idt",
          `IDT vector ${vector} names label "${handler}" but the code is not an Assembler`,
          "pass the handler's address, or the Assembler as the code",
        );
      }
      address = resolve(handler);
    } else {
      address = handler;
    }
    bytes.set(encodeIdtGate64(address, CODE_SELECTOR, IDT_INTERRUPT_GATE), vector * GATE_SIZE);
  }
  return { gpa, bytes };
}

function codeChunk(code: GuestCode, entry: bigint | undefined): GuestChunk {
  if (isAssembled(code)) return code.toChunk();
  if (code instanceof Uint8Array) return { gpa: entry ?? HIMEM_START, bytes: code };
  return code;
}

/**
 * Copies chunks (code, tables) into guest memory at their GPAs; throws
 * `GuestMemoryError` if one does not fit.
 *
 * @example
 * ```ts
 * import { writeGuestChunks } from "@pvkit/kvm";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { bootGdt } from "@pvkit/x86";
 * const ram = new ArrayGuestMemory(0x1000);
 * writeGuestChunks(ram, [bootGdt()]);
 * console.log(ram.readU64(0x508n).toString(16)); // "af9b000000ffff"
 * ```
 */
export function writeGuestChunks(memory: GuestMemory, chunks: readonly GuestChunk[]): void {
  for (const c of chunks) memory.writeBytes(c.gpa, c.bytes);
}

/**
 * The guest-memory image of a 64-bit start: boot GDT, IDT (boot or built from `idt`),
 * identity page tables, and the code. Pure; {@linkcode setupLongMode} writes it.
 *
 * @example
 * ```ts
 * import { longModeImage } from "@pvkit/kvm";
 * import { Assembler } from "@pvkit/x86";
 * const image = longModeImage({ code: new Assembler(0x100000).hlt() });
 * console.log(image.map((c) => c.gpa.toString(16))); // [ "500", "520", "9000", "a000", "b000", "100000" ]
 * ```
 */
export function longModeImage(options: LongModeOptions = {}): GuestChunk[] {
  const code = options.code;
  const resolve = isAssembled(code) ? (label: string) => code.addressOf(label) : undefined;
  const chunks = [
    bootGdt(),
    options.idt ? buildIdt(options.idt, LONG_MODE_IDT_GPA, resolve) : bootIdt(),
    ...identityMapPageTables(),
  ];
  if (options.code) chunks.push(codeChunk(options.code, options.entry));
  return chunks;
}

/**
 * The part of `kvm_sregs` a 64-bit start sets: flat segments from the boot GDT, GDTR/IDTR,
 * CR0/CR3/CR4 and EFER. The rest (LDT, CR2, CR8, APIC base) keeps KVM's reset values.
 *
 * @example
 * ```ts
 * import type { LongModeSregs } from "@pvkit/kvm";
 * const keys: (keyof LongModeSregs)[] = ["cs", "cr3", "efer"];
 * console.log(keys.length); // 3
 * ```
 */
export type LongModeSregs = Pick<
  KvmSregs,
  "cs" | "ds" | "es" | "fs" | "gs" | "ss" | "tr" | "gdt" | "idt" | "cr0" | "cr3" | "cr4" | "efer"
>;

/**
 * The special registers of a 64-bit start in the Firecracker layout (spec §2.3), as data:
 * spread them over KVM's reset state (`{ ...vcpu.kvmGetSregs(), ...longModeSregs() }`) and
 * KVM_SET_SREGS the result. `idtLimit` is the IDTR limit (default 7, Firecracker's one-entry
 * IDT at 0x520). Shared by {@linkcode setupLongMode} and the Linux boot of `@pvkit/vmm`.
 *
 * @example
 * ```ts
 * import { longModeSregs } from "@pvkit/kvm";
 * const s = longModeSregs();
 * console.log(s.cs.selector, s.cr3.toString(16), s.efer.toString(16), s.idt.limit); // 8 "9000" "500" 7
 * ```
 */
export function longModeSregs(idtLimit: number = BOOT_IDT_LIMIT): LongModeSregs {
  const segs = longModeSegments();
  const seg = (s: KvmSegment): KvmSegment => ({ ...s });
  return {
    cs: seg(segs.cs),
    ds: seg(segs.ds),
    es: seg(segs.es),
    fs: seg(segs.fs),
    gs: seg(segs.gs),
    ss: seg(segs.ss),
    tr: seg(segs.tr),
    gdt: { base: BOOT_GDT_GPA, limit: BOOT_GDT_LIMIT },
    idt: { base: LONG_MODE_IDT_GPA, limit: idtLimit },
    cr0: LONG_MODE_CR0,
    cr3: LONG_MODE_CR3,
    cr4: LONG_MODE_CR4,
    efer: LONG_MODE_EFER,
  };
}

/**
 * Sets up `vcpu` to start in 64-bit mode and writes the tables and code into `memory`
 * (normally `vm.memory`): KVM_GET_SREGS, then segments, GDTR/IDTR, CR0/CR3/CR4 and EFER from
 * `@pvkit/x86`, KVM_SET_SREGS; then KVM_SET_REGS with RIP at the entry, RSP = RBP = 0x8FF0 and
 * RFLAGS = 0x2. Set CPUID (KVM_SET_CPUID2) before or after, but before the first KVM_RUN.
 *
 * @example
 * ```ts
 * import { KvmSystem, setupLongMode } from "@pvkit/kvm";
 * import { Assembler, HIMEM_START } from "@pvkit/x86";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const vcpu = vm.kvmCreateVcpu(0);
 * setupLongMode(vcpu, vm.mapGuestRam(2 << 20), {
 *   code: new Assembler(HIMEM_START).out(0x10, "al").hlt(),
 * });
 * console.log(vcpu.kvmGetSregs().efer.toString(16), vcpu.kvmGetRegs().rip.toString(16));
 * // "500" "100000"
 * ```
 */
export function setupLongMode(
  vcpu: KvmVcpu,
  memory: GuestMemory,
  options: LongModeOptions = {},
): void {
  const image = longModeImage(options);
  writeGuestChunks(memory, image);
  const entry = options.entry ??
    (options.code ? codeChunk(options.code, undefined).gpa : HIMEM_START);

  vcpu.kvmSetSregs({ ...vcpu.kvmGetSregs(), ...longModeSregs(image[1].bytes.length - 1) });

  const stack = options.stackPointer ?? BOOT_STACK_POINTER;
  vcpu.kvmSetRegs({
    ...zeroKvmRegs(),
    rip: entry,
    rsp: stack,
    rbp: stack,
    rflags: LONG_MODE_RFLAGS,
    ...options.regs,
  });
}
