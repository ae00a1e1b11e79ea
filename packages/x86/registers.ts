/**
 * Register names the {@linkcode Assembler} accepts, by operand size.
 *
 * Registers are plain strings in Intel's spelling (`"rax"`, `"r12d"`, `"r8w"`, `"sil"`), so a
 * probe program reads like its assembly listing. The legacy high-byte registers (`ah`, `ch`,
 * `dh`, `bh`) are not supported: they cannot be combined with a REX prefix, and probe code
 * never needs them.
 *
 * @module
 */

/**
 * A 64-bit general-purpose register.
 *
 * @example
 * ```ts
 * import type { Reg64 } from "@pvkit/x86";
 * const scratch: Reg64 = "r11";
 * console.log(scratch);
 * ```
 */
export type Reg64 =
  | "rax"
  | "rcx"
  | "rdx"
  | "rbx"
  | "rsp"
  | "rbp"
  | "rsi"
  | "rdi"
  | "r8"
  | "r9"
  | "r10"
  | "r11"
  | "r12"
  | "r13"
  | "r14"
  | "r15";

/**
 * A 32-bit general-purpose register; writing one zero-extends into the 64-bit register.
 *
 * @example
 * ```ts
 * import type { Reg32 } from "@pvkit/x86";
 * const counter: Reg32 = "r9d";
 * console.log(counter);
 * ```
 */
export type Reg32 =
  | "eax"
  | "ecx"
  | "edx"
  | "ebx"
  | "esp"
  | "ebp"
  | "esi"
  | "edi"
  | "r8d"
  | "r9d"
  | "r10d"
  | "r11d"
  | "r12d"
  | "r13d"
  | "r14d"
  | "r15d";

/**
 * A 16-bit general-purpose register (`ax` for port I/O, `dx` for the port number).
 *
 * @example
 * ```ts
 * import type { Reg16 } from "@pvkit/x86";
 * const port: Reg16 = "dx";
 * console.log(port);
 * ```
 */
export type Reg16 =
  | "ax"
  | "cx"
  | "dx"
  | "bx"
  | "sp"
  | "bp"
  | "si"
  | "di"
  | "r8w"
  | "r9w"
  | "r10w"
  | "r11w"
  | "r12w"
  | "r13w"
  | "r14w"
  | "r15w";

/**
 * A low-byte register. `spl`, `bpl`, `sil` and `dil` exist only with a REX prefix.
 *
 * @example
 * ```ts
 * import type { Reg8 } from "@pvkit/x86";
 * const data: Reg8 = "al";
 * console.log(data);
 * ```
 */
export type Reg8 =
  | "al"
  | "cl"
  | "dl"
  | "bl"
  | "spl"
  | "bpl"
  | "sil"
  | "dil"
  | "r8b"
  | "r9b"
  | "r10b"
  | "r11b"
  | "r12b"
  | "r13b"
  | "r14b"
  | "r15b";

/**
 * Any general-purpose register the assembler knows.
 *
 * @example
 * ```ts
 * import type { Register } from "@pvkit/x86";
 * const regs: Register[] = ["rax", "eax", "ax", "al"];
 * console.log(regs.length);
 * ```
 */
export type Register = Reg64 | Reg32 | Reg16 | Reg8;

/**
 * The data register of `in`/`out`: the transfer is 1, 2 or 4 bytes through al, ax or eax.
 *
 * @example
 * ```ts
 * import type { PortIoRegister } from "@pvkit/x86";
 * const byteWide: PortIoRegister = "al";
 * console.log(byteWide);
 * ```
 */
export type PortIoRegister = "al" | "ax" | "eax";

/**
 * A control register reachable with `mov crN, r64` / `mov r64, crN`.
 *
 * @example
 * ```ts
 * import type { ControlRegister } from "@pvkit/x86";
 * const pagingRoot: ControlRegister = "cr3";
 * console.log(pagingRoot);
 * ```
 */
export type ControlRegister = "cr0" | "cr2" | "cr3" | "cr4" | "cr8";

/**
 * An operand size in bits.
 *
 * @example
 * ```ts
 * import type { OperandSize } from "@pvkit/x86";
 * const dword: OperandSize = 32;
 * console.log(dword);
 * ```
 */
export type OperandSize = 8 | 16 | 32 | 64;
