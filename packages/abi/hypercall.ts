/**
 * KVM hypercalls: their numbers, error codes, the VMCALL/VMMCALL encodings, argument bits, and
 * the register conventions for arguments and return values.
 *
 * Source: spec §5 ([D] hypercalls.rst, [U] kvm_para.h, [X] ____kvm_emulate_hypercall).
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// Numbers (RAX)

/**
 * Hypercall 1: lets the host check for pending interrupts; does nothing else, returns 0.
 *
 * @example
 * ```ts
 * import { KVM_HC_VAPIC_POLL_IRQ } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_VAPIC_POLL_IRQ, 1);
 * ```
 */
export const KVM_HC_VAPIC_POLL_IRQ = 1; // [U]; spec §5 numbers

/**
 * Hypercall 2: the removed MMU_OP; returns -KVM_ENOSYS.
 *
 * @example
 * ```ts
 * import { KVM_HC_MMU_OP } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_MMU_OP, 2);
 * ```
 */
export const KVM_HC_MMU_OP = 2; // [U]; spec §5 numbers

/**
 * Hypercall 3: PowerPC feature query; x86 KVM returns -KVM_ENOSYS.
 *
 * @example
 * ```ts
 * import { KVM_HC_FEATURES } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_FEATURES, 3);
 * ```
 */
export const KVM_HC_FEATURES = 3; // [U]; spec §5 numbers (PPC)

/**
 * Hypercall 4: PowerPC magic page; x86 KVM returns -KVM_ENOSYS.
 *
 * @example
 * ```ts
 * import { KVM_HC_PPC_MAP_MAGIC_PAGE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_PPC_MAP_MAGIC_PAGE, 4);
 * ```
 */
export const KVM_HC_PPC_MAP_MAGIC_PAGE = 4; // [U]; spec §5 numbers (PPC)

/**
 * Hypercall 5: wake a halted vCPU (a1 = APIC ID); gated by KVM_FEATURE_PV_UNHALT.
 *
 * @example
 * ```ts
 * import { KVM_HC_KICK_CPU } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_KICK_CPU, 5);
 * ```
 */
export const KVM_HC_KICK_CPU = 5; // [U]; spec §5 table

/**
 * Hypercall 6: MIPS clock frequency; x86 KVM returns -KVM_ENOSYS.
 *
 * @example
 * ```ts
 * import { KVM_HC_MIPS_GET_CLOCK_FREQ } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_MIPS_GET_CLOCK_FREQ, 6);
 * ```
 */
export const KVM_HC_MIPS_GET_CLOCK_FREQ = 6; // [U]; spec §5 numbers (MIPS)

/**
 * Hypercall 7: MIPS exit VM; x86 KVM returns -KVM_ENOSYS.
 *
 * @example
 * ```ts
 * import { KVM_HC_MIPS_EXIT_VM } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_MIPS_EXIT_VM, 7);
 * ```
 */
export const KVM_HC_MIPS_EXIT_VM = 7; // [U]; spec §5 numbers (MIPS)

/**
 * Hypercall 8: MIPS console output; x86 KVM returns -KVM_ENOSYS.
 *
 * @example
 * ```ts
 * import { KVM_HC_MIPS_CONSOLE_OUTPUT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_MIPS_CONSOLE_OUTPUT, 8);
 * ```
 */
export const KVM_HC_MIPS_CONSOLE_OUTPUT = 8; // [U]; spec §5 numbers (MIPS)

/**
 * Hypercall 9: write a kvm_clock_pairing (host realtime + guest TSC) at GPA a0.
 *
 * @example
 * ```ts
 * import { KVM_HC_CLOCK_PAIRING } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_CLOCK_PAIRING, 9);
 * ```
 */
export const KVM_HC_CLOCK_PAIRING = 9; // [U]; spec §5 table

/**
 * Hypercall 10: send IPIs to a bitmap of APIC IDs; gated by KVM_FEATURE_PV_SEND_IPI.
 *
 * @example
 * ```ts
 * import { KVM_HC_SEND_IPI } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_SEND_IPI, 10);
 * ```
 */
