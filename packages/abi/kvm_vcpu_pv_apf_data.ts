/**
 * Codec for the 64-byte host area of `struct kvm_vcpu_pv_apf_data`, the per-vCPU async page
 * fault record at the GPA written to MSR 0x4b564d02.
 *
 * The UAPI struct is 68 bytes: its `enabled` word at offset 64 is guest-private and outside
 * the area the host uses, so this codec neither reads nor writes it.
 *
 * Source: spec §3 ([U] kvm_para.h) and §6 "Async PF".
 *
 * @module
 */

import type { Gpa, GuestMemory } from "@pvkit/machine";
import { readRecord, writeRecord } from "./_record.ts";

/**
 * The decoded fields of the host area of kvm_vcpu_pv_apf_data.
 *
 * @example
 * ```ts
 * import { KVM_PV_REASON_PAGE_NOT_PRESENT, type KvmVcpuPvApfData } from "@pvkit/abi";
 * const apf: KvmVcpuPvApfData = { flags: KVM_PV_REASON_PAGE_NOT_PRESENT, token: 0 };
 * console.log(apf.flags);
 * ```
 */
export interface KvmVcpuPvApfData {
  /** 'Page not present' reason (u32): the host writes 1, the guest clears it. */
  flags: number;
  /** 'Page ready' token (u32): the host writes it, the guest clears it and writes ACK. */
  token: number;
}

/**
 * Size of the host-visible ABI area of kvm_vcpu_pv_apf_data in bytes.
 *
 * @example
 * ```ts
 * import { KVM_VCPU_PV_APF_DATA_SIZE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_VCPU_PV_APF_DATA_SIZE, 64);
 * ```
 */
export const KVM_VCPU_PV_APF_DATA_SIZE = 64; // spec §3: "the ABI area is 64 bytes"

/**
 * Size of the UAPI struct, including the guest-private `enabled` word at offset 64.
 *
 * @example
 * ```ts
 * import { KVM_VCPU_PV_APF_DATA_UAPI_SIZE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_VCPU_PV_APF_DATA_UAPI_SIZE, 68);
 * ```
 */
export const KVM_VCPU_PV_APF_DATA_UAPI_SIZE = 68; // spec §3: "The UAPI struct is 68 bytes"

/**
 * Number of bytes at the start of the area that the host actually caches and writes.
 *
 * @example
 * ```ts
 * import { KVM_VCPU_PV_APF_DATA_HOST_BYTES } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_VCPU_PV_APF_DATA_HOST_BYTES, 8);
 * ```
 */
export const KVM_VCPU_PV_APF_DATA_HOST_BYTES = 8; // spec §3: "host caches only the first 8 bytes"

/**
 * Required alignment of the area's GPA (the MSR value keeps only bits 63:6).
 *
 * @example
 * ```ts
 * import { KVM_VCPU_PV_APF_DATA_ALIGN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_VCPU_PV_APF_DATA_ALIGN, 64);
 * ```
 */
export const KVM_VCPU_PV_APF_DATA_ALIGN = 64; // spec §3: "64-byte aligned"

/**
 * Byte offset of each field of kvm_vcpu_pv_apf_data (`enabled` is guest-private).
 *
 * @example
 * ```ts
 * import { KVM_VCPU_PV_APF_DATA_OFFSETS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_VCPU_PV_APF_DATA_OFFSETS.token, 4);
 * ```
 */
export const KVM_VCPU_PV_APF_DATA_OFFSETS: {
  readonly flags: 0;
  readonly token: 4;
  readonly pad: 8;
  readonly enabled: 64;
} = Object.freeze({ flags: 0, token: 4, pad: 8, enabled: 64 } as const); // spec §3 table

/**
 * `flags` value the host writes when it injects a 'page not present' #PF.
 *
 * @example
 * ```ts
 * import { KVM_PV_REASON_PAGE_NOT_PRESENT } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_PV_REASON_PAGE_NOT_PRESENT, 1);
 * ```
 */
export const KVM_PV_REASON_PAGE_NOT_PRESENT = 1; // [U]; spec §3

/**
 * Obsolete pre-5.8 reason 2: 'page ready' delivered as a #PF with the token in CR2.
 *
 * @example
 * ```ts
 * import { KVM_PV_REASON_PAGE_READY } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_PV_REASON_PAGE_READY, 2);
 * ```
 */
export const KVM_PV_REASON_PAGE_READY = 2; // spec §3: obsolete pre-5.8 layout

/**
 * The 'page ready' token that wakes every waiter (queued when async PF is enabled).
 *
 * @example
 * ```ts
 * import { KVM_ASYNC_PF_WAKE_ALL_TOKEN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(KVM_ASYNC_PF_WAKE_ALL_TOKEN, 0xffffffff);
 * ```
 */
export const KVM_ASYNC_PF_WAKE_ALL_TOKEN = 0xffff_ffff; // spec §2 ASYNC_PF_EN, §6 token

/**
 * Reads the 64-byte host area of kvm_vcpu_pv_apf_data at `gpa` with one bounds-checked access.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine` if any of the 64 bytes is outside RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readKvmVcpuPvApfData } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * mem.writeU32(0x84n, 0x1001);
 * assertEquals(readKvmVcpuPvApfData(mem, 0x80n), { flags: 0, token: 0x1001 });
 * ```
 */
export function readKvmVcpuPvApfData(mem: GuestMemory, gpa: Gpa): KvmVcpuPvApfData {
  const [v, at] = readRecord(mem, gpa, KVM_VCPU_PV_APF_DATA_SIZE);
  return { flags: v.getUint32(at, true), token: v.getUint32(at + 4, true) };
}

/**
 * Writes the 64-byte host area of kvm_vcpu_pv_apf_data at `gpa` (pad as zero; the
 * guest-private `enabled` word at offset 64 is left alone). Values are truncated to u32.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the area
 * does not fit in RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readKvmVcpuPvApfData, writeKvmVcpuPvApfData } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * writeKvmVcpuPvApfData(mem, 0x80n, { flags: 1, token: 0 });
 * assertEquals(readKvmVcpuPvApfData(mem, 0x80n).flags, 1);
 * ```
 */
export function writeKvmVcpuPvApfData(mem: GuestMemory, gpa: Gpa, record: KvmVcpuPvApfData): void {
  writeRecord(mem, gpa, KVM_VCPU_PV_APF_DATA_SIZE, (view) => {
    view.setUint32(0, record.flags, true);
    view.setUint32(4, record.token, true);
  });
}
