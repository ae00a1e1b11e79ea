/**
 * {@linkcode Assembler}: a small x86-64 assembler for the probe programs pvkit runs as guest
 * code under KVM.
 *
 * Encodings follow the Intel SDM vol. 2 (chapter 2 for prefixes, REX, ModRM and SIB; the
 * opcode tables of chapters 3-5 for each instruction). Where the SDM allows several encodings,
 * the assembler picks the one GNU as picks, so its output can be checked byte for byte against
 * `as --64` (see `encoding_vectors.json` and `tools/make_vectors.sh`).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { checkRange, encodeMemory, fitsSigned, le, show, toBigInt } from "./_encoding.ts";
import { controlReg, reg, type RegisterInfo } from "./_registers.ts";
import type { GuestChunk } from "./guest_chunk.ts";
import type { Memory } from "./memory.ts";
import type {
  ControlRegister,
  OperandSize,
  PortIoRegister,
  Reg16,
  Reg32,
  Reg64,
  Reg8,
  Register,
} from "./registers.ts";

/**
 * Where a jump, call or address fix-up points: a label name, or an absolute guest address.
 *
 * @example
 * ```ts
 * import type { Target } from "@pvkit/x86";
 * const targets: Target[] = ["loop", 0x100000n, 0x7000];
 * console.log(targets.length);
 * ```
 */
export type Target = string | bigint | number;

/**
 * A condition code for `jcc`, in the SDM's mnemonic suffixes (`"e"` for `je`, `"ae"` for
 * `jae`); synonyms such as `"z"`/`"e"` encode the same condition.
 *
 * @example
 * ```ts
 * import { Assembler, type Condition } from "@pvkit/x86";
 * const unsignedBelow: Condition = "b";
 * const a = new Assembler(0);
 * a.label("top").jcc(unsignedBelow, "top");
 * console.log(a.length); // 6
 * ```
 */
export type Condition =
  | "o"
  | "no"
  | "b"
  | "c"
  | "nae"
  | "ae"
  | "nb"
  | "nc"
  | "e"
  | "z"
  | "ne"
  | "nz"
  | "be"
  | "na"
  | "a"
  | "nbe"
  | "s"
  | "ns"
  | "p"
  | "pe"
  | "np"
  | "po"
  | "l"
  | "nge"
  | "ge"
  | "nl"
  | "le"
  | "ng"
  | "g"
  | "nle";

// The low nibble of Jcc (70+cc rel8, 0F 80+cc rel32); SDM vol. 1, appendix B, table B-1.
const CONDITION_CODES: ReadonlyMap<string, number> = new Map<Condition, number>([
  ["o", 0x0],
  ["no", 0x1],
  ["b", 0x2],
  ["c", 0x2],
  ["nae", 0x2],
  ["ae", 0x3],
  ["nb", 0x3],
  ["nc", 0x3],
  ["e", 0x4],
  ["z", 0x4],
  ["ne", 0x5],
  ["nz", 0x5],
  ["be", 0x6],
  ["na", 0x6],
  ["a", 0x7],
  ["nbe", 0x7],
  ["s", 0x8],
  ["ns", 0x9],
  ["p", 0xa],
  ["pe", 0xa],
  ["np", 0xb],
  ["po", 0xb],
  ["l", 0xc],
  ["nge", 0xc],
  ["ge", 0xd],
  ["nl", 0xd],
  ["le", 0xe],
  ["ng", 0xe],
  ["g", 0xf],
  ["nle", 0xf],
]);

// The eight classic ALU operations: `op r/m, r` is opcode 8*n + 0/1, `op r/m, imm` is
// 80/81/83 /n, and `op al/eax, imm` is 8*n + 4/5 (SDM vol. 2, table A-6 "Group 1").
const ALU = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 } as const;
type AluOp = keyof typeof ALU;

// Group 3 (F6/F7 /n) and group 2 shifts (C0/C1, D0/D1, D2/D3 /n).
const NOT = 2, NEG = 3, MUL = 4, DIV = 6;
const SHL = 4, SHR = 5, SAR = 7;

const REX = 0x40, REX_W = 0b1000, REX_R = 0b0100, REX_B = 0b0001;
const OPERAND_SIZE = 0x66, LOCK = 0xf0;

const ALL_SIZES: readonly OperandSize[] = [8, 16, 32, 64];
const WIDE_SIZES: readonly OperandSize[] = [16, 32, 64];

type RmOperand =
  | { readonly kind: "reg"; readonly info: RegisterInfo }
  | { readonly kind: "mem"; readonly mem: Memory }
  | { readonly kind: "rip"; readonly target: Target };

interface ModRmForm {
  /** Instruction name for error messages. */
  readonly what: string;
  /** 16 adds the 0x66 prefix, 64 sets REX.W; 8 and 32 add nothing. */
  readonly size: OperandSize;
  /** Prefixes after 0x66 (LOCK, REP), in the order GNU as writes them. */
  readonly prefixes?: readonly number[];
  readonly opcode: readonly number[];
  /** ModRM.reg: a register code (0-15) or an opcode extension /digit. */
  readonly reg: number;
  readonly rm: RmOperand;
  /** A byte register among spl/bpl/sil/dil is involved: emit REX even with no bits set. */
  readonly forceRex?: boolean;
  readonly imm?: readonly number[];
}

interface Fixup {
  /** Offset of the field in the buffer. */
  readonly at: number;
  readonly width: 1 | 4 | 8;
  /** Relative fields hold target - (origin + end); absolute ones hold the target. */
  readonly relative: boolean;
  /** Offset of the end of the instruction, which a relative displacement counts from. */
  readonly end: number;
  readonly target: Target;
  readonly what: string;
}

/**
 * An x86-64 assembler that appends instructions to a byte buffer loaded at `origin`.
 *
 * Registers are Intel names (`"rax"`, `"r9d"`, `"sil"`); memory operands are
 * {@linkcode Memory} objects; jump and call targets are label names or absolute addresses.
 * Labels may be used before they are defined: {@linkcode Assembler.bytes} patches every
 * fix-up. Every method returns the assembler, so instructions chain.
 *
 * Misuse throws `PvkitError` with one of these codes: `x86-bad-register` (a register the form
 * does not take), `x86-size-mismatch`, `x86-bad-memory-operand`, `x86-bad-immediate`,
 * `x86-immediate-out-of-range`, `x86-bad-operand-size`, `x86-bad-condition`,
 * `x86-bad-label`, `x86-duplicate-label`, `x86-undefined-label`, `x86-rel8-out-of-range`,
 * `x86-rel32-out-of-range`, `x86-bad-origin`, `x86-bad-alignment`. A call that throws emits
 * nothing; only an out-of-range forward `jmpShort`/`jccShort` is found late, by `bytes()`.
 *
 * @example
 * ```ts
 * import { Assembler } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 *
 * // Write "A" to COM1 forever: the guest exits to the VMM on each `out`.
 * const a = new Assembler(0x100000);
 * a.movImm("dx", 0x3f8).movImm("al", 0x41);
 * a.label("again").out("dx", "al").jmp("again");
 * assertEquals([...a.bytes()], [
 *   0x66, 0xba, 0xf8, 0x03, // mov dx, 0x3f8
 *   0xb0, 0x41, // mov al, 0x41
 *   0xee, // out dx, al
 *   0xe9, 0xfa, 0xff, 0xff, 0xff, // jmp again (rel32 -6)
 * ]);
 * assertEquals(a.addressOf("again"), 0x100006n);
 * ```
 */
export class Assembler {
  readonly #origin: bigint;
  #buffer = new Uint8Array(256);
  #length = 0;
  readonly #labels = new Map<string, number>();
  readonly #fixups: Fixup[] = [];
  #nextLabel = 0;