export const KVM_HC_SEND_IPI = 10; // [U]; spec §5 table

/**
 * Hypercall 11: yield to a preempted vCPU (a0 = APIC ID); gated by KVM_FEATURE_PV_SCHED_YIELD.
 *
 * @example
 * ```ts
 * import { KVM_HC_SCHED_YIELD } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_SCHED_YIELD, 11);
 * ```
 */
export const KVM_HC_SCHED_YIELD = 11; // [U]; spec §5 table

/**
 * Hypercall 12: change the encryption status of a GPA range; forwarded to the VMM.
 *
 * @example
 * ```ts
 * import { KVM_HC_MAP_GPA_RANGE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_HC_MAP_GPA_RANGE, 12);
 * ```
 */
export const KVM_HC_MAP_GPA_RANGE = 12; // [U]; spec §5 table

// ---------------------------------------------------------------------------------------------
// Error codes (returned negated in RAX)

/**
 * Unknown or not-enabled hypercall; returned as -1000.
 *
 * @example
 * ```ts
 * import { KVM_ENOSYS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ENOSYS, 1000);
 * ```
 */
export const KVM_ENOSYS = 1000; // [U] include/uapi/linux/kvm_para.h; spec §5

/**
 * Bad guest address; returned as -14.
 *
 * @example
 * ```ts
 * import { KVM_EFAULT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_EFAULT, 14);
 * ```
 */
export const KVM_EFAULT = 14; // [U]; spec §5 (CLOCK_PAIRING write failure)

/**
 * Invalid argument; returned as -22.
 *
 * @example
 * ```ts
 * import { KVM_EINVAL } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_EINVAL, 22);
 * ```
 */
export const KVM_EINVAL = 22; // [U]; spec §5 (SEND_IPI bad ICR, MAP_GPA_RANGE bad range)

/**
 * Argument list too long; returned as -7.
 *
 * @example
 * ```ts
 * import { KVM_E2BIG } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_E2BIG, 7);
 * ```
 */
export const KVM_E2BIG = 7; // [U]; spec §5

/**
 * Caller not at CPL 0; returned as -1 for any hypercall number.
 *
 * @example
 * ```ts
 * import { KVM_EPERM } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_EPERM, 1);
 * ```
 */
export const KVM_EPERM = 1; // [U]; spec §5: CPL ≠ 0 → -KVM_EPERM

/**
 * Operation not supported; returned as -95.
 *
 * @example
 * ```ts
 * import { KVM_EOPNOTSUPP } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_EOPNOTSUPP, 95);
 * ```
 */
export const KVM_EOPNOTSUPP = 95; // [U]; spec §5 (CLOCK_PAIRING, SEND_IPI without APIC map)

// ---------------------------------------------------------------------------------------------
// Instructions

/**
 * Intel's hypercall instruction VMCALL, `0F 01 C1`.
 *
 * @example
 * ```ts
 * import { VMCALL_BYTES } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(VMCALL_BYTES, [0x0f, 0x01, 0xc1]);
 * ```
 */
export const VMCALL_BYTES: readonly [number, number, number] = Object.freeze(
  [0x0f, 0x01, 0xc1] as const,
); // spec §5 calling convention

/**
 * AMD's hypercall instruction VMMCALL, `0F 01 D9`.
 *
 * @example
 * ```ts
 * import { VMMCALL_BYTES } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(VMMCALL_BYTES, [0x0f, 0x01, 0xd9]);
 * ```
 */
export const VMMCALL_BYTES: readonly [number, number, number] = Object.freeze(
  [0x0f, 0x01, 0xd9] as const,
); // spec §5 calling convention

/**
 * Length in bytes of both hypercall instructions; RIP advances by this much.
 *
 * @example
 * ```ts
 * import { HYPERCALL_INSN_LENGTH } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(HYPERCALL_INSN_LENGTH, 3);
 * ```
 */
export const HYPERCALL_INSN_LENGTH = 3; // spec §5: RIP advances past the 3-byte instruction

