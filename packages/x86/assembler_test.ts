import { assertEquals } from "@std/assert";
import { Assembler } from "./assembler.ts";

// Each GNU as line of tools/vectors.asm, with the Assembler calls that must produce the same
// bytes. A line may list several equivalent calls (e.g. movImm to eax or to rax).
type Emit = (a: Assembler) => unknown;
const CASES: readonly (readonly [string, ...Emit[]])[] = [
  // movImm
  ["mov eax, 1", (a) => a.movImm("eax", 1), (a) => a.movImm("rax", 1)],
  ["mov eax, 0", (a) => a.movImm("eax", 0), (a) => a.movImm("rax", 0n)],
  [
    "mov eax, 0x80000000",
    (a) => a.movImm("eax", 0x80000000),
    (a) => a.movImm("rax", 0x80000000n),
  ],
  [
    "mov eax, 0xffffffff",
    (a) => a.movImm("eax", 0xffffffff),
    (a) => a.movImm("eax", -1),
    (a) => a.movImm("rax", 0xffffffff),
  ],
  ["mov esp, 0x8ff0", (a) => a.movImm("esp", 0x8ff0), (a) => a.movImm("rsp", 0x8ff0)],
  ["mov r15d, 0x12345678", (a) => a.movImm("r15d", 0x12345678), (a) => a.movImm("r15", 0x12345678)],
  ["mov rax, -1", (a) => a.movImm("rax", -1), (a) => a.movImm("rax", 0xffff_ffff_ffff_ffffn)],
  ["mov rax, -2147483648", (a) => a.movImm("rax", -2147483648)],
  ["mov r9, -5", (a) => a.movImm("r9", -5n)],
  ["mov rax, 0x100000000", (a) => a.movImm("rax", 0x1_0000_0000)],
  ["mov rax, 0x1122334455667788", (a) => a.movImm("rax", 0x1122334455667788n)],
  ["mov r8, 0x1122334455667788", (a) => a.movImm("r8", 0x1122334455667788n)],
  ["mov r15, 0x8000000000000000", (a) => a.movImm("r15", 0x8000000000000000n)],
  ["mov dx, 0x3f8", (a) => a.movImm("dx", 0x3f8)],
  ["mov r10w, 0x1234", (a) => a.movImm("r10w", 0x1234)],
  ["mov al, 0x41", (a) => a.movImm("al", 0x41)],
  ["mov sil, 0x7f", (a) => a.movImm("sil", 0x7f)],
  ["mov r12b, 0xff", (a) => a.movImm("r12b", 0xff), (a) => a.movImm("r12b", -1)],

  // mov reg, reg
  ["mov rax, rbx", (a) => a.movRegReg("rax", "rbx")],
  ["mov r8, rsp", (a) => a.movRegReg("r8", "rsp")],
  ["mov rsp, r15", (a) => a.movRegReg("rsp", "r15")],
  ["mov rbp, rsp", (a) => a.movRegReg("rbp", "rsp")],
  ["mov eax, r9d", (a) => a.movRegReg("eax", "r9d")],
  ["mov r13d, ebp", (a) => a.movRegReg("r13d", "ebp")],
  ["mov cx, r14w", (a) => a.movRegReg("cx", "r14w")],
  ["mov al, dil", (a) => a.movRegReg("al", "dil")],
  ["mov r15b, bl", (a) => a.movRegReg("r15b", "bl")],

  // loads
  ["mov rax, QWORD PTR [rbx]", (a) => a.movLoad("rax", { base: "rbx" })],
  ["mov rax, QWORD PTR [rsp]", (a) => a.movLoad("rax", { base: "rsp" })],
  ["mov rax, QWORD PTR [rbp]", (a) => a.movLoad("rax", { base: "rbp" })],
  ["mov rax, QWORD PTR [r12]", (a) => a.movLoad("rax", { base: "r12", disp: 0 })],
  ["mov rax, QWORD PTR [r13]", (a) => a.movLoad("rax", { base: "r13" })],
  ["mov rax, QWORD PTR [rbx+8]", (a) => a.movLoad("rax", { base: "rbx", disp: 8 })],
  ["mov rax, QWORD PTR [rbx-8]", (a) => a.movLoad("rax", { base: "rbx", disp: -8 })],
  ["mov rax, QWORD PTR [rbx+127]", (a) => a.movLoad("rax", { base: "rbx", disp: 127 })],
  ["mov rax, QWORD PTR [rbx+128]", (a) => a.movLoad("rax", { base: "rbx", disp: 128 })],
  ["mov rax, QWORD PTR [rbx-128]", (a) => a.movLoad("rax", { base: "rbx", disp: -128 })],
  ["mov rax, QWORD PTR [rbx-129]", (a) => a.movLoad("rax", { base: "rbx", disp: -129n })],
  ["mov rax, QWORD PTR [rsp+16]", (a) => a.movLoad("rax", { base: "rsp", disp: 16 })],
  ["mov r11, QWORD PTR [r12+0x1000]", (a) => a.movLoad("r11", { base: "r12", disp: 0x1000 })],
  ["mov r9, QWORD PTR [rbp-0x10000]", (a) => a.movLoad("r9", { base: "rbp", disp: -0x10000 })],
  ["mov eax, DWORD PTR [rsi]", (a) => a.movLoad("eax", { base: "rsi" })],
  ["mov r10d, DWORD PTR [r13+4]", (a) => a.movLoad("r10d", { base: "r13", disp: 4 })],
  ["mov ax, WORD PTR [rdi+2]", (a) => a.movLoad("ax", { base: "rdi", disp: 2 })],
  ["mov r8w, WORD PTR [rax]", (a) => a.movLoad("r8w", { base: "rax" })],
  ["mov al, BYTE PTR [rdx]", (a) => a.movLoad("al", { base: "rdx" })],
  ["mov sil, BYTE PTR [rbx]", (a) => a.movLoad("sil", { base: "rbx" })],
  ["mov r15b, BYTE PTR [r15+1]", (a) => a.movLoad("r15b", { base: "r15", disp: 1 })],
  [
    "mov eax, DWORD PTR [rbx+rcx*4]",
    (a) => a.movLoad("eax", { base: "rbx", index: "rcx", scale: 4 }),
  ],
  [
    "mov rax, QWORD PTR [rbx+r12*8+0x10]",
    (a) => a.movLoad("rax", { base: "rbx", index: "r12", scale: 8, disp: 0x10 }),
  ],
  ["mov rax, QWORD PTR [r13+rax*1]", (a) => a.movLoad("rax", { base: "r13", index: "rax" })],
  [
    "mov eax, DWORD PTR [rcx*8+0x100]",
    (a) => a.movLoad("eax", { index: "rcx", scale: 8, disp: 0x100 }),
  ],
  [
    "mov ecx, DWORD PTR [rsp+rbp*2]",
    (a) => a.movLoad("ecx", { base: "rsp", index: "rbp", scale: 2 }),
  ],
  [
    "mov rdx, QWORD PTR [r8+r15*2-8]",
    (a) => a.movLoad("rdx", { base: "r8", index: "r15", scale: 2, disp: -8 }),
  ],

  // stores
  ["mov QWORD PTR [rbx], rax", (a) => a.movStore({ base: "rbx" }, "rax")],
  ["mov QWORD PTR [rsp+8], r8", (a) => a.movStore({ base: "rsp", disp: 8 }, "r8")],
  ["mov QWORD PTR [r13], rcx", (a) => a.movStore({ base: "r13" }, "rcx")],
  ["mov DWORD PTR [rdi+0x100], eax", (a) => a.movStore({ base: "rdi", disp: 0x100 }, "eax")],
  ["mov WORD PTR [rbx], dx", (a) => a.movStore({ base: "rbx" }, "dx")],
  ["mov BYTE PTR [rdi], al", (a) => a.movStore({ base: "rdi" }, "al")],
  ["mov BYTE PTR [rsi+1], bpl", (a) => a.movStore({ base: "rsi", disp: 1 }, "bpl")],
  ["mov BYTE PTR [r12], r8b", (a) => a.movStore({ base: "r12" }, "r8b")],

  // absolute [disp32]
  [
    "mov eax, DWORD PTR [0x1000]",
    (a) => a.movAbsLoad("eax", 0x1000),
    (a) => a.movLoad("eax", { disp: 0x1000 }),
  ],
  ["mov rax, QWORD PTR [0x7000]", (a) => a.movAbsLoad("rax", 0x7000n)],
  ["mov r12, QWORD PTR [0x500]", (a) => a.movAbsLoad("r12", 0x500)],
  ["mov QWORD PTR [0x7008], rbx", (a) => a.movAbsStore(0x7008, "rbx")],
  ["mov BYTE PTR [0x600], al", (a) => a.movAbsStore(0x600, "al")],
  ["mov WORD PTR [0x602], ax", (a) => a.movAbsStore(0x602n, "ax")],

  // store immediates
  ["mov DWORD PTR [rbx], 0x12345678", (a) => a.movStoreImm({ base: "rbx" }, 0x12345678, 32)],
  ["mov QWORD PTR [rbx+8], -5", (a) => a.movStoreImm({ base: "rbx", disp: 8 }, -5, 64)],
  ["mov BYTE PTR [rdi], 0x41", (a) => a.movStoreImm({ base: "rdi" }, 0x41, 8)],
  ["mov WORD PTR [rax+2], 0x1234", (a) => a.movStoreImm({ base: "rax", disp: 2 }, 0x1234, 16)],
  ["mov DWORD PTR [0x1000], 1", (a) => a.movStoreImm({ disp: 0x1000 }, 1, 32)],

  // movzx
  ["movzx eax, BYTE PTR [rbx]", (a) => a.movzxByte("eax", { base: "rbx" })],
  ["movzx rax, BYTE PTR [rsi+1]", (a) => a.movzxByte("rax", { base: "rsi", disp: 1 })],
  ["movzx ax, BYTE PTR [rbx]", (a) => a.movzxByte("ax", { base: "rbx" })],
  ["movzx ecx, WORD PTR [rdi]", (a) => a.movzxWord("ecx", { base: "rdi" })],
  ["movzx r8, WORD PTR [r9+2]", (a) => a.movzxWord("r8", { base: "r9", disp: 2 })],
  ["movzx eax, sil", (a) => a.movzxByte("eax", "sil")],
  ["movzx edx, al", (a) => a.movzxByte("edx", "al")],
  ["movzx r10d, r11w", (a) => a.movzxWord("r10d", "r11w")],

  // lea
  ["lea rax, [rbx+8]", (a) => a.lea("rax", { base: "rbx", disp: 8 })],
  ["lea rsp, [rsp-16]", (a) => a.lea("rsp", { base: "rsp", disp: -16 })],
  [
    "lea r12, [r13+r14*4+0x20]",
    (a) => a.lea("r12", { base: "r13", index: "r14", scale: 4, disp: 0x20 }),
  ],
  ["lea eax, [rax+rax*2]", (a) => a.lea("eax", { base: "rax", index: "rax", scale: 2 })],
  ["lea rdi, [rip+1f]; nop; 1:", (a) => a.leaRip("rdi", "f").nop().label("f")],
  ["1: nop; lea rax, [rip+1b]", (a) => a.label("b").nop().leaRip("rax", "b")],

  // control registers
  ["mov cr0, rax", (a) => a.movToCr("cr0", "rax")],
  ["mov cr3, r8", (a) => a.movToCr("cr3", "r8")],
  ["mov cr4, rbx", (a) => a.movToCr("cr4", "rbx")],
  ["mov cr8, rax", (a) => a.movToCr("cr8", "rax")],
  ["mov rax, cr0", (a) => a.movFromCr("rax", "cr0")],
  ["mov rax, cr2", (a) => a.movFromCr("rax", "cr2")],
  ["mov rbx, cr3", (a) => a.movFromCr("rbx", "cr3")],
  ["mov r15, cr4", (a) => a.movFromCr("r15", "cr4")],

  // xchg and locked read-modify-write
  ["xchg QWORD PTR [rbx], rax", (a) => a.xchg({ base: "rbx" }, "rax")],
  ["xchg DWORD PTR [r12+4], r9d", (a) => a.xchg({ base: "r12", disp: 4 }, "r9d")],
  ["xchg BYTE PTR [rdi], al", (a) => a.xchg({ base: "rdi" }, "al")],
  ["lock cmpxchg QWORD PTR [rbx], rcx", (a) => a.lockCmpxchg({ base: "rbx" }, "rcx")],
  [
    "lock cmpxchg DWORD PTR [rdi+8], r10d",
    (a) => a.lockCmpxchg({ base: "rdi", disp: 8 }, "r10d"),
  ],
  ["lock cmpxchg WORD PTR [rbx], cx", (a) => a.lockCmpxchg({ base: "rbx" }, "cx")],
  ["lock cmpxchg BYTE PTR [rsi], dl", (a) => a.lockCmpxchg({ base: "rsi" }, "dl")],
  ["lock xadd QWORD PTR [rdi], rax", (a) => a.lockXadd({ base: "rdi" }, "rax")],

  // ALU reg, reg
  ["add rax, rbx", (a) => a.add("rax", "rbx")],
  ["add r8, r9", (a) => a.add("r8", "r9")],
  ["add eax, r15d", (a) => a.add("eax", "r15d")],
  ["add dx, ax", (a) => a.add("dx", "ax")],
  ["add sil, dil", (a) => a.add("sil", "dil")],
  ["sub rcx, rdx", (a) => a.sub("rcx", "rdx")],
  ["and rax, rdx", (a) => a.and("rax", "rdx")],
  ["or ebx, ecx", (a) => a.or("ebx", "ecx")],
  ["xor eax, eax", (a) => a.xor("eax", "eax")],
  ["xor r12d, r12d", (a) => a.xor("r12d", "r12d")],
  ["cmp rax, r11", (a) => a.cmp("rax", "r11")],
  ["cmp al, bl", (a) => a.cmp("al", "bl")],
  ["adc rdx, rcx", (a) => a.adc("rdx", "rcx")],
  ["sbb eax, edx", (a) => a.sbb("eax", "edx")],
  ["test rax, rax", (a) => a.test("rax", "rax")],
  ["test r8d, r9d", (a) => a.test("r8d", "r9d")],
  ["test al, cl", (a) => a.test("al", "cl")],

  // ALU reg, imm
  ["add rax, 1", (a) => a.add("rax", 1)],
  ["add rax, 0x1000", (a) => a.add("rax", 0x1000)],
  ["add rbx, 0x1000", (a) => a.add("rbx", 0x1000n)],
  ["add rsp, 8", (a) => a.add("rsp", 8)],
  ["add ax, 0x1000", (a) => a.add("ax", 0x1000)],
  ["add cx, 1", (a) => a.add("cx", 1)],
  ["sub rsp, 0x100", (a) => a.sub("rsp", 0x100)],
  ["sub r12, -128", (a) => a.sub("r12", -128)],
  ["sub r12, 128", (a) => a.sub("r12", 128)],
  ["and eax, 0xfff", (a) => a.and("eax", 0xfff)],
  ["and rax, -4096", (a) => a.and("rax", -4096)],
  ["and rdi, 0xfffffffffffff000", (a) => a.and("rdi", 0xffff_ffff_ffff_f000n)],
  ["or eax, 0x20", (a) => a.or("eax", 0x20)],
  ["or ecx, 0x80000000", (a) => a.or("ecx", 0x80000000)],
  ["xor eax, 0xffffffff", (a) => a.xor("eax", 0xffffffff), (a) => a.xor("eax", -1)],
  ["cmp eax, 0x40000001", (a) => a.cmp("eax", 0x40000001)],
  ["cmp r15, 0", (a) => a.cmp("r15", 0)],
  ["cmp al, 10", (a) => a.cmp("al", 10)],
  ["cmp bl, 0x80", (a) => a.cmp("bl", 0x80), (a) => a.cmp("bl", -128)],
  ["cmp dil, 1", (a) => a.cmp("dil", 1)],
  ["adc rdx, 0", (a) => a.adc("rdx", 0)],
  ["sbb rax, 1", (a) => a.sbb("rax", 1)],
  ["test eax, 1", (a) => a.test("eax", 1)],
  ["test ebx, 1", (a) => a.test("ebx", 1)],
  ["test al, 1", (a) => a.test("al", 1)],
  ["test r8b, 0x80", (a) => a.test("r8b", 0x80)],
  ["test rax, 0x200", (a) => a.test("rax", 0x200)],
  ["test ax, 0x100", (a) => a.test("ax", 0x100)],
  ["test rdi, -1", (a) => a.test("rdi", -1)],

  // inc, dec, not, neg, mul, div, imul
  ["inc rax", (a) => a.inc("rax")],
  ["inc r12", (a) => a.inc("r12")],
  ["inc ecx", (a) => a.inc("ecx")],
  ["inc spl", (a) => a.inc("spl")],
  ["dec r15d", (a) => a.dec("r15d")],
  ["dec al", (a) => a.dec("al")],
  ["not rax", (a) => a.not("rax")],
  ["neg rdx", (a) => a.neg("rdx")],
  ["neg ecx", (a) => a.neg("ecx")],
  ["mul rcx", (a) => a.mul("rcx")],
  ["mul r9", (a) => a.mul("r9")],
  ["div rbx", (a) => a.div("rbx")],
  ["div r8d", (a) => a.div("r8d")],
  ["imul rax, rbx", (a) => a.imul("rax", "rbx")],
  ["imul r8d, r9d", (a) => a.imul("r8d", "r9d")],
  ["imul cx, dx", (a) => a.imul("cx", "dx")],

  // shifts
  ["shl rax, 12", (a) => a.shl("rax", 12)],
  ["shl rax, 1", (a) => a.shl("rax", 1)],
  ["shr rdx, 32", (a) => a.shr("rdx", 32)],
  ["shr eax, 1", (a) => a.shr("eax", 1)],
  ["sar rax, 63", (a) => a.sar("rax", 63)],
  ["shl r9, cl", (a) => a.shl("r9", "cl")],
  ["shr al, 4", (a) => a.shr("al", 4)],
  ["shl r10d, 3", (a) => a.shl("r10d", 3)],
  ["sar eax, cl", (a) => a.sar("eax", "cl")],
  ["shrd rax, rdx, 32", (a) => a.shrd("rax", "rdx", 32)],
  ["shrd r8, r9, 7", (a) => a.shrd("r8", "r9", 7)],
  ["shld rdx, rax, cl", (a) => a.shld("rdx", "rax", "cl")],

  // stack
  ["push rax", (a) => a.push("rax")],
  ["push rbp", (a) => a.push("rbp")],
  ["push r12", (a) => a.push("r12")],
  ["push r15", (a) => a.push("r15")],
  ["pop rax", (a) => a.pop("rax")],
  ["pop rbx", (a) => a.pop("rbx")],
  ["pop r8", (a) => a.pop("r8")],
  ["push 0x10", (a) => a.push(0x10)],
  ["push -1", (a) => a.push(-1n)],
  ["push 0x1000", (a) => a.push(0x1000)],
  ["pushfq", (a) => a.pushfq()],
  ["popfq", (a) => a.popfq()],

  // jmp/call
  ["1: {disp32} jmp 1b", (a) => a.label("b").jmp("b"), (a) => a.jmp(a.here())],
  ["1: nop; nop; {disp32} jmp 1b", (a) => a.label("b").nop().nop().jmp("b")],
  ["{disp32} jmp 1f; 1:", (a) => a.jmp("f").label("f")],
  ["{disp32} jmp 1f; nop; 1:", (a) => a.jmp("f").nop().label("f")],
  [
    "{disp32} jmp 1f; .fill 200, 1, 0x90; 1:",
    (a) => {
      const end = a.newLabel();
      fill(a.jmp(end), 200).label(end);
    },
  ],
  ["1: .fill 300, 1, 0x90; {disp32} jmp 1b", (a) => fill(a.label("b"), 300).jmp("b")],
  ["1: jmp 1b", (a) => a.label("b").jmpShort("b")],
  ["jmp 1f; nop; 1:", (a) => a.jmpShort("f").nop().label("f")],
  ["1: .fill 126, 1, 0x90; jmp 1b", (a) => fill(a.label("b"), 126).jmpShort("b")],
  ["jmp 1f; .fill 127, 1, 0x90; 1:", (a) => fill(a.jmpShort("f"), 127).label("f")],
  ["1: call 1b", (a) => a.label("b").call("b")],
  ["call 1f; 1:", (a) => a.call("f").label("f")],
  ["call 1f; int3; 1: ret", (a) => a.call("f").int3().label("f").ret()],
  ["call 1f; .fill 1000, 1, 0x90; 1:", (a) => fill(a.call("f"), 1000).label("f")],
  ["call r11", (a) => a.callReg("r11")],
  ["call rax", (a) => a.callReg("rax")],
  ["jmp rax", (a) => a.jmpReg("rax")],
  ["jmp r15", (a) => a.jmpReg("r15")],

  // jcc
  ["1: {disp32} je 1b", (a) => a.label("b").je("b"), (a) => a.label("b").jcc("e", "b")],
  ["{disp32} jne 1f; nop; 1:", (a) => a.jne("f").nop().label("f")],
  ["1: {disp32} jz 1b", (a) => a.label("b").jz("b")],
  ["1: {disp32} jnz 1b", (a) => a.label("b").jnz("b")],
  ["1: {disp32} jb 1b", (a) => a.label("b").jb("b"), (a) => a.label("b").jcc("c", "b")],
  ["{disp32} jae 1f; 1:", (a) => a.jae("f").label("f")],
  ["1: {disp32} jbe 1b", (a) => a.label("b").jbe("b")],
  ["1: {disp32} ja 1b", (a) => a.label("b").ja("b"), (a) => a.label("b").jcc("nbe", "b")],
  ["1: {disp32} jl 1b", (a) => a.label("b").jl("b")],
  ["{disp32} jge 1f; .fill 300, 1, 0x90; 1:", (a) => fill(a.jge("f"), 300).label("f")],
  ["1: {disp32} jle 1b", (a) => a.label("b").jle("b")],
  ["1: {disp32} jg 1b", (a) => a.label("b").jg("b")],
  ["1: {disp32} js 1b", (a) => a.label("b").js("b")],
  ["1: {disp32} jns 1b", (a) => a.label("b").jns("b")],
  ["1: {disp32} jo 1b", (a) => a.label("b").jcc("o", "b")],
  ["1: {disp32} jp 1b", (a) => a.label("b").jcc("p", "b")],
  ["1: jne 1b", (a) => a.label("b").jccShort("ne", "b")],
  ["je 1f; nop; 1:", (a) => a.jccShort("e", "f").nop().label("f")],
  ["1: pause; jb 1b", (a) => a.label("b").pause().jccShort("b", "b")],
  ["jge 1f; .fill 127, 1, 0x90; 1:", (a) => fill(a.jccShort("ge", "f"), 127).label("f")],

  // returns, traps
  ["ret", (a) => a.ret()],
  ["iretq", (a) => a.iretq()],
  ["int 0x80", (a) => a.int(0x80)],
  ["int3", (a) => a.int3()],
  ["ud2", (a) => a.ud2()],

  // system instructions
  ["cpuid", (a) => a.cpuid()],
  ["rdmsr", (a) => a.rdmsr()],
  ["wrmsr", (a) => a.wrmsr()],
  ["rdtsc", (a) => a.rdtsc()],
  ["rdtscp", (a) => a.rdtscp()],
  ["vmcall", (a) => a.vmcall()],
  ["vmmcall", (a) => a.vmmcall()],
  ["hlt", (a) => a.hlt()],
  ["sti", (a) => a.sti()],
  ["cli", (a) => a.cli()],
  ["pause", (a) => a.pause()],
  ["lfence", (a) => a.lfence()],
  ["mfence", (a) => a.mfence()],
  ["sfence", (a) => a.sfence()],
  ["nop", (a) => a.nop()],

  // port I/O
  ["out dx, al", (a) => a.out("dx", "al")],
  ["out dx, ax", (a) => a.out("dx", "ax")],
  ["out dx, eax", (a) => a.out("dx", "eax")],
  ["out 0x80, al", (a) => a.out(0x80, "al")],
  ["out 0xe9, ax", (a) => a.out(0xe9, "ax")],
  ["out 0x10, eax", (a) => a.out(0x10, "eax")],
  ["in al, dx", (a) => a.in("al", "dx")],
  ["in ax, dx", (a) => a.in("ax", "dx")],
  ["in eax, dx", (a) => a.in("eax", "dx")],
  ["in al, 0x60", (a) => a.in("al", 0x60)],
  ["in ax, 0x71", (a) => a.in("ax", 0x71)],
  ["in eax, 0xff", (a) => a.in("eax", 0xff)],

  // descriptor tables, TLB
  ["lgdt [0x500]", (a) => a.lgdt(0x500), (a) => a.lgdt({ disp: 0x500n })],
  ["lidt [0x520]", (a) => a.lidt(0x520n)],
  ["lidt [rax]", (a) => a.lidt({ base: "rax" })],
  ["lgdt [rbx+8]", (a) => a.lgdt({ base: "rbx", disp: 8 })],
  ["invlpg [rdi]", (a) => a.invlpg({ base: "rdi" })],
  ["invlpg [0x200000]", (a) => a.invlpg(0x200000)],

  // data
  [".byte 1, 2, 0xff", (a) => a.db(1, 2, 0xff), (a) => a.db(new Uint8Array([1, 2]), -1)],
  [".word 0x1234", (a) => a.dw(0x1234)],
  [".long 0xdeadbeef", (a) => a.dd(0xdeadbeef)],
  [".quad 0x1122334455667788", (a) => a.dq(0x1122334455667788n)],
];

