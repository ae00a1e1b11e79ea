import { PvkitError } from "@pvkit/machine";
import { assertEquals, assertThrows } from "@std/assert";
import { Assembler } from "./assembler.ts";
import type { Reg64, Register } from "./registers.ts";

function throwsCode(fn: () => unknown, code: string, messageIncludes?: string): PvkitError {
  const e = assertThrows(fn, PvkitError, messageIncludes);
  assertEquals(e.code, code);
  return e;
}

Deno.test("registers the form does not take throw x86-bad-register with a hint", () => {
  const a = new Assembler(0);
  const e = throwsCode(() => a.push("eax" as Reg64), "x86-bad-register", "32-bit register");
  assertEquals(e.hint?.includes("rax"), true);
  throwsCode(() => a.movImm("xmm0" as Register, 1), "x86-bad-register", "not a register");
  throwsCode(() => a.movImm("ah" as Register, 1), "x86-bad-register");
  throwsCode(() => a.movToCr("cr5" as "cr0", "rax"), "x86-bad-register", "control register");
  throwsCode(() => a.movToCr("cr3", "eax" as Reg64), "x86-bad-register");
  throwsCode(() => a.out("dx", "bl" as "al"), "x86-bad-register", "al, ax or eax");
  throwsCode(() => a.out("cx" as "dx", "al"), "x86-bad-register");
  throwsCode(() => a.imul("al" as "ax", "bl" as "ax"), "x86-bad-register");
  throwsCode(() => a.movImm("ax", "label"), "x86-bad-register", "label address");
  throwsCode(() => a.lea("rax", { base: "eax" as Reg64 }), "x86-bad-register", "base");
  assertEquals(a.length, 0, "failed calls emit nothing");
});

Deno.test("mixed operand sizes throw x86-size-mismatch", () => {
  const a = new Assembler(0);
  throwsCode(() => a.movRegReg("rax", "ebx"), "x86-size-mismatch", "64-bit and a 32-bit");
  throwsCode(() => a.add("eax", "bx"), "x86-size-mismatch");
  throwsCode(() => a.test("al", "ax"), "x86-size-mismatch");
  throwsCode(() => a.shrd("rax", "edx", 1), "x86-size-mismatch");
});

Deno.test("immediates out of range throw x86-immediate-out-of-range", () => {
  const a = new Assembler(0);
  throwsCode(() => a.movImm("eax", 0x1_0000_0000), "x86-immediate-out-of-range");
  throwsCode(() => a.movImm("eax", -0x8000_0001), "x86-immediate-out-of-range");
  throwsCode(() => a.movImm("al", 256), "x86-immediate-out-of-range");
  throwsCode(() => a.movImm("ax", -0x8001), "x86-immediate-out-of-range");
  throwsCode(() => a.movImm("rax", 1n << 64n), "x86-immediate-out-of-range");
  throwsCode(() => a.movImm("rax", -(1n << 63n) - 1n), "x86-immediate-out-of-range");
  const e = throwsCode(() => a.add("rax", 0x8000_0000), "x86-immediate-out-of-range");
  assertEquals(e.hint?.includes("movImm"), true);
  throwsCode(() => a.and("rax", 0xffff_ffffn), "x86-immediate-out-of-range", "sign-extended");
  throwsCode(() => a.test("rax", 0x8000_0000), "x86-immediate-out-of-range");
  throwsCode(() => a.cmp("al", 0x100), "x86-immediate-out-of-range");
  throwsCode(() => a.movStoreImm({ base: "rbx" }, 0x1_0000, 16), "x86-immediate-out-of-range");
  throwsCode(() => a.movStoreImm({ base: "rbx" }, 0x8000_0000, 64), "x86-immediate-out-of-range");
  throwsCode(() => a.shl("rax", 256), "x86-immediate-out-of-range");
  throwsCode(() => a.shl("rax", -1), "x86-immediate-out-of-range");
  throwsCode(() => a.int(256), "x86-immediate-out-of-range");
  throwsCode(() => a.out(0x3f8, "al"), "x86-immediate-out-of-range", "0x3f8");
  throwsCode(() => a.in("ax", 0x100), "x86-immediate-out-of-range");
  throwsCode(() => a.db(1, 2, 256), "x86-immediate-out-of-range");
  throwsCode(() => a.push(0x8000_0000), "x86-immediate-out-of-range");
  throwsCode(() => a.db(256), "x86-immediate-out-of-range");
  throwsCode(() => a.dw(0x10000), "x86-immediate-out-of-range");
  throwsCode(() => a.dd(0x1_0000_0000), "x86-immediate-out-of-range");
  throwsCode(() => a.dq(1n << 64n), "x86-immediate-out-of-range");
  throwsCode(() => a.movImm("eax", 1.5), "x86-bad-immediate", "not a whole number");
  assertEquals(a.length, 0);
});