  /**
   * Starts an empty program whose first byte will sit at guest address `origin`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * const a = new Assembler(0x100000n);
   * console.log(a.here()); // 1048576n
   * ```
   */
  constructor(origin: bigint | number) {
    const o = toBigInt(origin, "Assembler origin");
    if (o < 0n || o >= 1n << 64n) {
      throw new PvkitError(
        "x86-bad-origin",
        `Assembler origin ${show(o)} is not a 64-bit address`,
        "pass the guest address the code will be loaded at, 0 <= origin < 2^64",
      );
    }
    this.#origin = o;
  }

  // -------------------------------------------------------------------------------------------
  // Buffer, labels, data

  /**
   * The guest address the program starts at.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * console.log(new Assembler(0x7000).origin); // 28672n
   * ```
   */
  get origin(): bigint {
    return this.#origin;
  }

  /**
   * The number of bytes emitted so far.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * console.log(new Assembler(0).cpuid().length); // 2
   * ```
   */
  get length(): number {
    return this.#length;
  }

  /**
   * The guest address the next instruction will be emitted at.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * const a = new Assembler(0x1000).nop().nop();
   * console.log(a.here()); // 4098n
   * ```
   */
  here(): bigint {
    return this.#origin + BigInt(this.#length);
  }

  /**
   * Defines label `name` at the current address. Each name may be defined once.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * const a = new Assembler(0x1000).nop().label("after_nop");
   * console.log(a.addressOf("after_nop")); // 4097n
   * ```
   */
  label(name: string): this {
    if (typeof name !== "string" || name === "") {
      throw new PvkitError("x86-bad-label", "a label name must be a non-empty string");
    }
    if (this.#labels.has(name)) {
      throw new PvkitError(
        "x86-duplicate-label",
        `label "${name}" is already defined at ${show(this.addressOf(name))}`,
        "give each label a unique name, or use newLabel() for generated ones",
      );
    }
    this.#labels.set(name, this.#length);
    return this;
  }