function fill(a: Assembler, n: number): Assembler {
  return a.db(new Uint8Array(n).fill(0x90));
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

interface Vector {
  readonly asm: string;
  readonly bytes: string;
}

const VECTORS_URL = new URL("./encoding_vectors.json", import.meta.url);
const SCRIPT = new URL("./tools/make_vectors.sh", import.meta.url).pathname;
const SOURCE = new URL("./tools/vectors.asm", import.meta.url).pathname;

async function loadVectors(): Promise<Vector[]> {
  return JSON.parse(await Deno.readTextFile(VECTORS_URL)) as Vector[];
}

Deno.test("encoding_vectors.json holds at least 120 vectors, one per table entry", async () => {
  const vectors = await loadVectors();
  assertEquals(vectors.length >= 120, true, `only ${vectors.length} vectors`);
  const fromJson = vectors.map((v) => v.asm);
  const fromTable = CASES.map(([asm]) => asm);
  assertEquals(new Set(fromJson).size, fromJson.length, "duplicate vector lines");
  assertEquals(
    fromTable.filter((asm) => !fromJson.includes(asm)),
    [],
    "table entries without a vector: add them to tools/vectors.asm and run make_vectors.sh",
  );
  assertEquals(
    fromJson.filter((asm) => !fromTable.includes(asm)),
    [],
    "vectors without a table entry in assembler_test.ts",
  );
});

Deno.test("every encoding matches GNU as (encoding_vectors.json)", async () => {
  const expected = new Map((await loadVectors()).map((v) => [v.asm, v.bytes]));
  const mismatches: string[] = [];
  for (const [asm, ...emitters] of CASES) {
    const want = expected.get(asm);
    if (want === undefined) continue; // reported by the test above
    emitters.forEach((emit, i) => {
      const a = new Assembler(0x100000);
      emit(a);
      const got = hex(a.bytes());
      if (got !== want) mismatches.push(`${asm} [call ${i}]\n    as:   ${want}\n    pvkit: ${got}`);
    });
  }
  assertEquals(mismatches, [], `\n${mismatches.join("\n")}`);
});

// The vectors are only as good as their freshness: when binutils is installed, regenerate them
// and require the committed file to match.
const binutils = await hasTools(["bash", "as", "nm", "objcopy", "od"]);

Deno.test({
  name: binutils.missing.length === 0
    ? "encoding_vectors.json matches a live run of GNU as"
    : `encoding_vectors.json matches a live run of GNU as (ignored: ${
      binutils.missing.join(", ")
    } not on PATH)`,
  ignore: binutils.missing.length > 0,
  fn: async () => {
    const out = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const run = await new Deno.Command("bash", { args: [SCRIPT, SOURCE, out] }).output();
      assertEquals(run.success, true, new TextDecoder().decode(run.stderr));
      const live = JSON.parse(await Deno.readTextFile(out)) as Vector[];
      assertEquals(live, await loadVectors(), "run tools/make_vectors.sh and commit the result");
    } finally {
      await Deno.remove(out);
    }
  },
});

async function hasTools(names: readonly string[]): Promise<{ missing: string[] }> {
  const missing: string[] = [];
  for (const name of names) {
    try {
      const which = await new Deno.Command("bash", {
        args: ["-c", `command -v ${name}`],
        stdout: "null",
        stderr: "null",
      }).output();
      if (!which.success) missing.push(name);
    } catch {
      missing.push(name); // bash itself is missing
    }
  }
  return { missing };
}