Deno.test("bad memory operands throw x86-bad-memory-operand", () => {
  const a = new Assembler(0);
  throwsCode(() => a.movLoad("rax", { base: "rbx", index: "rsp" }), "x86-bad-memory-operand");
  throwsCode(
    () => a.movLoad("rax", { base: "rbx", scale: 4 }),
    "x86-bad-memory-operand",
    "without an index",
  );
  throwsCode(
    () => a.movLoad("rax", { base: "rbx", index: "rcx", scale: 3 as 2 }),
    "x86-bad-memory-operand",
  );
  throwsCode(() => a.movAbsLoad("rax", 0x8000_0000), "x86-immediate-out-of-range");
  throwsCode(
    () => a.movLoad("rax", { base: "rbx", disp: -(2 ** 31) - 1 }),
    "x86-immediate-out-of-range",
  );
  throwsCode(() => a.movLoad("rax", null as unknown as { base: "rbx" }), "x86-bad-memory-operand");
  // The boundaries themselves are fine.
  a.movLoad("rax", { base: "rbx", disp: -(2 ** 31) }).movAbsLoad("rax", 0x7fff_ffff);
  assertEquals(a.length, 7 + 8);
});

Deno.test("labels: undefined, duplicate and bad names throw", () => {
  const a = new Assembler(0).jmp("nowhere").call("missing").jmp("nowhere");
  const e = throwsCode(() => a.bytes(), "x86-undefined-label", '"nowhere", "missing"');
  assertEquals(e.hint?.includes("label(name)"), true);
  throwsCode(() => a.addressOf("nowhere"), "x86-undefined-label");
  a.label("nowhere").label("missing");
  assertEquals(a.bytes().length, 15);
  throwsCode(() => a.label("nowhere"), "x86-duplicate-label", "already defined at 15");
  throwsCode(() => a.label(""), "x86-bad-label");
  throwsCode(() => a.jcc("zz" as "z", "nowhere"), "x86-bad-condition");
});

Deno.test("rel8 out of range: forward at bytes(), backward at the call", () => {
  const fwd = new Assembler(0).jmpShort("far").db(new Uint8Array(128)).label("far");
  throwsCode(() => fwd.bytes(), "x86-rel8-out-of-range", "displacement 128");
  const ok = new Assembler(0).jmpShort("far").db(new Uint8Array(127)).label("far");
  assertEquals(ok.bytes()[1], 0x7f);

  const back = new Assembler(0).label("top").db(new Uint8Array(127));
  const e = throwsCode(() => back.jccShort("ne", "top"), "x86-rel8-out-of-range", "-129");
  assertEquals(e.hint?.includes("rel32"), true);
  assertEquals(back.length, 127, "the failed jump was rolled back");
  back.jcc("ne", "top");
  assertEquals([...back.bytes().subarray(127)], [0x0f, 0x85, 0x7b, 0xff, 0xff, 0xff]);
});

