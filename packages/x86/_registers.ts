// Register name -> (encoding number, size). The encoding number is the 4-bit value whose low
// three bits go in ModRM.reg / ModRM.rm / SIB / opcode+r and whose bit 3 goes in REX.R/X/B
// (Intel SDM vol. 2, 2.2.1.2, table 2-4 and 3.1.1.1).

import { PvkitError } from "@pvkit/machine";
import type { ControlRegister, OperandSize, Register } from "./registers.ts";

/** What the encoder needs to know about a general-purpose register. */
export interface RegisterInfo {
  readonly name: Register;
  /** 0-15: bit 3 goes to a REX extension bit, bits 2:0 to the instruction. */
  readonly code: number;
  readonly size: OperandSize;
  /** spl/bpl/sil/dil: encodings 4-7 mean ah/ch/dh/bh unless some REX prefix is present. */
  readonly needsRex: boolean;
}

const LEGACY = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"] as const;

const NAMES: Readonly<Record<OperandSize, readonly string[]>> = {
  64: [...LEGACY.map((r) => `r${r}`), ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}`)],
  32: [...LEGACY.map((r) => `e${r}`), ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}d`)],
  16: [...LEGACY, ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}w`)],
  8: [
    "al",
    "cl",
    "dl",
    "bl",
    "spl",
    "bpl",
    "sil",
    "dil",
    ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}b`),
  ],
};

const TABLE: ReadonlyMap<string, RegisterInfo> = new Map(
  ([64, 32, 16, 8] as const).flatMap((size) =>
    NAMES[size].map((name, code): [string, RegisterInfo] => [
      name,
      { name: name as Register, code, size, needsRex: size === 8 && code >= 4 && code <= 7 },
    ])
  ),
);

const CONTROL: ReadonlyMap<string, number> = new Map<ControlRegister, number>([
  ["cr0", 0],
  ["cr2", 2],
  ["cr3", 3],
  ["cr4", 4],
  ["cr8", 8],
]);

function sizeNames(sizes: readonly OperandSize[]): string {
  return sizes.map((s) => `${s}-bit`).join(" or ");
}

/** True when `name` is a general-purpose register name (any size). */
export function isRegister(name: unknown): name is Register {
  return typeof name === "string" && TABLE.has(name);
}

/**
 * Looks a register up and checks its size against what the instruction form allows. `what`
 * names the instruction and operand for the error message, e.g. `"push operand"`.
 */
export function reg(name: string, sizes: readonly OperandSize[], what: string): RegisterInfo {
  const info = TABLE.get(name);
  if (info === undefined) {
    throw new PvkitError(
      "x86-bad-register",
      `${what}: "${name}" is not a register pvkit's assembler knows`,
      `use a ${sizeNames(sizes)} register, e.g. ${sizes.map((s) => NAMES[s][0]).join(", ")}`,
    );
  }
  if (!sizes.includes(info.size)) {
    throw new PvkitError(
      "x86-bad-register",
      `${what}: ${name} is a ${info.size}-bit register; this form takes ${sizeNames(sizes)}`,
      `use a ${sizeNames(sizes)} register, e.g. ${
        sizes.map((s) => NAMES[s][info.code]).join(", ")
      }`,
    );
  }
  return info;
}

/** Looks a control register up; the number is what goes in ModRM.reg (and REX.R for cr8). */
export function controlReg(name: string): number {
  const code = CONTROL.get(name);
  if (code === undefined) {
    throw new PvkitError(
      "x86-bad-register",
      `"${name}" is not a control register pvkit's assembler knows`,
      `use one of ${[...CONTROL.keys()].join(", ")}`,
    );
  }
  return code;
}
