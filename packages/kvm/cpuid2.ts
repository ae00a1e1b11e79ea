/**
 * Codec for `struct kvm_cpuid2` and its `struct kvm_cpuid_entry2` array, the argument of
 * KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2 and KVM_GET_CPUID2.
 *
 * Layout (x86-64, little-endian): `kvm_cpuid2` is {u32 nent @0, u32 padding @4, entries @8};
 * each 40-byte entry is {function @0, index @4, flags @8, eax @12, ebx @16, ecx @20, edx @24,
 * u32 padding[3] @28}.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/**
 * One CPUID leaf (or sub-leaf) as KVM reports or accepts it. All values are unsigned 32-bit.
 *
 * @example
 * ```ts
 * import type { CpuidEntry } from "@pvkit/kvm";
 * const leaf: CpuidEntry = {
 *   function: 0x40000001, index: 0, flags: 0, eax: 0x01007efb, ebx: 0, ecx: 0, edx: 0,
 * };
 * console.log(leaf.eax.toString(16));
 * ```
 */
export interface CpuidEntry {
  /** The leaf: EAX on input to CPUID. */
  function: number;
  /** The sub-leaf: ECX on input; meaningful only with {@linkcode KVM_CPUID_FLAG_SIGNIFCANT_INDEX}. */
  index: number;
  /** `KVM_CPUID_FLAG_*` bits. */
  flags: number;
  /** EAX on output. */
  eax: number;
  /** EBX on output. */
  ebx: number;
  /** ECX on output. */
  ecx: number;
  /** EDX on output. */
  edx: number;
}

/**
 * `KVM_CPUID_FLAG_SIGNIFCANT_INDEX` (sic, the uapi spelling): the entry applies only to the
 * sub-leaf in `index`.
 *
 * @example
 * ```ts
 * import { KVM_CPUID_FLAG_SIGNIFCANT_INDEX } from "@pvkit/kvm";
 * console.log(KVM_CPUID_FLAG_SIGNIFCANT_INDEX); // 1
 * ```
 */
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

/**
 * Size of the `kvm_cpuid2` header (`nent` and padding) in bytes.
 *
 * @example
 * ```ts
 * import { KVM_CPUID2_HEADER_SIZE } from "@pvkit/kvm";
 * console.log(KVM_CPUID2_HEADER_SIZE); // 8
 * ```
 */
export const KVM_CPUID2_HEADER_SIZE = 8;

/**
 * Size of one `kvm_cpuid_entry2` in bytes.
 *
 * @example
 * ```ts
 * import { KVM_CPUID_ENTRY2_SIZE } from "@pvkit/kvm";
 * console.log(KVM_CPUID_ENTRY2_SIZE); // 40
 * ```
 */
export const KVM_CPUID_ENTRY2_SIZE = 40;

/**
 * `KVM_MAX_CPUID_ENTRIES`: the most entries KVM accepts or returns in one `kvm_cpuid2`.
 *
 * @example
 * ```ts
 * import { KVM_MAX_CPUID_ENTRIES } from "@pvkit/kvm";
 * console.log(KVM_MAX_CPUID_ENTRIES); // 256
 * ```
 */
export const KVM_MAX_CPUID_ENTRIES = 256;

// Field offsets inside one kvm_cpuid_entry2.
const OFF_FUNCTION = 0;
const OFF_INDEX = 4;
const OFF_FLAGS = 8;
const OFF_EAX = 12;
const OFF_EBX = 16;
const OFF_ECX = 20;
const OFF_EDX = 24;

const FIELDS = ["function", "index", "flags", "eax", "ebx", "ecx", "edx"] as const;

/**
 * The byte size of a `kvm_cpuid2` holding `nent` entries.
 *
 * @example
 * ```ts
 * import { kvmCpuid2Size } from "@pvkit/kvm";
 * console.log(kvmCpuid2Size(75)); // 3008
 * ```
 */
export function kvmCpuid2Size(nent: number): number {
  return KVM_CPUID2_HEADER_SIZE + nent * KVM_CPUID_ENTRY2_SIZE;
}

/**
 * A zeroed `kvm_cpuid2` with `nent = capacity`, for KVM to fill (KVM_GET_SUPPORTED_CPUID and
 * KVM_GET_CPUID2 read `nent` as the capacity and write back the count).
 *
 * @example
 * ```ts
 * import { allocKvmCpuid2 } from "@pvkit/kvm";
 * const buf = allocKvmCpuid2(4);
 * console.log(buf.byteLength); // 168
 * ```
 */
export function allocKvmCpuid2(capacity: number): Uint8Array<ArrayBuffer> {
  checkCount(capacity);
  const bytes = new Uint8Array(kvmCpuid2Size(capacity));
  new DataView(bytes.buffer).setUint32(0, capacity, true);
  return bytes;
}

