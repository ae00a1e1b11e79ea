/**
 * The boot CPU's state at the 64-bit Linux entry (boot.rst, "64-bit Boot Protocol"; spec §2.3;
 * Firecracker's `regs.rs`, `gdt.rs`, `msr.rs`), as data for `KvmVcpu`'s setters, and the
 * tables it points at (GDT, IDT, identity page tables) as chunks of guest memory. The segment
 * and control-register values are `@pvkit/kvm`'s {@linkcode longModeSregs}, the ones pvkit's
 * probes start with too.
 *
 * @module
 */

import {
  type KvmRegs,
  type LongModeSregs,
  longModeSregs,
  type MsrEntry,
  zeroKvmRegs,
} from "@pvkit/kvm";
import {
  BOOT_STACK_POINTER,
  bootGdt,
  bootIdt,
  type GuestChunk,
  identityMapPageTables,
  LONG_MODE_RFLAGS,
} from "@pvkit/x86";
import { lowRamEnd, ZERO_PAGE_GPA } from "./boot_layout.ts";

/**
 * The x87/SSE control words at entry, the argument of `KvmVcpu.kvmSetFpu`.
 *
 * @example
 * ```ts
 * import type { BootFpu } from "@pvkit/vmm";
 * const fpu: BootFpu = { fcw: 0x37f, mxcsr: 0x1f80 };
 * console.log(fpu.fcw.toString(16)); // "37f"
 * ```
 */
export interface BootFpu {
  /** x87 control word. */
  readonly fcw: number;
  /** SSE control and status. */
  readonly mxcsr: number;
}

/**
 * Firecracker's `setup_fpu`: fcw 0x37F (FNINIT's value: all exceptions masked, extended
 * precision) and mxcsr 0x1F80 (the reset value: all SSE exceptions masked).
 *
 * @example
 * ```ts
 * import { BOOT_FPU } from "@pvkit/vmm";
 * console.log(BOOT_FPU.fcw.toString(16), BOOT_FPU.mxcsr.toString(16)); // "37f" "1f80"
 * ```
 */
export const BOOT_FPU: BootFpu = Object.freeze({ fcw: 0x37f, mxcsr: 0x1f80 });

/**
 * The MSRs a Linux boot sets (Firecracker's `create_boot_msr_entries`), by name.
 *
 * @example
 * ```ts
 * import { BOOT_MSR } from "@pvkit/vmm";
 * console.log(BOOT_MSR.mtrrDefType.toString(16)); // "2ff"
 * ```
 */
export const BOOT_MSR = {
  /** IA32_SYSENTER_CS. */
  sysenterCs: 0x174,
  /** IA32_SYSENTER_ESP. */
  sysenterEsp: 0x175,
  /** IA32_SYSENTER_EIP. */
  sysenterEip: 0x176,
  /** STAR: SYSCALL/SYSRET selectors. */
  star: 0xc000_0081,
  /** CSTAR: compatibility-mode SYSCALL target. */
  cstar: 0xc000_0083,
  /** KERNEL_GS_BASE: the GS base SWAPGS swaps in. */
  kernelGsBase: 0xc000_0102,
  /** SYSCALL_MASK (SFMASK): RFLAGS bits SYSCALL clears. */
  syscallMask: 0xc000_0084,
  /** LSTAR: 64-bit SYSCALL target. */
  lstar: 0xc000_0082,
  /** IA32_TSC. */
  tsc: 0x10,
  /** IA32_MISC_ENABLE. */
  miscEnable: 0x1a0,
  /** IA32_MTRR_DEF_TYPE. */
  mtrrDefType: 0x2ff,
} as const;

/** IA32_MISC_ENABLE bit 0: fast string operations. */
const MISC_ENABLE_FAST_STRING = 1n;
/** IA32_MTRR_DEF_TYPE: MTRRs enabled (bit 11), default type write-back (6). */
const MTRR_ENABLED_DEFAULT_WB = (1n << 11n) | 6n;

/**
 * The boot MSRs, in Firecracker's order: the SYSENTER and SYSCALL MSRs and the TSC zeroed,
 * fast strings on, and MTRRs enabled with write-back as the default type (0x806: the guest's
 * MTRRs then say RAM is cacheable, and Linux keeps PAT on). Set them on every vCPU
 * (KVM_SET_MSRS), after its CPUID.
 *
 * @example
 * ```ts
 * import { bootMsrEntries } from "@pvkit/vmm";
 * const last = bootMsrEntries().at(-1)!;
 * console.log(last.index.toString(16), last.data.toString(16)); // "2ff" "806"
 * ```
 */