  /**
   * Returns a fresh label name (`.L0`, `.L1`, …) that is not yet defined, for code
   * generators; define it later with {@linkcode Assembler.label}.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0);
   * const done = a.newLabel();
   * a.jmp(done).ud2().label(done).hlt();
   * assertEquals([...a.bytes()], [0xe9, 0x02, 0, 0, 0, 0x0f, 0x0b, 0xf4]);
   * ```
   */
  newLabel(): string {
    let name: string;
    do name = `.L${this.#nextLabel++}`; while (this.#labels.has(name));
    return name;
  }

  /**
   * The guest address of a defined label.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * const a = new Assembler(0x8000).hlt().label("handler").iretq();
   * console.log(a.addressOf("handler").toString(16)); // "8001"
   * ```
   */
  addressOf(name: string): bigint {
    const offset = this.#labels.get(name);
    if (offset === undefined) throw undefinedLabels([name]);
    return this.#origin + BigInt(offset);
  }

  /**
   * The program's bytes with every label fix-up applied. Throws `x86-undefined-label` when a
   * used label was never defined. The assembler stays usable; later calls see later code.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).call("f").hlt().label("f").ret();
   * assertEquals([...a.bytes()], [0xe8, 0x01, 0, 0, 0, 0xf4, 0xc3]);
   * ```
   */
  bytes(): Uint8Array {
    const missing = new Set<string>();
    for (const f of this.#fixups) {
      if (!this.#apply(f)) missing.add(f.target as string);
    }
    if (missing.size > 0) throw undefinedLabels([...missing]);
    return this.#buffer.slice(0, this.#length);
  }

  /**
   * The program as a {@linkcode GuestChunk}: `{ gpa: origin, bytes: bytes() }`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * const chunk = new Assembler(0x100000).hlt().toChunk();
   * console.log(chunk.gpa, chunk.bytes); // 1048576n Uint8Array(1) [ 244 ]
   * ```
   */
  toChunk(): GuestChunk {
    return { gpa: this.#origin, bytes: this.bytes() };
  }

  /**
   * Pads with `fill` (default `nop`, 0x90) until the address is a multiple of `n`, a power
   * of two.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * const a = new Assembler(0x1001).align(16, 0);
   * console.log(a.here().toString(16), a.length); // "1010" 15
   * ```
   */
  align(n: number, fill = 0x90): this {
    if (!Number.isSafeInteger(n) || n <= 0 || (n & (n - 1)) !== 0) {
      throw new PvkitError(
        "x86-bad-alignment",
        `align(${n}): the alignment must be a power of two`,
      );
    }
    checkRange(toBigInt(fill, "align fill byte"), -128n, 256n, "align fill byte");
    const step = BigInt(n);
    const pad = Number((step - (this.here() % step)) % step);
    for (let i = 0; i < pad; i++) this.#emit(fill & 0xff);
    return this;
  }

  /**
   * Emits bytes: numbers in -128..255, or whole `Uint8Array`s.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).db(1, -1, new TextEncoder().encode("ok"));
   * assertEquals([...a.bytes()], [0x01, 0xff, 0x6f, 0x6b]);
   * ```
   */
  db(...values: (number | Uint8Array)[]): this {
    const bytes: number[] = [];
    for (const v of values) {
      if (v instanceof Uint8Array) bytes.push(...v);
      else bytes.push(...le(checkRange(toBigInt(v, "db"), -128n, 256n, "db"), 1));
    }
    return this.#emit(...bytes);
  }

  /**
   * Emits a 16-bit little-endian value (-2^15..2^16-1).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).dw(0x1234).bytes()], [0x34, 0x12]);
   * ```
   */
  dw(value: number): this {
    return this.#emit(...le(checkRange(toBigInt(value, "dw"), -(1n << 15n), 1n << 16n, "dw"), 2));
  }

  /**
   * Emits a 32-bit little-endian value, or the address of a label (which must then lie below
   * 4 GiB).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0x1000).dd(0xdeadbeef).label("here").dd("here");
   * assertEquals([...a.bytes()], [0xef, 0xbe, 0xad, 0xde, 0x04, 0x10, 0, 0]);
   * ```
   */
  dd(value: number | bigint | string): this {
    if (typeof value === "string") return this.#absoluteFixup(4, value, "dd", this.#length);
    return this.#emit(...le(checkRange(toBigInt(value, "dd"), -(1n << 31n), 1n << 32n, "dd"), 4));
  }

  /**
   * Emits a 64-bit little-endian value, or the address of a label.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0x1000).label("self").dq("self");
   * assertEquals([...a.bytes()], [0x00, 0x10, 0, 0, 0, 0, 0, 0]);
   * ```
   */
  dq(value: number | bigint | string): this {
    if (typeof value === "string") return this.#absoluteFixup(8, value, "dq", this.#length);
    return this.#emit(...le(checkRange(toBigInt(value, "dq"), -(1n << 63n), 1n << 64n, "dq"), 8));
  }

  // -------------------------------------------------------------------------------------------
  // Moves

  /**
   * Loads a constant (or a label's address) into a register, in the shortest form GNU as
   * would use for the value:
   * - 64-bit register, 0 <= imm < 2^32: `mov r32, imm32` (the write zero-extends);
   * - 64-bit register, -2^31 <= imm < 0 (or the same bit pattern written unsigned):
   *   `mov r/m64, simm32` (REX.W C7 /0);
   * - 64-bit register, anything else up to 2^64-1: `mov r64, imm64` (REX.W B8+r);
   * - 32/16/8-bit registers: `mov r, imm` of that width.
   *
   * A label target takes the `mov r32, imm32` form, so the label must lie below 4 GiB.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).movImm("rax", 1).bytes()], [0xb8, 1, 0, 0, 0]);
   * assertEquals([...new Assembler(0).movImm("rax", -1).bytes()], [
   *   0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff,
   * ]);
   * assertEquals(new Assembler(0).movImm("r8", 0x1_0000_0000n).length, 10);
   * ```
   */
  movImm(dst: Register, imm: number | bigint | string): this {
    const what = "movImm";
    const r = reg(dst, ALL_SIZES, `${what} destination`);
    if (typeof imm === "string") {
      if (r.size !== 64 && r.size !== 32) {
        throw new PvkitError(
          "x86-bad-register",
          `${what}: a label address needs a 32- or 64-bit register, not ${dst}`,
        );
      }
      const start = this.#length;
      this.#opPlusReg(0xb8, r, 32);
      return this.#absoluteFixup(4, imm, `${what} ${dst}, ${imm}`, start);
    }
    const v = toBigInt(imm, `${what} immediate`);
    if (r.size === 64) {
      checkRange(v, -(1n << 63n), 1n << 64n, `${what} ${dst}`);
      if (v >= 0n && v < 1n << 32n) return this.#opPlusReg(0xb8, r, 32).#emit(...le(v, 4));
      // 0xffff_ffff_ffff_ffffn and -1 are the same 64-bit pattern.
      if (fitsSigned(BigInt.asIntN(64, v), 32)) {
        return this.#modrm({
          what,
          size: 64,
          opcode: [0xc7],
          reg: 0,
          rm: { kind: "reg", info: r },
          imm: le(v, 4),
        });
      }
      return this.#opPlusReg(0xb8, r, 64).#emit(...le(v, 8));
    }
    const s = BigInt(r.size);
    checkRange(v, -(1n << (s - 1n)), 1n << s, `${what} ${dst}`);
    return this.#opPlusReg(r.size === 8 ? 0xb0 : 0xb8, r, r.size).#emit(...le(v, r.size / 8));
  }

  /**
   * `mov dst, src` between two registers of the same size (88/89 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).movRegReg("r8", "rsp").bytes()], [0x49, 0x89, 0xe0]);
   * ```
   */
  movRegReg(dst: Register, src: Register): this {
    const [d, s] = this.#sameSize("movRegReg", dst, src, ALL_SIZES);
    return this.#modrm({
      what: "movRegReg",
      size: d.size,
      opcode: [d.size === 8 ? 0x88 : 0x89],
      reg: s.code,
      rm: { kind: "reg", info: d },
      forceRex: d.needsRex || s.needsRex,
    });
  }

  /**
   * `mov dst, [mem]`: loads 8, 16, 32 or 64 bits, sized by `dst` (8A/8B /r). A 32-bit load
   * zero-extends into the 64-bit register.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).movLoad("eax", { base: "rsp", disp: 4 });
   * assertEquals([...a.bytes()], [0x8b, 0x44, 0x24, 0x04]);
   * ```
   */
  movLoad(dst: Register, src: Memory): this {
    const r = reg(dst, ALL_SIZES, "movLoad destination");
    return this.#modrm({
      what: "movLoad",
      size: r.size,
      opcode: [r.size === 8 ? 0x8a : 0x8b],
      reg: r.code,
      rm: mem(src, "movLoad source"),
      forceRex: r.needsRex,
    });
  }

  /**
   * `mov [mem], src`: stores 8, 16, 32 or 64 bits, sized by `src` (88/89 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).movStore({ base: "r13" }, "r9w");
   * assertEquals([...a.bytes()], [0x66, 0x45, 0x89, 0x4d, 0x00]);
   * ```
   */
  movStore(dst: Memory, src: Register): this {
    const r = reg(src, ALL_SIZES, "movStore source");
    return this.#modrm({
      what: "movStore",
      size: r.size,
      opcode: [r.size === 8 ? 0x88 : 0x89],
      reg: r.code,
      rm: mem(dst, "movStore destination"),
      forceRex: r.needsRex,
    });
  }

  /**
   * `mov size PTR [mem], imm`: stores a constant of `size` bits (C6/C7 /0). A 64-bit store
   * takes a sign-extended 32-bit immediate.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).movStoreImm({ base: "rdi" }, 7, 32); // mov DWORD PTR [rdi], 7
   * assertEquals([...a.bytes()], [0xc7, 0x07, 7, 0, 0, 0]);
   * ```
   */
  movStoreImm(dst: Memory, imm: number | bigint, size: OperandSize): this {
    const what = `movStoreImm (${size}-bit)`;
    const v = immediate(imm, size, what);
    return this.#modrm({
      what,
      size: checkSize(size, what),
      opcode: [size === 8 ? 0xc6 : 0xc7],
      reg: 0,
      rm: mem(dst, `${what} destination`),
      imm: le(v, Math.min(size, 32) / 8),
    });
  }

  /**
   * `mov dst, [address]` with an absolute address below 2 GiB (ModRM mod=00 rm=100, SIB
   * base=101 index=100, disp32; not RIP-relative).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).movAbsLoad("rax", 0x7000);
   * assertEquals([...a.bytes()], [0x48, 0x8b, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00]);
   * ```
   */
  movAbsLoad(dst: Register, address: number | bigint): this {
    return this.movLoad(dst, { disp: address });
  }

  /**
   * `mov [address], src` with an absolute address below 2 GiB (SIB no-base disp32 form).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).movAbsStore(0x7000, "ecx");
   * assertEquals([...a.bytes()], [0x89, 0x0c, 0x25, 0x00, 0x70, 0x00, 0x00]);
   * ```
   */
  movAbsStore(address: number | bigint, src: Register): this {
    return this.movStore({ disp: address }, src);
  }

  /**
   * `movzx dst, src8`: zero-extends a byte register or a byte in memory (0F B6 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).movzxByte("eax", { base: "rsi" });
   * assertEquals([...a.bytes()], [0x0f, 0xb6, 0x06]);
   * ```
   */
  movzxByte(dst: Reg64 | Reg32 | Reg16, src: Reg8 | Memory): this {
    return this.#movzx("movzxByte", 0xb6, dst, src, WIDE_SIZES, 8);
  }

  /**
   * `movzx dst, src16`: zero-extends a word register or a word in memory (0F B7 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).movzxWord("rcx", { base: "rbx", disp: 2 });
   * assertEquals([...a.bytes()], [0x48, 0x0f, 0xb7, 0x4b, 0x02]);
   * ```
   */
  movzxWord(dst: Reg64 | Reg32, src: Reg16 | Memory): this {
    return this.#movzx("movzxWord", 0xb7, dst, src, [32, 64], 16);
  }

  /**
   * `lea dst, [mem]`: computes an address without touching memory (8D /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).lea("rax", { base: "rbx", index: "rcx", scale: 8, disp: 16 });
   * assertEquals([...a.bytes()], [0x48, 0x8d, 0x44, 0xcb, 0x10]);
   * ```
   */
  lea(dst: Reg64 | Reg32 | Reg16, src: Memory): this {
    const r = reg(dst, WIDE_SIZES, "lea destination");
    return this.#modrm({
      what: "lea",
      size: r.size,
      opcode: [0x8d],
      reg: r.code,
      rm: mem(src, "lea source"),
    });
  }

  /**
   * `lea dst, [rip + target]`: the address of a label (or absolute address), computed
   * position-independently.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).leaRip("rsi", "msg").hlt().label("msg").db(0x41);
   * assertEquals([...a.bytes()], [0x48, 0x8d, 0x35, 0x01, 0, 0, 0, 0xf4, 0x41]);
   * ```
   */
  leaRip(dst: Reg64, target: Target): this {
    const r = reg(dst, [64], "leaRip destination");
    return this.#modrm({
      what: "leaRip",
      size: 64,
      opcode: [0x8d],
      reg: r.code,
      rm: { kind: "rip", target },
    });
  }

  /**
   * `mov crN, src`: writes a control register from a 64-bit register (0F 22 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).movToCr("cr3", "rax").bytes()], [0x0f, 0x22, 0xd8]);
   * ```
   */
  movToCr(cr: ControlRegister, src: Reg64): this {
    return this.#crMove(0x22, cr, src, "movToCr source");
  }

  /**
   * `mov dst, crN`: reads a control register into a 64-bit register (0F 20 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).movFromCr("rbx", "cr4").bytes()], [0x0f, 0x20, 0xe3]);
   * ```
   */
  movFromCr(dst: Reg64, cr: ControlRegister): this {
    return this.#crMove(0x20, cr, dst, "movFromCr destination");
  }

  /**
   * `xchg [mem], src`: swaps a register with memory; implicitly locked (86/87 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).xchg({ base: "rbx" }, "rax").bytes()], [0x48, 0x87, 0x03]);
   * ```
   */
  xchg(dst: Memory, src: Register): this {
    return this.#memReg("xchg", [], [0x86], dst, src);
  }

  /**
   * `lock cmpxchg [mem], src`: compares the accumulator with memory and stores `src` there
   * if equal (F0 0F B0/B1 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).lockCmpxchg({ base: "rdi" }, "ecx");
   * assertEquals([...a.bytes()], [0xf0, 0x0f, 0xb1, 0x0f]);
   * ```
   */
  lockCmpxchg(dst: Memory, src: Register): this {
    return this.#memReg("lockCmpxchg", [LOCK], [0x0f, 0xb0], dst, src);
  }

  /**
   * `lock xadd [mem], src`: adds `src` to memory and returns the old value in `src`
   * (F0 0F C0/C1 /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).lockXadd({ base: "rdi" }, "rax");
   * assertEquals([...a.bytes()], [0xf0, 0x48, 0x0f, 0xc1, 0x07]);
   * ```
   */
  lockXadd(dst: Memory, src: Register): this {
    return this.#memReg("lockXadd", [LOCK], [0x0f, 0xc0], dst, src);
  }

  // -------------------------------------------------------------------------------------------
  // Arithmetic and logic

  /**
   * `add dst, src` with a register or an immediate (imm8 when it fits, else imm32).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).add("rax", "rbx").bytes()], [0x48, 0x01, 0xd8]);
   * assertEquals([...new Assembler(0).add("rsp", 8).bytes()], [0x48, 0x83, 0xc4, 0x08]);
   * ```
   */
  add(dst: Register, src: Register | number | bigint): this {
    return this.#alu("add", dst, src);
  }

  /**
   * `or dst, src` with a register or an immediate.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).or("eax", 0x20).bytes()], [0x83, 0xc8, 0x20]);
   * ```
   */
  or(dst: Register, src: Register | number | bigint): this {
    return this.#alu("or", dst, src);
  }

  /**
   * `adc dst, src`: add with carry, register or immediate.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).adc("rdx", 0).bytes()], [0x48, 0x83, 0xd2, 0x00]);
   * ```
   */
  adc(dst: Register, src: Register | number | bigint): this {
    return this.#alu("adc", dst, src);
  }

  /**
   * `sbb dst, src`: subtract with borrow, register or immediate.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).sbb("edx", "ecx").bytes()], [0x19, 0xca]);
   * ```
   */
  sbb(dst: Register, src: Register | number | bigint): this {
    return this.#alu("sbb", dst, src);
  }

  /**
   * `and dst, src` with a register or an immediate.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).and("rax", -4096).bytes()], [
   *   0x48, 0x25, 0x00, 0xf0, 0xff, 0xff,
   * ]);
   * ```
   */
  and(dst: Register, src: Register | number | bigint): this {
    return this.#alu("and", dst, src);
  }

  /**
   * `sub dst, src` with a register or an immediate.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).sub("rsp", 0x100).bytes()], [
   *   0x48, 0x81, 0xec, 0x00, 0x01, 0x00, 0x00,
   * ]);
   * ```
   */
  sub(dst: Register, src: Register | number | bigint): this {
    return this.#alu("sub", dst, src);
  }

  /**
   * `xor dst, src` with a register or an immediate; `xor eax, eax` zeroes rax.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).xor("eax", "eax").bytes()], [0x31, 0xc0]);
   * ```
   */
  xor(dst: Register, src: Register | number | bigint): this {
    return this.#alu("xor", dst, src);
  }

  /**
   * `cmp dst, src` with a register or an immediate; sets flags for a following `jcc`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).cmp("al", 0x0a).bytes()], [0x3c, 0x0a]);
   * ```
   */
  cmp(dst: Register, src: Register | number | bigint): this {
    return this.#alu("cmp", dst, src);
  }

  /**
   * `test dst, src` with a register or an immediate (there is no imm8 form above 8 bits).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).test("eax", "eax").bytes()], [0x85, 0xc0]);
   * assertEquals([...new Assembler(0).test("al", 1).bytes()], [0xa8, 0x01]);
   * ```
   */
  test(dst: Register, src: Register | number | bigint): this {
    const d = reg(dst, ALL_SIZES, "test destination");
    if (typeof src === "string") {
      const [, s] = this.#sameSize("test", dst, src, ALL_SIZES);
      return this.#modrm({
        what: "test",
        size: d.size,
        opcode: [d.size === 8 ? 0x84 : 0x85],
        reg: s.code,
        rm: { kind: "reg", info: d },
        forceRex: d.needsRex || s.needsRex,
      });
    }
    const v = immediate(src, d.size, `test ${dst}`);
    const width = Math.min(d.size, 32) / 8;
    if (d.code === 0 && !d.needsRex) {
      // test al, imm8 (A8) / test eAX, imm (A9) — the accumulator forms.
      if (d.size === 16) this.#emit(OPERAND_SIZE);
      if (d.size === 64) this.#emit(REX | REX_W);
      return this.#emit(d.size === 8 ? 0xa8 : 0xa9, ...le(v, width));
    }
    return this.#modrm({
      what: "test",
      size: d.size,
      opcode: [d.size === 8 ? 0xf6 : 0xf7],
      reg: 0,
      rm: { kind: "reg", info: d },
      forceRex: d.needsRex,
      imm: le(v, width),
    });
  }

  /**
   * `inc dst` (FE/FF /0).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).inc("r12").bytes()], [0x49, 0xff, 0xc4]);
   * ```
   */
  inc(dst: Register): this {
    return this.#unary("inc", [0xfe], 0, dst);
  }

  /**
   * `dec dst` (FE/FF /1).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).dec("ecx").bytes()], [0xff, 0xc9]);
   * ```
   */
  dec(dst: Register): this {
    return this.#unary("dec", [0xfe], 1, dst);
  }

  /**
   * `not dst`: one's complement (F6/F7 /2).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).not("rax").bytes()], [0x48, 0xf7, 0xd0]);
   * ```
   */
  not(dst: Register): this {
    return this.#unary("not", [0xf6], NOT, dst);
  }

  /**
   * `neg dst`: two's complement negation (F6/F7 /3).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).neg("rdx").bytes()], [0x48, 0xf7, 0xda]);
   * ```
   */
  neg(dst: Register): this {
    return this.#unary("neg", [0xf6], NEG, dst);
  }

  /**
   * `mul src`: unsigned multiply of the accumulator by `src`; a 64-bit `mul` leaves the
   * 128-bit product in rdx:rax (F6/F7 /4).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).mul("rcx").bytes()], [0x48, 0xf7, 0xe1]);
   * ```
   */
  mul(src: Register): this {
    return this.#unary("mul", [0xf6], MUL, src);
  }

  /**
   * `div src`: unsigned divide of rdx:rax (or edx:eax, …) by `src` (F6/F7 /6).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).div("r8").bytes()], [0x49, 0xf7, 0xf0]);
   * ```
   */
  div(src: Register): this {
    return this.#unary("div", [0xf6], DIV, src);
  }

  /**
   * `imul dst, src`: signed multiply, truncated to the register size (0F AF /r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).imul("rax", "rbx").bytes()], [0x48, 0x0f, 0xaf, 0xc3]);
   * ```
   */
  imul(dst: Reg64 | Reg32 | Reg16, src: Reg64 | Reg32 | Reg16): this {
    const [d, s] = this.#sameSize("imul", dst, src, WIDE_SIZES);
    return this.#modrm({
      what: "imul",
      size: d.size,
      opcode: [0x0f, 0xaf],
      reg: d.code,
      rm: { kind: "reg", info: s },
    });
  }

  /**
   * `shl dst, count`: shift left by an immediate 0..255 or by `cl`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).shl("rax", 12).bytes()], [0x48, 0xc1, 0xe0, 0x0c]);
   * assertEquals([...new Assembler(0).shl("rax", 1).bytes()], [0x48, 0xd1, 0xe0]);
   * ```
   */
  shl(dst: Register, count: number | "cl"): this {
    return this.#shift("shl", SHL, dst, count);
  }

  /**
   * `shr dst, count`: logical shift right by an immediate 0..255 or by `cl`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).shr("rdx", 32).bytes()], [0x48, 0xc1, 0xea, 0x20]);
   * ```
   */
  shr(dst: Register, count: number | "cl"): this {
    return this.#shift("shr", SHR, dst, count);
  }

  /**
   * `sar dst, count`: arithmetic shift right by an immediate 0..255 or by `cl`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).sar("eax", "cl").bytes()], [0xd3, 0xf8]);
   * ```
   */
  sar(dst: Register, count: number | "cl"): this {
    return this.#shift("sar", SAR, dst, count);
  }

  /**
   * `shrd dst, src, count`: shifts `dst` right, filling from `src` (0F AC ib / 0F AD with
   * `cl`); with `shl`, how pvclock's `(delta << shift) * mul >> 32` is computed.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).shrd("rax", "rdx", 32);
   * assertEquals([...a.bytes()], [0x48, 0x0f, 0xac, 0xd0, 0x20]);
   * ```
   */
  shrd(dst: Reg64 | Reg32 | Reg16, src: Reg64 | Reg32 | Reg16, count: number | "cl"): this {
    return this.#doubleShift("shrd", 0xac, dst, src, count);
  }

  /**
   * `shld dst, src, count`: shifts `dst` left, filling from `src` (0F A4 ib / 0F A5 with
   * `cl`).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).shld("rdx", "rax", "cl");
   * assertEquals([...a.bytes()], [0x48, 0x0f, 0xa5, 0xc2]);
   * ```
   */
  shld(dst: Reg64 | Reg32 | Reg16, src: Reg64 | Reg32 | Reg16, count: number | "cl"): this {
    return this.#doubleShift("shld", 0xa4, dst, src, count);
  }

  // -------------------------------------------------------------------------------------------
  // Stack and control flow

  /**
   * `push src`: a 64-bit register (50+r) or a sign-extended immediate (6A ib / 68 id).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).push("r12").push(0x10).bytes()], [0x41, 0x54, 0x6a, 0x10]);
   * ```
   */
  push(src: Reg64 | number | bigint): this {
    if (typeof src === "string") return this.#opPlusReg(0x50, reg(src, [64], "push operand"), 32);
    const v = checkRange(toBigInt(src, "push immediate"), -(1n << 31n), 1n << 31n, "push");
    return fitsSigned(v, 8) ? this.#emit(0x6a, ...le(v, 1)) : this.#emit(0x68, ...le(v, 4));
  }

  /**
   * `pop dst` into a 64-bit register (58+r).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).pop("rbp").pop("r15").bytes()], [0x5d, 0x41, 0x5f]);
   * ```
   */
  pop(dst: Reg64): this {
    return this.#opPlusReg(0x58, reg(dst, [64], "pop operand"), 32);
  }

  /**
   * `pushfq`: pushes RFLAGS (9C).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).pushfq().bytes()], [0x9c]);
   * ```
   */
  pushfq(): this {
    return this.#emit(0x9c);
  }

  /**
   * `popfq`: pops RFLAGS (9D).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).popfq().bytes()], [0x9d]);
   * ```
   */
  popfq(): this {
    return this.#emit(0x9d);
  }

  /**
   * `call target` with a rel32 displacement (E8 cd).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0x1000).call(0x1000n); // call itself: rel32 = -5
   * assertEquals([...a.bytes()], [0xe8, 0xfb, 0xff, 0xff, 0xff]);
   * ```
   */
  call(target: Target): this {
    return this.#branch("call", [0xe8], 4, target);
  }

  /**
   * `call src`: an indirect call through a 64-bit register (FF /2).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).callReg("r11").bytes()], [0x41, 0xff, 0xd3]);
   * ```
   */
  callReg(src: Reg64): this {
    return this.#indirect("callReg", 2, src);
  }

  /**
   * `jmp target` with a rel32 displacement (E9 cd).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("spin").jmp("spin");
   * assertEquals([...a.bytes()], [0xe9, 0xfb, 0xff, 0xff, 0xff]);
   * ```
   */
  jmp(target: Target): this {
    return this.#branch("jmp", [0xe9], 4, target);
  }

  /**
   * `jmp target` with a rel8 displacement (EB cb); throws `x86-rel8-out-of-range` when the
   * target is more than 128 bytes away.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("spin").pause().jmpShort("spin");
   * assertEquals([...a.bytes()], [0xf3, 0x90, 0xeb, 0xfc]);
   * ```
   */
  jmpShort(target: Target): this {
    return this.#branch("jmpShort", [0xeb], 1, target);
  }

  /**
   * `jmp src`: an indirect jump through a 64-bit register (FF /4).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).jmpReg("rax").bytes()], [0xff, 0xe0]);
   * ```
   */
  jmpReg(src: Reg64): this {
    return this.#indirect("jmpReg", 4, src);
  }

  /**
   * `jcc target`: conditional jump with a rel32 displacement (0F 80+cc cd).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("wait").jcc("ne", "wait");
   * assertEquals([...a.bytes()], [0x0f, 0x85, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jcc(cond: Condition, target: Target): this {
    return this.#branch(`j${cond}`, [0x0f, 0x80 | conditionCode(cond)], 4, target);
  }

  /**
   * `jcc target` with a rel8 displacement (70+cc cb); throws `x86-rel8-out-of-range` when
   * the target is more than 128 bytes away.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).jccShort("z", "out").nop().label("out");
   * assertEquals([...a.bytes()], [0x74, 0x01, 0x90]);
   * ```
   */
  jccShort(cond: Condition, target: Target): this {
    return this.#branch(`j${cond} (short)`, [0x70 | conditionCode(cond)], 1, target);
  }

  /**
   * `je target` (rel32): jump if equal (ZF = 1).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").je("l");
   * assertEquals([...a.bytes()], [0x0f, 0x84, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  je(target: Target): this {
    return this.jcc("e", target);
  }

  /**
   * `jne target` (rel32): jump if not equal (ZF = 0).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jne("l");
   * assertEquals([...a.bytes()], [0x0f, 0x85, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jne(target: Target): this {
    return this.jcc("ne", target);
  }

  /**
   * `jz target` (rel32): jump if zero; the same encoding as `je`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jz("l");
   * assertEquals([...a.bytes()], [0x0f, 0x84, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jz(target: Target): this {
    return this.jcc("z", target);
  }

  /**
   * `jnz target` (rel32): jump if not zero; the same encoding as `jne`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jnz("l");
   * assertEquals([...a.bytes()], [0x0f, 0x85, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jnz(target: Target): this {
    return this.jcc("nz", target);
  }

  /**
   * `jb target` (rel32): jump if unsigned below (CF = 1).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jb("l");
   * assertEquals([...a.bytes()], [0x0f, 0x82, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jb(target: Target): this {
    return this.jcc("b", target);
  }

  /**
   * `jae target` (rel32): jump if unsigned above or equal (CF = 0).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jae("l");
   * assertEquals([...a.bytes()], [0x0f, 0x83, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jae(target: Target): this {
    return this.jcc("ae", target);
  }

  /**
   * `jbe target` (rel32): jump if unsigned below or equal (CF = 1 or ZF = 1).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jbe("l");
   * assertEquals([...a.bytes()], [0x0f, 0x86, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jbe(target: Target): this {
    return this.jcc("be", target);
  }

  /**
   * `ja target` (rel32): jump if unsigned above (CF = 0 and ZF = 0).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").ja("l");
   * assertEquals([...a.bytes()], [0x0f, 0x87, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  ja(target: Target): this {
    return this.jcc("a", target);
  }

  /**
   * `jl target` (rel32): jump if signed less (SF ≠ OF).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jl("l");
   * assertEquals([...a.bytes()], [0x0f, 0x8c, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jl(target: Target): this {
    return this.jcc("l", target);
  }

  /**
   * `jge target` (rel32): jump if signed greater or equal (SF = OF).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jge("l");
   * assertEquals([...a.bytes()], [0x0f, 0x8d, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jge(target: Target): this {
    return this.jcc("ge", target);
  }

  /**
   * `jle target` (rel32): jump if signed less or equal (ZF = 1 or SF ≠ OF).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jle("l");
   * assertEquals([...a.bytes()], [0x0f, 0x8e, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jle(target: Target): this {
    return this.jcc("le", target);
  }

  /**
   * `jg target` (rel32): jump if signed greater (ZF = 0 and SF = OF).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jg("l");
   * assertEquals([...a.bytes()], [0x0f, 0x8f, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jg(target: Target): this {
    return this.jcc("g", target);
  }

  /**
   * `js target` (rel32): jump if sign (SF = 1).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").js("l");
   * assertEquals([...a.bytes()], [0x0f, 0x88, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  js(target: Target): this {
    return this.jcc("s", target);
  }

  /**
   * `jns target` (rel32): jump if not sign (SF = 0).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).label("l").jns("l");
   * assertEquals([...a.bytes()], [0x0f, 0x89, 0xfa, 0xff, 0xff, 0xff]);
   * ```
   */
  jns(target: Target): this {
    return this.jcc("ns", target);
  }

  /**
   * `ret` (C3).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).ret().bytes()], [0xc3]);
   * ```
   */
  ret(): this {
    return this.#emit(0xc3);
  }

  /**
   * `iretq`: 64-bit return from an interrupt handler (REX.W CF).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).iretq().bytes()], [0x48, 0xcf]);
   * ```
   */
  iretq(): this {
    return this.#emit(REX | REX_W, 0xcf);
  }

  /**
   * `int n`: software interrupt through IDT vector `n` (CD ib).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).int(0x80).bytes()], [0xcd, 0x80]);
   * ```
   */
  int(vector: number): this {
    const v = checkRange(toBigInt(vector, "int vector"), 0n, 256n, "int vector");
    return this.#emit(0xcd, Number(v));
  }

  /**
   * `int3`: the one-byte breakpoint (CC).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).int3().bytes()], [0xcc]);
   * ```
   */
  int3(): this {
    return this.#emit(0xcc);
  }

  /**
   * `ud2`: raises #UD, a guaranteed invalid opcode (0F 0B).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).ud2().bytes()], [0x0f, 0x0b]);
   * ```
   */
  ud2(): this {
    return this.#emit(0x0f, 0x0b);
  }

  // -------------------------------------------------------------------------------------------
  // System instructions

  /**
   * `cpuid` (0F A2): leaf in eax, subleaf in ecx; results in eax, ebx, ecx, edx.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).cpuid().bytes()], [0x0f, 0xa2]);
   * ```
   */
  cpuid(): this {
    return this.#emit(0x0f, 0xa2);
  }

  /**
   * `rdmsr` (0F 32): reads MSR ecx into edx:eax.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).rdmsr().bytes()], [0x0f, 0x32]);
   * ```
   */
  rdmsr(): this {
    return this.#emit(0x0f, 0x32);
  }

  /**
   * `wrmsr` (0F 30): writes edx:eax to MSR ecx.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).wrmsr().bytes()], [0x0f, 0x30]);
   * ```
   */
  wrmsr(): this {
    return this.#emit(0x0f, 0x30);
  }

  /**
   * `rdtsc` (0F 31): reads the TSC into edx:eax.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).rdtsc().bytes()], [0x0f, 0x31]);
   * ```
   */
  rdtsc(): this {
    return this.#emit(0x0f, 0x31);
  }

  /**
   * `rdtscp` (0F 01 F9): reads the TSC into edx:eax and TSC_AUX into ecx.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).rdtscp().bytes()], [0x0f, 0x01, 0xf9]);
   * ```
   */
  rdtscp(): this {
    return this.#emit(0x0f, 0x01, 0xf9);
  }

  /**
   * `vmcall` (0F 01 C1): Intel's hypercall instruction; KVM takes the number in rax.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).vmcall().bytes()], [0x0f, 0x01, 0xc1]);
   * ```
   */
  vmcall(): this {
    return this.#emit(0x0f, 0x01, 0xc1);
  }

  /**
   * `vmmcall` (0F 01 D9): AMD's hypercall instruction.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).vmmcall().bytes()], [0x0f, 0x01, 0xd9]);
   * ```
   */
  vmmcall(): this {
    return this.#emit(0x0f, 0x01, 0xd9);
  }

  /**
   * `hlt` (F4): with interrupts off, the vCPU exits to the VMM with KVM_EXIT_HLT.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).hlt().bytes()], [0xf4]);
   * ```
   */
  hlt(): this {
    return this.#emit(0xf4);
  }

  /**
   * `sti` (FB): sets IF; interrupts are taken after the next instruction.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).sti().bytes()], [0xfb]);
   * ```
   */
  sti(): this {
    return this.#emit(0xfb);
  }

  /**
   * `cli` (FA): clears IF.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).cli().bytes()], [0xfa]);
   * ```
   */
  cli(): this {
    return this.#emit(0xfa);
  }

  /**
   * `pause` (F3 90): the spin-loop hint.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).pause().bytes()], [0xf3, 0x90]);
   * ```
   */
  pause(): this {
    return this.#emit(0xf3, 0x90);
  }

  /**
   * `lfence` (0F AE E8): orders loads; also keeps `rdtsc` from executing early.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).lfence().bytes()], [0x0f, 0xae, 0xe8]);
   * ```
   */
  lfence(): this {
    return this.#emit(0x0f, 0xae, 0xe8);
  }

  /**
   * `mfence` (0F AE F0): orders loads and stores.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).mfence().bytes()], [0x0f, 0xae, 0xf0]);
   * ```
   */
  mfence(): this {
    return this.#emit(0x0f, 0xae, 0xf0);
  }

  /**
   * `sfence` (0F AE F8): orders stores.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).sfence().bytes()], [0x0f, 0xae, 0xf8]);
   * ```
   */
  sfence(): this {
    return this.#emit(0x0f, 0xae, 0xf8);
  }

  /**
   * `nop` (90).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).nop().bytes()], [0x90]);
   * ```
   */
  nop(): this {
    return this.#emit(0x90);
  }

  /**
   * `out port, src`: writes al/ax/eax to the port in `dx` (EE/EF) or to an immediate port
   * 0..255 (E6/E7 ib).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).out("dx", "al").out(0x80, "eax").out("dx", "ax");
   * assertEquals([...a.bytes()], [0xee, 0xe7, 0x80, 0x66, 0xef]);
   * ```
   */
  out(port: "dx" | number, src: PortIoRegister): this {
    return this.#portIo("out", 0xe6, 0xee, port, src);
  }

  /**
   * `in dst, port`: reads al/ax/eax from the port in `dx` (EC/ED) or from an immediate port
   * 0..255 (E4/E5 ib).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).in("al", "dx").in("eax", 0x71);
   * assertEquals([...a.bytes()], [0xec, 0xe5, 0x71]);
   * ```
   */
  in(dst: PortIoRegister, port: "dx" | number): this {
    return this.#portIo("in", 0xe4, 0xec, port, dst);
  }

  /**
   * `lgdt [mem]`: loads GDTR from a 10-byte limit/base pseudo-descriptor (0F 01 /2). A plain
   * number or bigint is an absolute address.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).lgdt(0x600);
   * assertEquals([...a.bytes()], [0x0f, 0x01, 0x14, 0x25, 0x00, 0x06, 0x00, 0x00]);
   * ```
   */
  lgdt(src: Memory | number | bigint): this {
    return this.#descriptorTable("lgdt", 2, src);
  }

  /**
   * `lidt [mem]`: loads IDTR from a 10-byte limit/base pseudo-descriptor (0F 01 /3). A plain
   * number or bigint is an absolute address.
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * const a = new Assembler(0).lidt({ base: "rax" });
   * assertEquals([...a.bytes()], [0x0f, 0x01, 0x18]);
   * ```
   */
  lidt(src: Memory | number | bigint): this {
    return this.#descriptorTable("lidt", 3, src);
  }

  /**
   * `invlpg [mem]`: drops the TLB entry for the page holding the address (0F 01 /7).
   *
   * @example
   * ```ts
   * import { Assembler } from "@pvkit/x86";
   * import { assertEquals } from "@std/assert";
   * assertEquals([...new Assembler(0).invlpg({ base: "rdi" }).bytes()], [0x0f, 0x01, 0x3f]);
   * ```
   */
  invlpg(src: Memory | number | bigint): this {
    return this.#descriptorTable("invlpg", 7, src);
  }

  // -------------------------------------------------------------------------------------------
  // Encoding machinery

  #emit(...bytes: number[]): this {
    if (this.#length + bytes.length > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + bytes.length));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    for (const b of bytes) this.#buffer[this.#length++] = b;
    return this;
  }

  /** Opcode with the register in its low three bits (B0+r, B8+r, 50+r, 58+r). */
  #opPlusReg(opcode: number, r: RegisterInfo, size: OperandSize): this {
    if (size === 16) this.#emit(OPERAND_SIZE);
    const rex = (size === 64 ? REX_W : 0) | (r.code >= 8 ? REX_B : 0);
    if (rex !== 0 || r.needsRex) this.#emit(REX | rex);
    return this.#emit(opcode | (r.code & 7));
  }

  /** Prefixes, REX, opcode, ModRM, SIB, displacement, immediate — SDM vol. 2, figure 2-1. */
  #modrm(f: ModRmForm): this {
    let rex = (f.size === 64 ? REX_W : 0) | (f.reg >= 8 ? REX_R : 0);
    let tail: readonly number[];
    let ripField = -1;
    switch (f.rm.kind) {
      case "reg":
        rex |= f.rm.info.code >= 8 ? REX_B : 0;
        tail = [0xc0 | ((f.reg & 7) << 3) | (f.rm.info.code & 7)];
        break;
      case "mem": {
        const m = encodeMemory(f.rm.mem, f.reg, f.what);
        rex |= m.rex;
        tail = m.bytes;
        break;
      }
      case "rip":
        // mod 00, rm 101: [rip + disp32], counted from the end of the instruction.
        tail = [((f.reg & 7) << 3) | 0b101, 0, 0, 0, 0];
        ripField = 1;
        break;
    }
    const start = this.#length;
    if (f.size === 16) this.#emit(OPERAND_SIZE);
    this.#emit(...(f.prefixes ?? []));
    if (rex !== 0 || f.forceRex) this.#emit(REX | rex);
    this.#emit(...f.opcode);
    const tailAt = this.#length;
    this.#emit(...tail, ...(f.imm ?? []));
    if (f.rm.kind === "rip") {
      this.#addFixup({
        at: tailAt + ripField,
        width: 4,
        relative: true,
        end: this.#length,
        target: f.rm.target,
        what: f.what,
      }, start);
    }
    return this;
  }

  #sameSize(
    what: string,
    a: string,
    b: string,
    sizes: readonly OperandSize[],
  ): [RegisterInfo, RegisterInfo] {
    const x = reg(a, sizes, `${what} destination`);
    const y = reg(b, sizes, `${what} source`);
    if (x.size !== y.size) {
      throw new PvkitError(
        "x86-size-mismatch",
        `${what} ${a}, ${b}: a ${x.size}-bit and a ${y.size}-bit register`,
        "both registers must have the same size; use movzxByte/movzxWord to widen",
      );
    }
    return [x, y];
  }

  #alu(op: AluOp, dst: Register, src: Register | number | bigint): this {
    const n = ALU[op];
    if (typeof src === "string") {
      const [d, s] = this.#sameSize(op, dst, src, ALL_SIZES);
      return this.#modrm({
        what: op,
        size: d.size,
        opcode: [n * 8 + (d.size === 8 ? 0 : 1)],
        reg: s.code,
        rm: { kind: "reg", info: d },
        forceRex: d.needsRex || s.needsRex,
      });
    }
    const d = reg(dst, ALL_SIZES, `${op} destination`);
    const v = immediate(src, d.size, `${op} ${dst}`);
    if (d.size !== 8 && fitsSigned(v, 8)) {
      return this.#modrm({
        what: op,
        size: d.size,
        opcode: [0x83],
        reg: n,
        rm: { kind: "reg", info: d },
        imm: le(v, 1),
      });
    }
    const width = Math.min(d.size, 32) / 8;
    if (d.code === 0 && !d.needsRex) {
      // The accumulator forms, one byte shorter: op al, imm8 / op eAX, imm16/32.
      if (d.size === 16) this.#emit(OPERAND_SIZE);
      if (d.size === 64) this.#emit(REX | REX_W);
      return this.#emit(n * 8 + (d.size === 8 ? 4 : 5), ...le(v, width));
    }
    return this.#modrm({
      what: op,
      size: d.size,
      opcode: [d.size === 8 ? 0x80 : 0x81],
      reg: n,
      rm: { kind: "reg", info: d },
      forceRex: d.needsRex,
      imm: le(v, width),
    });
  }

  #unary(what: string, byteOpcode: readonly number[], digit: number, dst: string): this {
    const d = reg(dst, ALL_SIZES, `${what} operand`);
    const opcode = d.size === 8 ? byteOpcode : [byteOpcode[0] + 1];
    return this.#modrm({
      what,
      size: d.size,
      opcode,
      reg: digit,
      rm: { kind: "reg", info: d },
      forceRex: d.needsRex,
    });
  }

  #shift(what: string, digit: number, dst: Register, count: number | "cl"): this {
    const d = reg(dst, ALL_SIZES, `${what} operand`);
    const byte = d.size === 8 ? 0 : 1;
    const base = { what, size: d.size, reg: digit, rm: { kind: "reg", info: d } as const };
    if (count === "cl") {
      return this.#modrm({ ...base, opcode: [0xd2 + byte], forceRex: d.needsRex });
    }
    const c = Number(checkRange(toBigInt(count, `${what} count`), 0n, 256n, `${what} count`));
    // A count of 1 has its own opcode (D0/D1), which GNU as prefers.
    if (c === 1) return this.#modrm({ ...base, opcode: [0xd0 + byte], forceRex: d.needsRex });
    return this.#modrm({ ...base, opcode: [0xc0 + byte], forceRex: d.needsRex, imm: [c] });
  }

  #doubleShift(
    what: string,
    opcode: number,
    dst: string,
    src: string,
    count: number | "cl",
  ): this {
    const [d, s] = this.#sameSize(what, dst, src, WIDE_SIZES);
    const base = { what, size: d.size, reg: s.code, rm: { kind: "reg", info: d } as const };
    if (count === "cl") return this.#modrm({ ...base, opcode: [0x0f, opcode + 1] });
    const c = Number(checkRange(toBigInt(count, `${what} count`), 0n, 256n, `${what} count`));
    return this.#modrm({ ...base, opcode: [0x0f, opcode], imm: [c] });
  }

  #movzx(
    what: string,
    opcode: number,
    dst: string,
    src: string | Memory,
    dstSizes: readonly OperandSize[],
    srcSize: OperandSize,
  ): this {
    const d = reg(dst, dstSizes, `${what} destination`);
    const s = typeof src === "string" ? reg(src, [srcSize], `${what} source`) : undefined;
    return this.#modrm({
      what,
      size: d.size,
      opcode: [0x0f, opcode],
      reg: d.code,
      rm: s === undefined ? mem(src as Memory, `${what} source`) : { kind: "reg", info: s },
      forceRex: s?.needsRex,
    });
  }

  #crMove(opcode: number, cr: string, gpr: string, what: string): this {
    const r = reg(gpr, [64], what);
    // The operand size is fixed at 64 bits in long mode: no REX.W (SDM "MOV—Move to/from
    // Control Registers").
    return this.#modrm({
      what,
      size: 32,
      opcode: [0x0f, opcode],
      reg: controlReg(cr),
      rm: { kind: "reg", info: r },
    });
  }

  #memReg(
    what: string,
    prefixes: readonly number[],
    opcode: readonly number[],
    dst: Memory,
    src: string,
  ): this {
    const r = reg(src, ALL_SIZES, `${what} source`);
    const last = opcode.length - 1;
    return this.#modrm({
      what,
      size: r.size,
      prefixes,
      opcode: r.size === 8 ? opcode : [...opcode.slice(0, last), opcode[last] + 1],
      reg: r.code,
      rm: mem(dst, `${what} destination`),
      forceRex: r.needsRex,
    });
  }

  #indirect(what: string, digit: number, src: string): this {
    // Near indirect branches default to 64-bit operands in long mode: no REX.W.
    return this.#modrm({
      what,
      size: 32,
      opcode: [0xff],
      reg: digit,
      rm: { kind: "reg", info: reg(src, [64], `${what} operand`) },
    });
  }

  #descriptorTable(what: string, digit: number, src: Memory | number | bigint): this {
    const m = typeof src === "object" ? src : { disp: src };
    return this.#modrm({ what, size: 32, opcode: [0x0f, 0x01], reg: digit, rm: mem(m, what) });
  }

  #portIo(
    what: string,
    immOpcode: number,
    dxOpcode: number,
    port: "dx" | number,
    accumulator: string,
  ): this {
    const a = reg(accumulator, [8, 16, 32], `${what} data register`);
    if (a.code !== 0) {
      throw new PvkitError(
        "x86-bad-register",
        `${what}: port I/O moves data through al, ax or eax, not ${accumulator}`,
        "move the value into al/ax/eax first",
      );
    }
    const wide = a.size === 8 ? 0 : 1;
    const prefix = a.size === 16 ? [OPERAND_SIZE] : [];
    if (port === "dx") return this.#emit(...prefix, dxOpcode + wide);
    if (typeof port !== "number") {
      throw new PvkitError(
        "x86-bad-register",
        `${what}: the port is "dx" or an immediate 0..255, not ${String(port)}`,
      );
    }
    const p = checkRange(
      toBigInt(port, `${what} port`),
      0n,
      256n,
      `${what} port`,
      "put ports " +
        "above 0xff in dx and use the dx form",
    );
    return this.#emit(...prefix, immOpcode + wide, Number(p));
  }

  #branch(what: string, opcode: readonly number[], width: 1 | 4, target: Target): this {
    const start = this.#length;
    this.#emit(...opcode);
    const at = this.#length;
    this.#emit(...new Array<number>(width).fill(0));
    return this.#addFixup({ at, width, relative: true, end: this.#length, target, what }, start);
  }

  /** A `width`-byte field that will hold the absolute address of `target`. */
  #absoluteFixup(width: 4 | 8, target: string, what: string, start: number): this {
    const at = this.#length;
    this.#emit(...new Array<number>(width).fill(0));
    return this.#addFixup({ at, width, relative: false, end: this.#length, target, what }, start);
  }

  /**
   * Records a fix-up for the instruction that started at `start`, resolving it now when the
   * target is known so range errors point at the offending call. On error the instruction is
   * removed again, leaving the assembler as it was.
   */
  #addFixup(f: Fixup, start: number): this {
    try {
      if (typeof f.target !== "string") {
        const t = toBigInt(f.target, `${f.what} target`);
        checkRange(t, 0n, 1n << 64n, `${f.what} target address`);
      }
      this.#apply(f);
    } catch (e) {
      this.#length = start;
      throw e;
    }
    this.#fixups.push(f);
    return this;
  }

  /** Patches one fix-up; false when its label is not defined yet. */
  #apply(f: Fixup): boolean {
    let target: bigint;
    if (typeof f.target === "string") {
      const offset = this.#labels.get(f.target);
      if (offset === undefined) return false;
      target = this.#origin + BigInt(offset);
    } else {
      target = toBigInt(f.target, `${f.what} target`);
    }
    let value: bigint;
    if (f.relative) {
      value = target - (this.#origin + BigInt(f.end));
      const bits = BigInt(f.width * 8);
      if (!fitsSigned(value, f.width * 8)) {
        const short = f.width === 1;
        throw new PvkitError(
          short ? "x86-rel8-out-of-range" : "x86-rel32-out-of-range",
          `${f.what} to ${describe(f.target)}: displacement ${show(value)} does not fit in ` +
            `rel${bits} (${show(-(1n << (bits - 1n)))}..${show((1n << (bits - 1n)) - 1n)})`,
          short
            ? "use the rel32 form (jmp/jcc instead of jmpShort/jccShort)"
            : "targets must lie within 2 GiB of the code; jump through a register instead",
        );
      }
    } else {
      value = target;
      if (value >= 1n << BigInt(f.width * 8)) {
        throw new PvkitError(
          "x86-immediate-out-of-range",
          `${f.what}: address ${show(value)} of ${describe(f.target)} does not fit in ` +
            `${f.width * 8} bits`,
          "load the code below 4 GiB, or use dq for a 64-bit address",
        );
      }
    }
    this.#buffer.set(le(value, f.width), f.at);
    return true;
  }
}