/**
 * Encodes entries as a `kvm_cpuid2` with `nent = entries.length` (the KVM_SET_CPUID2 argument).
 *
 * Throws {@linkcode PvkitError} (`bad-cpuid-entry`) when a value is not an unsigned 32-bit
 * integer, instead of silently truncating it.
 *
 * @example
 * ```ts
 * import { encodeKvmCpuid2 } from "@pvkit/kvm";
 * const buf = encodeKvmCpuid2([
 *   { function: 0x40000001, index: 0, flags: 0, eax: 0x1, ebx: 0, ecx: 0, edx: 0 },
 * ]);
 * console.log(buf.byteLength); // 48
 * ```
 */
export function encodeKvmCpuid2(entries: readonly CpuidEntry[]): Uint8Array<ArrayBuffer> {
  const bytes = allocKvmCpuid2(entries.length);
  const view = new DataView(bytes.buffer);
  entries.forEach((entry, i) => {
    const base = KVM_CPUID2_HEADER_SIZE + i * KVM_CPUID_ENTRY2_SIZE;
    for (const field of FIELDS) checkU32(entry[field], i, field);
    view.setUint32(base + OFF_FUNCTION, entry.function, true);
    view.setUint32(base + OFF_INDEX, entry.index, true);
    view.setUint32(base + OFF_FLAGS, entry.flags, true);
    view.setUint32(base + OFF_EAX, entry.eax, true);
    view.setUint32(base + OFF_EBX, entry.ebx, true);
    view.setUint32(base + OFF_ECX, entry.ecx, true);
    view.setUint32(base + OFF_EDX, entry.edx, true);
    // The three padding words stay zero.
  });
  return bytes;
}

/**
 * Decodes a `kvm_cpuid2` (for example the buffer KVM_GET_SUPPORTED_CPUID filled) into entries.
 *
 * Throws {@linkcode PvkitError} (`bad-kvm-cpuid2`) when `nent` claims more entries than the
 * buffer holds.
 *
 * @example
 * ```ts
 * import { decodeKvmCpuid2, encodeKvmCpuid2 } from "@pvkit/kvm";
 * const entries = [{ function: 0, index: 0, flags: 0, eax: 0xd, ebx: 1, ecx: 2, edx: 3 }];
 * console.log(decodeKvmCpuid2(encodeKvmCpuid2(entries))[0].eax); // 13
 * ```
 */
export function decodeKvmCpuid2(bytes: Uint8Array): CpuidEntry[] {
  if (bytes.byteLength < KVM_CPUID2_HEADER_SIZE) {
    throw new PvkitError(
      "bad-kvm-cpuid2",
      `kvm_cpuid2 buffer of ${bytes.byteLength} bytes is shorter than its 8-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nent = view.getUint32(0, true);
  if (kvmCpuid2Size(nent) > bytes.byteLength) {
    throw new PvkitError(
      "bad-kvm-cpuid2",
      `kvm_cpuid2 says nent = ${nent} (${kvmCpuid2Size(nent)} bytes) but the buffer holds ` +
        `${bytes.byteLength} bytes`,
    );
  }
  const entries: CpuidEntry[] = [];
  for (let i = 0; i < nent; i++) {
    const base = KVM_CPUID2_HEADER_SIZE + i * KVM_CPUID_ENTRY2_SIZE;
    entries.push({
      function: view.getUint32(base + OFF_FUNCTION, true),
      index: view.getUint32(base + OFF_INDEX, true),
      flags: view.getUint32(base + OFF_FLAGS, true),
      eax: view.getUint32(base + OFF_EAX, true),
      ebx: view.getUint32(base + OFF_EBX, true),
      ecx: view.getUint32(base + OFF_ECX, true),
      edx: view.getUint32(base + OFF_EDX, true),
    });
  }
  return entries;
}

/**
 * Finds the entry CPUID would return for leaf `fn` and sub-leaf `index`: an entry whose
 * `index` matters only when it has {@linkcode KVM_CPUID_FLAG_SIGNIFCANT_INDEX}, as in KVM's
 * `kvm_find_cpuid_entry_index()`.
 *
 * @example
 * ```ts
 * import { findCpuidEntry } from "@pvkit/kvm";
 * const entries = [{ function: 0x40000001, index: 0, flags: 0, eax: 1, ebx: 0, ecx: 0, edx: 0 }];
 * console.log(findCpuidEntry(entries, 0x40000001)?.eax); // 1
 * ```
 */
export function findCpuidEntry(
  entries: readonly CpuidEntry[],
  fn: number,
  index = 0,
): CpuidEntry | undefined {
  return entries.find((e) =>
    e.function === fn && ((e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) === 0 || e.index === index)
  );
}

function checkCount(nent: number): void {
  if (!Number.isInteger(nent) || nent < 0 || nent > 0xffffffff) {
    throw new PvkitError("bad-kvm-cpuid2", `kvm_cpuid2 entry count ${nent} is not a u32`);
  }
}

function checkU32(value: number, i: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new PvkitError(
      "bad-cpuid-entry",
      `CPUID entry ${i}: ${field} = ${value} is not an unsigned 32-bit integer`,
      "write register values as 0 .. 0xffffffff (use `>>> 0` to make a bitwise result unsigned)",
    );
  }
}