export function bootMsrEntries(): MsrEntry[] {
  const zero = (index: number): MsrEntry => ({ index, data: 0n });
  return [
    zero(BOOT_MSR.sysenterCs),
    zero(BOOT_MSR.sysenterEsp),
    zero(BOOT_MSR.sysenterEip),
    zero(BOOT_MSR.star),
    zero(BOOT_MSR.cstar),
    zero(BOOT_MSR.kernelGsBase),
    zero(BOOT_MSR.syscallMask),
    zero(BOOT_MSR.lstar),
    zero(BOOT_MSR.tsc),
    { index: BOOT_MSR.miscEnable, data: MISC_ENABLE_FAST_STRING },
    { index: BOOT_MSR.mtrrDefType, data: MTRR_ENABLED_DEFAULT_WB },
  ];
}

/**
 * The boot CPU's registers at the Linux entry. Apply them to the BSP, after KVM_SET_CPUID2:
 *
 * ```ts ignore
 * vcpu.kvmSetMsrs(state.msrs); // every vCPU
 * vcpu.kvmSetRegs(state.regs);
 * vcpu.kvmSetFpu(state.fpu);
 * vcpu.kvmSetSregs({ ...vcpu.kvmGetSregs(), ...state.sregs });
 * ```
 *
 * @example
 * ```ts
 * import type { BootCpuState } from "@pvkit/vmm";
 * const rip = (s: BootCpuState) => s.regs.rip;
 * console.log(typeof rip); // "function"
 * ```
 */
export interface BootCpuState {
  /** RIP at the 64-bit entry, RSI at the zero page, RSP = RBP = 0x8FF0, RFLAGS 0x2 (IF clear). */
  readonly regs: KvmRegs;
  /** Flat 64-bit CS (0x08), data segments (0x10), TR (0x18), GDTR 0x500/31, IDTR 0x520/7,
   * CR0 PG|ET|PE, CR3 0x9000, CR4 PAE, EFER LME|LMA: spread over KVM's reset sregs. */
  readonly sregs: LongModeSregs;
  /** fcw and mxcsr for KVM_SET_FPU. */
  readonly fpu: BootFpu;
  /** The boot MSRs ({@linkcode bootMsrEntries}). */
  readonly msrs: MsrEntry[];
}

/**
 * The BSP's entry state: RIP = `entry` (the load address + 0x200), RSI = `zeroPageGpa`
 * (default 0x7000), the stack at 0x8FF0, interrupts off, long mode on with the boot GDT, IDT
 * and page tables of {@linkcode bootCpuTables}.
 *
 * @example
 * ```ts
 * import { bootCpuState } from "@pvkit/vmm";
 * const s = bootCpuState(0x100200n);
 * console.log(s.regs.rip.toString(16), s.regs.rsi.toString(16), s.sregs.efer.toString(16));
 * // "100200" "7000" "500"
 * ```
 */
export function bootCpuState(entry: bigint, zeroPageGpa: bigint = ZERO_PAGE_GPA): BootCpuState {
  return {
    regs: {
      ...zeroKvmRegs(),
      rip: entry,
      rsi: zeroPageGpa,
      rsp: BOOT_STACK_POINTER,
      rbp: BOOT_STACK_POINTER,
      rflags: LONG_MODE_RFLAGS,
    },
    sregs: longModeSregs(),
    fpu: BOOT_FPU,
    msrs: bootMsrEntries(),
  };
}

const GIB = 1n << 30n;

/**
 * GiB the boot page tables identity-map for a guest with `memBytes`: all of low RAM (1 to 3).
 * Firecracker maps the first GiB only, which is all boot.rst asks for (the kernel from its load
 * address through `init_size`, the zero page, the command line); mapping the rest of low RAM
 * also covers an initrd or a kernel runtime address above 1 GiB.
 *
 * @example
 * ```ts
 * import { identityMapGib } from "@pvkit/vmm";
 * console.log(identityMapGib(256 << 20), identityMapGib(2 * 2 ** 30 + 4096)); // 1 3
 * ```
 */
export function identityMapGib(memBytes: number): number {
  return Number((lowRamEnd(memBytes) + GIB - 1n) / GIB);
}

/**
 * The tables the entry state points at, for guest memory: the boot GDT at 0x500 (null, code
 * 0x00AF9B000000FFFF, data 0x00CF93000000FFFF, TSS 0x008F8B000000FFFF), the one-entry IDT at
 * 0x520, and page tables identity-mapping low RAM with 2 MiB pages (PML4 0x9000, PDPT 0xA000,
 * page directories from 0xB000).
 *
 * @example
 * ```ts
 * import { bootCpuTables } from "@pvkit/vmm";
 * console.log(bootCpuTables(64 << 20).map((c) => c.gpa.toString(16)));
 * // [ "500", "520", "9000", "a000", "b000" ]
 * ```
 */
export function bootCpuTables(memBytes: number): GuestChunk[] {
  return [bootGdt(), bootIdt(), ...identityMapPageTables(identityMapGib(memBytes))];
}
