# Encoding vectors: one GNU as statement group per line, Intel syntax, 64-bit mode.
# tools/make_vectors.sh assembles them and writes ../encoding_vectors.json; assembler_test.ts
# maps each line to Assembler calls. Lines must be self-contained: labels are numeric local
# labels (1:, 1b, 1f) defined in the same line. `{disp32}` makes GNU as keep a rel32 jump.

# movImm: the shortest of mov r32,imm32 / mov r/m64,simm32 / mov r64,imm64, as GNU as picks
mov eax, 1
mov eax, 0
mov eax, 0x80000000
mov eax, 0xffffffff
mov esp, 0x8ff0
mov r15d, 0x12345678
mov rax, -1
mov rax, -2147483648
mov r9, -5
mov rax, 0x100000000
mov rax, 0x1122334455667788
mov r8, 0x1122334455667788
mov r15, 0x8000000000000000
mov dx, 0x3f8
mov r10w, 0x1234
mov al, 0x41
mov sil, 0x7f
mov r12b, 0xff

# mov reg, reg
mov rax, rbx
mov r8, rsp
mov rsp, r15
mov rbp, rsp
mov eax, r9d
mov r13d, ebp
mov cx, r14w
mov al, dil
mov r15b, bl

# loads: rsp/r12 need a SIB byte, rbp/r13 need a displacement, disp8 vs disp32 boundaries
mov rax, QWORD PTR [rbx]
mov rax, QWORD PTR [rsp]
mov rax, QWORD PTR [rbp]
mov rax, QWORD PTR [r12]
mov rax, QWORD PTR [r13]
mov rax, QWORD PTR [rbx+8]
mov rax, QWORD PTR [rbx-8]
mov rax, QWORD PTR [rbx+127]
mov rax, QWORD PTR [rbx+128]
mov rax, QWORD PTR [rbx-128]
mov rax, QWORD PTR [rbx-129]
mov rax, QWORD PTR [rsp+16]
mov r11, QWORD PTR [r12+0x1000]
mov r9, QWORD PTR [rbp-0x10000]
mov eax, DWORD PTR [rsi]
mov r10d, DWORD PTR [r13+4]
mov ax, WORD PTR [rdi+2]
mov r8w, WORD PTR [rax]
mov al, BYTE PTR [rdx]
mov sil, BYTE PTR [rbx]
mov r15b, BYTE PTR [r15+1]
mov eax, DWORD PTR [rbx+rcx*4]
mov rax, QWORD PTR [rbx+r12*8+0x10]
mov rax, QWORD PTR [r13+rax*1]
mov eax, DWORD PTR [rcx*8+0x100]
mov ecx, DWORD PTR [rsp+rbp*2]
mov rdx, QWORD PTR [r8+r15*2-8]

# stores
mov QWORD PTR [rbx], rax
mov QWORD PTR [rsp+8], r8
mov QWORD PTR [r13], rcx
mov DWORD PTR [rdi+0x100], eax
mov WORD PTR [rbx], dx
mov BYTE PTR [rdi], al
mov BYTE PTR [rsi+1], bpl
mov BYTE PTR [r12], r8b

# absolute [disp32]: ModRM mod=00 rm=100, SIB base=101 index=100
mov eax, DWORD PTR [0x1000]
mov rax, QWORD PTR [0x7000]
mov r12, QWORD PTR [0x500]
mov QWORD PTR [0x7008], rbx
mov BYTE PTR [0x600], al
mov WORD PTR [0x602], ax

# store immediates
mov DWORD PTR [rbx], 0x12345678
mov QWORD PTR [rbx+8], -5
mov BYTE PTR [rdi], 0x41
mov WORD PTR [rax+2], 0x1234
mov DWORD PTR [0x1000], 1

# movzx
movzx eax, BYTE PTR [rbx]
movzx rax, BYTE PTR [rsi+1]
movzx ax, BYTE PTR [rbx]
movzx ecx, WORD PTR [rdi]
movzx r8, WORD PTR [r9+2]
movzx eax, sil
movzx edx, al
movzx r10d, r11w

# lea, including RIP-relative to labels on both sides
lea rax, [rbx+8]
lea rsp, [rsp-16]
lea r12, [r13+r14*4+0x20]
lea eax, [rax+rax*2]
lea rdi, [rip+1f]; nop; 1:
1: nop; lea rax, [rip+1b]

# control registers
mov cr0, rax
mov cr3, r8
mov cr4, rbx
mov cr8, rax
mov rax, cr0
mov rax, cr2
mov rbx, cr3
mov r15, cr4