function undefinedLabels(names: readonly string[]): PvkitError {
  const list = names.map((n) => `"${n}"`).join(", ");
  return new PvkitError(
    "x86-undefined-label",
    `label${names.length > 1 ? "s" : ""} ${list} used but never defined`,
    "define each label with label(name) before calling bytes()",
  );
}

function describe(target: Target): string {
  return typeof target === "string" ? `label "${target}"` : show(BigInt(target));
}

function mem(m: Memory, what: string): RmOperand {
  if (typeof m !== "object" || m === null) {
    throw new PvkitError(
      "x86-bad-memory-operand",
      `${what}: expected a memory operand like { base: "rbx", disp: 8 }`,
    );
  }
  return { kind: "mem", mem: m };
}

function conditionCode(cond: string): number {
  const cc = CONDITION_CODES.get(cond);
  if (cc === undefined) {
    throw new PvkitError(
      "x86-bad-condition",
      `"${cond}" is not a condition code`,
      `use one of ${[...CONDITION_CODES.keys()].join(", ")}`,
    );
  }
  return cc;
}

function checkSize(size: number, what: string): OperandSize {
  if (size !== 8 && size !== 16 && size !== 32 && size !== 64) {
    throw new PvkitError("x86-bad-operand-size", `${what}: the size must be 8, 16, 32 or 64`);
  }
  return size;
}

/**
 * An immediate for an operand of `size` bits, as the signed value the CPU will see. Accepts
 * -2^(size-1)..2^size-1 (so 0xffffffff means -1 for a 32-bit operand); 64-bit operands take
 * a sign-extended imm32.
 */
function immediate(value: number | bigint, size: number, what: string): bigint {
  const bits = BigInt(checkSize(size, what));
  const v = checkRange(toBigInt(value, what), -(1n << (bits - 1n)), 1n << bits, what);
  const signed = BigInt.asIntN(size, v);
  if (size === 64 && !fitsSigned(signed, 32)) {
    throw new PvkitError(
      "x86-immediate-out-of-range",
      `${what}: ${show(v)} is not a sign-extended 32-bit value`,
      "64-bit instructions take imm32 sign-extended to 64 bits; load the constant into a " +
        "scratch register with movImm and use the register form",
    );
  }
  return signed;
}