Deno.test("rel32 to an absolute target more than 2 GiB away throws x86-rel32-out-of-range", () => {
  const a = new Assembler(0x1_0000_0000n);
  throwsCode(() => a.call(0x1000), "x86-rel32-out-of-range");
  throwsCode(() => a.jmp(-1), "x86-immediate-out-of-range");
  throwsCode(() => a.leaRip("rax", 0x1000), "x86-rel32-out-of-range");
  assertEquals(a.length, 0, "failed instructions leave nothing behind");
  a.call(0x1_0000_1000n);
  assertEquals([...a.bytes()], [0xe8, 0xfb, 0x0f, 0x00, 0x00]);
});

Deno.test("absolute label fix-ups: movImm, dd and dq take the label's address", () => {
  const a = new Assembler(0x100000)
    .movImm("rsi", "msg") // mov esi, imm32
    .movImm("eax", "msg")
    .dq("msg")
    .dd("msg")
    .label("msg");
  assertEquals([...a.bytes()], [
    0xbe,
    0x16,
    0x00,
    0x10,
    0x00,
    0xb8,
    0x16,
    0x00,
    0x10,
    0x00,
    0x16,
    0x00,
    0x10,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x16,
    0x00,
    0x10,
    0x00,
  ]); // deno-fmt-ignore
  const high = new Assembler(0x1_0000_0000n).dd("x").label("x");
  throwsCode(() => high.bytes(), "x86-immediate-out-of-range", "does not fit in 32 bits");
  const known = new Assembler(0x1_0000_0000n).label("x");
  throwsCode(() => known.movImm("rax", "x"), "x86-immediate-out-of-range");
  assertEquals(known.length, 0);
  assertEquals(new Assembler(0x1_0000_0000n).dq("x").label("x").bytes()[4], 1);
});

Deno.test("origin, here, length, align and repeated bytes() calls", () => {
  throwsCode(() => new Assembler(-1), "x86-bad-origin");
  throwsCode(() => new Assembler(1n << 64n), "x86-bad-origin");
  const a = new Assembler(0xffff_ffff_ffff_fff0n);
  assertEquals(a.origin, 0xffff_ffff_ffff_fff0n);
  a.nop().align(8);
  assertEquals([a.length, a.here()], [8, 0xffff_ffff_ffff_fff8n]);
  assertEquals([...a.bytes()], new Array(8).fill(0x90));
  throwsCode(() => a.align(3), "x86-bad-alignment");
  throwsCode(() => a.align(4, 0x100), "x86-immediate-out-of-range");
  a.align(8); // already aligned: no padding
  assertEquals(a.length, 8);

  // bytes() snapshots; later code and later labels show up in later snapshots.
  const b = new Assembler(0).jmp("end");
  const grown = b.nop().label("end");
  assertEquals(grown, b);
  const first = b.bytes();
  b.hlt();
  assertEquals(first.length, 6);
  assertEquals(b.bytes().length, 7);
  assertEquals(b.toChunk().gpa, 0n);
});

Deno.test("newLabel names are fresh even when the user took .L0", () => {
  const a = new Assembler(0).label(".L0");
  const l = a.newLabel();
  assertEquals(l === ".L0", false);
  assertEquals(a.newLabel() === l, false);
  a.jmp(l).label(l);
  assertEquals([...a.bytes()], [0xe9, 0, 0, 0, 0]);
});

Deno.test("int(3) keeps the two-byte form; int3() is the one-byte breakpoint", () => {
  // GNU as rewrites `int 3` to CC; the assembler emits what was asked (SDM: CD 03 and CC
  // differ in how virtual-8086 and IOPL checks treat them).
  assertEquals([...new Assembler(0).int(3).int3().bytes()], [0xcd, 0x03, 0xcc]);
});

Deno.test("the buffer grows past its initial size", () => {
  const a = new Assembler(0);
  for (let i = 0; i < 1000; i++) a.movImm("r8", 0x1122334455667788n);
  const bytes = a.bytes();
  assertEquals(bytes.length, 10_000);
  assertEquals([...bytes.subarray(9990)], [
    0x49,
    0xb8,
    0x88,
    0x77,
    0x66,
    0x55,
    0x44,
    0x33,
    0x22,
    0x11,
  ]);
});