# xchg and locked read-modify-write
xchg QWORD PTR [rbx], rax
xchg DWORD PTR [r12+4], r9d
xchg BYTE PTR [rdi], al
lock cmpxchg QWORD PTR [rbx], rcx
lock cmpxchg DWORD PTR [rdi+8], r10d
lock cmpxchg WORD PTR [rbx], cx
lock cmpxchg BYTE PTR [rsi], dl
lock xadd QWORD PTR [rdi], rax

# ALU reg, reg
add rax, rbx
add r8, r9
add eax, r15d
add dx, ax
add sil, dil
sub rcx, rdx
and rax, rdx
or ebx, ecx
xor eax, eax
xor r12d, r12d
cmp rax, r11
cmp al, bl
adc rdx, rcx
sbb eax, edx
test rax, rax
test r8d, r9d
test al, cl

# ALU reg, imm: imm8 when it fits, accumulator short forms, imm32 otherwise
add rax, 1
add rax, 0x1000
add rbx, 0x1000
add rsp, 8
add ax, 0x1000
add cx, 1
sub rsp, 0x100
sub r12, -128
sub r12, 128
and eax, 0xfff
and rax, -4096
and rdi, 0xfffffffffffff000
or eax, 0x20
or ecx, 0x80000000
xor eax, 0xffffffff
cmp eax, 0x40000001
cmp r15, 0
cmp al, 10
cmp bl, 0x80
cmp dil, 1
adc rdx, 0
sbb rax, 1
test eax, 1
test ebx, 1
test al, 1
test r8b, 0x80
test rax, 0x200
test ax, 0x100
test rdi, -1

# inc, dec, not, neg, mul, div, imul
inc rax
inc r12
inc ecx
inc spl
dec r15d
dec al
not rax
neg rdx
neg ecx
mul rcx
mul r9
div rbx
div r8d
imul rax, rbx
imul r8d, r9d
imul cx, dx

# shifts
shl rax, 12
shl rax, 1
shr rdx, 32
shr eax, 1
sar rax, 63
shl r9, cl
shr al, 4
shl r10d, 3
sar eax, cl
shrd rax, rdx, 32
shrd r8, r9, 7
shld rdx, rax, cl

# stack
push rax
push rbp
push r12
push r15
pop rax
pop rbx
pop r8
push 0x10
push -1
push 0x1000
pushfq
popfq

# jmp/call rel32 backward and forward, jmp rel8 at the edges of its range
1: {disp32} jmp 1b
1: nop; nop; {disp32} jmp 1b
{disp32} jmp 1f; 1:
{disp32} jmp 1f; nop; 1:
{disp32} jmp 1f; .fill 200, 1, 0x90; 1:
1: .fill 300, 1, 0x90; {disp32} jmp 1b
1: jmp 1b
jmp 1f; nop; 1:
1: .fill 126, 1, 0x90; jmp 1b
jmp 1f; .fill 127, 1, 0x90; 1:
1: call 1b
call 1f; 1:
call 1f; int3; 1: ret
call 1f; .fill 1000, 1, 0x90; 1:
call r11
call rax
jmp rax
jmp r15

# jcc rel32 and rel8
1: {disp32} je 1b
{disp32} jne 1f; nop; 1:
1: {disp32} jz 1b
1: {disp32} jnz 1b
1: {disp32} jb 1b
{disp32} jae 1f; 1:
1: {disp32} jbe 1b
1: {disp32} ja 1b
1: {disp32} jl 1b
{disp32} jge 1f; .fill 300, 1, 0x90; 1:
1: {disp32} jle 1b
1: {disp32} jg 1b
1: {disp32} js 1b
1: {disp32} jns 1b
1: {disp32} jo 1b
1: {disp32} jp 1b
1: jne 1b
je 1f; nop; 1:
1: pause; jb 1b
jge 1f; .fill 127, 1, 0x90; 1:

# returns, traps
ret
iretq
int 0x80
int3
ud2

# system instructions
cpuid
rdmsr
wrmsr
rdtsc
rdtscp
vmcall
vmmcall
hlt
sti
cli
pause
lfence
mfence
sfence
nop

# port I/O
out dx, al
out dx, ax
out dx, eax
out 0x80, al
out 0xe9, ax
out 0x10, eax
in al, dx
in ax, dx
in eax, dx
in al, 0x60
in ax, 0x71
in eax, 0xff

# descriptor tables, TLB
lgdt [0x500]
lidt [0x520]
lidt [rax]
lgdt [rbx+8]
invlpg [rdi]
invlpg [0x200000]

# data
.byte 1, 2, 0xff
.word 0x1234
.long 0xdeadbeef
.quad 0x1122334455667788
