/**
 * {@linkcode Memory}: the `[base + index*scale + disp]` operand of the {@linkcode Assembler}.
 *
 * @module
 */

import type { Reg64 } from "./registers.ts";

/**
 * A memory operand, `[base + index*scale + disp]`, with 64-bit address registers.
 *
 * Leave out `base` and `index` for an absolute address: `{ disp: 0x500 }` encodes `[0x500]`
 * as ModRM mod=00 rm=100 with SIB base=101 index=100 and a disp32, which is not RIP-relative
 * and therefore means the same address wherever the code is loaded. `disp` is a signed
 * 32-bit value, so absolute addresses reach the low 2 GiB.
 *
 * @example
 * ```ts
 * import { Assembler, type Memory } from "@pvkit/x86";
 * import { assertEquals } from "@std/assert";
 * const slot: Memory = { base: "rbx", disp: 8 };
 * const a = new Assembler(0x1000).movLoad("rax", slot); // mov rax, [rbx + 8]
 * assertEquals([...a.bytes()], [0x48, 0x8b, 0x43, 0x08]);
 * ```
 */
export interface Memory {
  /** Base register; omit for an absolute or index-only address. */
  readonly base?: Reg64;
  /** Index register (not `rsp`), multiplied by `scale`. */
  readonly index?: Reg64;
  /** Index scale: 1 (the default), 2, 4 or 8. */
  readonly scale?: 1 | 2 | 4 | 8;
  /** Signed 32-bit displacement; 0 when omitted. */
  readonly disp?: number | bigint;
}