/**
 * Which vendor's hypercall instruction a byte sequence holds.
 *
 * @example
 * ```ts
 * import { decodeHypercallInstruction, type HypercallInstruction } from "@pvkit/abi";
 * const insn: HypercallInstruction | undefined = decodeHypercallInstruction(
 *   new Uint8Array([0x0f, 0x01, 0xc1]),
 * );
 * console.log(insn); // "vmcall"
 * ```
 */
export type HypercallInstruction = "vmcall" | "vmmcall";

/**
 * Recognises VMCALL or VMMCALL at `offset` in `bytes`; `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { decodeHypercallInstruction } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(decodeHypercallInstruction(new Uint8Array([0x0f, 0x01, 0xd9])), "vmmcall");
 * assertEquals(decodeHypercallInstruction(new Uint8Array([0x90])), undefined);
 * ```
 */
export function decodeHypercallInstruction(
  bytes: Uint8Array,
  offset = 0,
): HypercallInstruction | undefined {
  if (offset < 0 || offset + HYPERCALL_INSN_LENGTH > bytes.length) return undefined;
  if (bytes[offset] !== 0x0f || bytes[offset + 1] !== 0x01) return undefined;
  const modrm = bytes[offset + 2];
  if (modrm === VMCALL_BYTES[2]) return "vmcall";
  if (modrm === VMMCALL_BYTES[2]) return "vmmcall";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Arguments

/**
 * CLOCK_PAIRING clock_type (a1) 0: pair the TSC with the host's CLOCK_REALTIME; others get -95.
 *
 * @example
 * ```ts
 * import { KVM_CLOCK_PAIRING_WALLCLOCK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_CLOCK_PAIRING_WALLCLOCK, 0);
 * ```
 */
export const KVM_CLOCK_PAIRING_WALLCLOCK = 0; // [U]; spec §5 table: type ≠ 0 → -95

/**
 * MAP_GPA_RANGE attrs (a2) bits 3:0 value 0: the range is in 4 KiB pages.
 *
 * @example
 * ```ts
 * import { KVM_MAP_GPA_RANGE_PAGE_SZ_4K } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MAP_GPA_RANGE_PAGE_SZ_4K, 0n);
 * ```
 */
export const KVM_MAP_GPA_RANGE_PAGE_SZ_4K = 0n; // spec §5 table: b3:0 page size 0=4K

/**
 * MAP_GPA_RANGE attrs bits 3:0 value 1: the range is in 2 MiB pages.
 *
 * @example
 * ```ts
 * import { KVM_MAP_GPA_RANGE_PAGE_SZ_2M } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MAP_GPA_RANGE_PAGE_SZ_2M, 1n);
 * ```
 */
export const KVM_MAP_GPA_RANGE_PAGE_SZ_2M = 1n; // spec §5 table: 1=2M

/**
 * MAP_GPA_RANGE attrs bits 3:0 value 2: the range is in 1 GiB pages.
 *
 * @example
 * ```ts
 * import { KVM_MAP_GPA_RANGE_PAGE_SZ_1G } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MAP_GPA_RANGE_PAGE_SZ_1G, 2n);
 * ```
 */
export const KVM_MAP_GPA_RANGE_PAGE_SZ_1G = 2n; // spec §5 table: 2=1G

/**
 * MAP_GPA_RANGE attrs bits 3:0: the page-size field.
 *
 * @example
 * ```ts
 * import { KVM_MAP_GPA_RANGE_PAGE_SZ_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(0x11n & KVM_MAP_GPA_RANGE_PAGE_SZ_MASK, 1n);
 * ```
 */
export const KVM_MAP_GPA_RANGE_PAGE_SZ_MASK = 0xfn; // spec §5 table: b3:0

/**
 * MAP_GPA_RANGE attrs bit 4 set: the range becomes encrypted.
 *
 * @example
 * ```ts
 * import { KVM_MAP_GPA_RANGE_ENCRYPTED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MAP_GPA_RANGE_ENCRYPTED, 0x10n);
 * ```
 */
export const KVM_MAP_GPA_RANGE_ENCRYPTED = 1n << 4n; // spec §5 table: b4 1=encrypted

/**
 * MAP_GPA_RANGE attrs bit 4 clear: the range becomes decrypted (shared).
 *
 * @example
 * ```ts
 * import { KVM_MAP_GPA_RANGE_DECRYPTED } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MAP_GPA_RANGE_DECRYPTED, 0n);
 * ```
 */
export const KVM_MAP_GPA_RANGE_DECRYPTED = 0n; // spec §5 table: b4 0=decrypted

/**
 * MAP_GPA_RANGE attrs bits 63:5: reserved (KVM does not check them).
 *
 * @example
 * ```ts
 * import { KVM_MAP_GPA_RANGE_RESERVED_MASK } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_MAP_GPA_RANGE_RESERVED_MASK & 0x1fn, 0n);
 * ```
 */
export const KVM_MAP_GPA_RANGE_RESERVED_MASK = 0xffff_ffff_ffff_ffe0n; // spec §5: b63:5 unchecked

/**
 * `kvm_run.hypercall.flags` bit 0: the MAP_GPA_RANGE caller was in 64-bit mode.
 *
 * @example
 * ```ts
 * import { KVM_EXIT_HYPERCALL_LONG_MODE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_EXIT_HYPERCALL_LONG_MODE, 1n);
 * ```
 */
export const KVM_EXIT_HYPERCALL_LONG_MODE = 1n; // spec §5 table: flags b0 = LONG_MODE

// ---------------------------------------------------------------------------------------------
// Register conventions

const U32_MASK = 0xffff_ffffn;

/**
 * Masks a hypercall number or argument register as KVM sees it: all 64 bits for a 64-bit
 * caller, the low 32 bits otherwise.
 *
 * @example
 * ```ts
 * import { hypercallArgument } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(hypercallArgument(0x1_0000_0005n, false), 5n);
 * assertEquals(hypercallArgument(0x1_0000_0005n, true), 0x1_0000_0005n);
 * ```
 */
export function hypercallArgument(register: bigint, longMode: boolean): bigint {
  // spec §5: a non-64-bit caller's nr and a0-a3 are masked to 32 bits.
  return longMode ? BigInt.asUintN(64, register) : register & U32_MASK;
}

/**
 * Encodes a hypercall result as KVM leaves it in RAX: the 64-bit two's complement of `value`,
 * truncated to u32 for a caller that is not in 64-bit mode.
 *
 * @example
 * ```ts
 * import { hypercallReturn, KVM_ENOSYS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(hypercallReturn(-KVM_ENOSYS, false), 0xffff_fc18n);
 * assertEquals(hypercallReturn(-KVM_ENOSYS, true), 0xffff_ffff_ffff_fc18n);
 * assertEquals(hypercallReturn(3, true), 3n);
 * ```
 */
export function hypercallReturn(value: number | bigint, longMode: boolean): bigint {
  const v = typeof value === "bigint" ? value : BigInt(value);
  // spec §5: the return value is truncated to u32 for non-64-bit callers (−1000 → 0xFFFFFC18).
  return BigInt.asUintN(longMode ? 64 : 32, v);
}

/**
 * Encodes the error `-code` (e.g. `-KVM_ENOSYS`) as RAX for the caller's mode.
 *
 * @example
 * ```ts
 * import { hypercallError, KVM_EPERM } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(hypercallError(KVM_EPERM, true), 0xffff_ffff_ffff_ffffn);
 * ```
 */
export function hypercallError(code: number, longMode: boolean): bigint {
  return hypercallReturn(-code, longMode);
}

/**
 * Reads RAX after a hypercall as the guest's signed `long` (64-bit or 32-bit).
 *
 * @example
 * ```ts
 * import { decodeHypercallReturn } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(decodeHypercallReturn(0xffff_fc18n, false), -1000n);
 * assertEquals(decodeHypercallReturn(0xffff_fc18n, true), 0xffff_fc18n);
 * ```
 */
export function decodeHypercallReturn(rax: bigint, longMode: boolean): bigint {
  return BigInt.asIntN(longMode ? 64 : 32, rax);
}
