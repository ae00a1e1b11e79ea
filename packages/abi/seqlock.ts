/**
 * The version (seqlock) protocols of the shared PV records, as pure functions over
 * {@linkcode GuestMemory}: the host's writer steps and the guest's bounded reader loops.
 *
 * The version is even while a record is consistent and odd during an update. Two writer
 * variants exist: pvclock_vcpu_time_info sets v = (old + 1) | 1, while kvm_steal_time and
 * pvclock_wall_clock bump an odd version to even first and then add 1. Readers retry until
 * they see the same even version before and after reading; here the retries are capped and
 * running out is a result, not an endless spin.
 *
 * Source: spec §3 "Version (seqlock) protocol" ([X] kvm_setup_guest_pvclock,
 * record_steal_time, kvm_write_wall_clock; [P] pvclock readers).
 *
 * @module
 */

import { type Gpa, type GuestMemory, PvkitError } from "@pvkit/machine";
import { assertRecordInRam, directOffset, directView } from "./_record.ts";
import {
  PVCLOCK_GUEST_STOPPED,
  PVCLOCK_VCPU_TIME_INFO_OFFSETS,
  PVCLOCK_VCPU_TIME_INFO_SIZE,
  type PvclockVcpuTimeInfo,
  readPvclockVcpuTimeInfo,
  writePvclockVcpuTimeInfo,
} from "./pvclock_vcpu_time_info.ts";
import { PVCLOCK_WALL_CLOCK_SIZE, writePvclockWallClock } from "./pvclock_wall_clock.ts";
import { KVM_STEAL_TIME_OFFSETS, KVM_STEAL_TIME_SIZE } from "./kvm_steal_time.ts";

/**
 * How many times the reader loops try before giving up, unless told otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_SEQ_READ_ATTEMPTS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(DEFAULT_SEQ_READ_ATTEMPTS, 1000);
 * ```
 */
export const DEFAULT_SEQ_READ_ATTEMPTS = 1000;

/**
 * The outcome of a bounded guest-side versioned read.
 *
 * `kind: "ok"` carries the consistent value; `kind: "retry-limit"` means every attempt saw an
 * odd or changing version. `version` is the last version read after the body; `attempts`
 * counts the tries made (1 when the first one succeeded).
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { type SeqReadResult, seqVersionedRead } from "@pvkit/abi";
 * const mem = new ArrayGuestMemory(64);
 * const r: SeqReadResult<bigint> = seqVersionedRead(mem, 8n, () => mem.readU64(0n));
 * console.log(r.kind === "ok" ? r.value : `gave up after ${r.attempts} tries`);
 * ```
 */
export type SeqReadResult<T> =
  | { readonly kind: "ok"; readonly value: T; readonly version: number; readonly attempts: number }
  | { readonly kind: "retry-limit"; readonly version: number; readonly attempts: number };

/**
 * The fields the host sets in a pvclock update; the version comes from the protocol.
 *
 * @example
 * ```ts
 * import type { PvclockUpdate } from "@pvkit/abi";
 * const update: PvclockUpdate = {
 *   tscTimestamp: 0n,
 *   systemTime: 0n,
 *   tscToSystemMul: 0x80000000,
 *   tscShift: 1,
 *   flags: 0,
 * };
 * console.log(update.tscShift);
 * ```
 */
export type PvclockUpdate = Omit<PvclockVcpuTimeInfo, "version">;

function checkAttempts(maxAttempts: number): void {
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new PvkitError(
      "invalid-retry-limit",
      `a versioned read needs at least 1 attempt, got ${maxAttempts}`,
      "pass a positive integer, or omit it for the default of 1000",
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Host writers

/**
 * pvclock writer, step 1: reads the version at `versionGpa`, writes (v + 1) | 1 (odd) and
 * returns it.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { beginPvclockUpdate } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(64);
 * mem.writeU32(0n, 2);
 * assertEquals(beginPvclockUpdate(mem, 0n), 3);
 * mem.writeU32(0n, 3); // a torn earlier update: still odd, one higher
 * assertEquals(beginPvclockUpdate(mem, 0n), 5);
 * ```
 */
export function beginPvclockUpdate(mem: GuestMemory, versionGpa: Gpa): number {
  // [X] kvm_setup_guest_pvclock: version (v+1)|1, u32 arithmetic.
  const v = ((mem.readU32(versionGpa) + 1) | 1) >>> 0;
  mem.writeU32(versionGpa, v);
  return v;
}

/**
 * pvclock writer, last step: writes `oddVersion + 1` (even, u32) and returns it.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { beginPvclockUpdate, endPvclockUpdate } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(64);
 * const v = beginPvclockUpdate(mem, 0n);
 * assertEquals(endPvclockUpdate(mem, 0n, v), 2);
 * ```
 */
export function endPvclockUpdate(mem: GuestMemory, versionGpa: Gpa, oddVersion: number): number {
  // [X] kvm_setup_guest_pvclock: after the struct, version +1 (even): the same last step as
  // steal time and the wall clock.
  return endSeqUpdate(mem, versionGpa, oddVersion);
}

/**
 * Publishes a whole pvclock_vcpu_time_info the way KVM does: odd version, the 32-byte struct
 * carrying it (keeping a GUEST_STOPPED bit the guest still holds), then the even version.
 * Returns the final (even) version.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the record
 * does not fit in RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { publishPvclockVcpuTimeInfo, readPvclockVcpuTimeInfo } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * const v = publishPvclockVcpuTimeInfo(mem, 0x100n, {
 *   tscTimestamp: 0n,
 *   systemTime: 0n,
 *   tscToSystemMul: 0x80000000,
 *   tscShift: 1,
 *   flags: 1,
 * });
 * assertEquals(v, 2);
 * assertEquals(readPvclockVcpuTimeInfo(mem, 0x100n).version, 2);
 * ```
 */
export function publishPvclockVcpuTimeInfo(
  mem: GuestMemory,
  gpa: Gpa,
  update: PvclockUpdate,
): number {
  assertRecordInRam(mem, gpa, PVCLOCK_VCPU_TIME_INFO_SIZE);
  const odd = beginPvclockUpdate(mem, gpa);
  // [X] the host ORs in the guest copy's GUEST_STOPPED so it never clears one the guest holds.
  const guestFlags = mem.readU8(gpa + BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.flags));
  writePvclockVcpuTimeInfo(mem, gpa, {
    version: odd,
    tscTimestamp: update.tscTimestamp,
    systemTime: update.systemTime,
    tscToSystemMul: update.tscToSystemMul,
    tscShift: update.tscShift,
    flags: (update.flags | (guestFlags & PVCLOCK_GUEST_STOPPED)) & 0xff,
  });
  return endPvclockUpdate(mem, gpa, odd);
}

/**
 * Steal-time / wall-clock writer, step 1: reads the version at `versionGpa`; if odd adds 1;
 * adds 1 (now odd), writes it and returns it.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { beginSeqUpdate } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(64);
 * mem.writeU32(8n, 4);
 * assertEquals(beginSeqUpdate(mem, 8n), 5);
 * mem.writeU32(8n, 5); // a torn earlier update: skip to the next odd
 * assertEquals(beginSeqUpdate(mem, 8n), 7);
 * ```
 */
export function beginSeqUpdate(mem: GuestMemory, versionGpa: Gpa): number {
  // [X] record_steal_time / kvm_write_wall_clock: if odd, +1; then +1 (odd).
  let v = mem.readU32(versionGpa);
  if ((v & 1) !== 0) v = (v + 1) >>> 0;
  v = (v + 1) >>> 0;
  mem.writeU32(versionGpa, v);
  return v;
}

/**
 * Steal-time / wall-clock writer, last step: writes `oddVersion + 1` (even, u32), returns it.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { beginSeqUpdate, endSeqUpdate } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(64);
 * assertEquals(endSeqUpdate(mem, 8n, beginSeqUpdate(mem, 8n)), 2);
 * ```
 */
export function endSeqUpdate(mem: GuestMemory, versionGpa: Gpa, oddVersion: number): number {
  // [X] record_steal_time / kvm_write_wall_clock: final +1 (even).
  const v = (oddVersion + 1) >>> 0;
  mem.writeU32(versionGpa, v);
  return v;
}

/**
 * Fills a pvclock_wall_clock the way the WALL_CLOCK MSR write does: bump the version to odd,
 * write {sec = (u32)(ns / 1e9), nsec = ns % 1e9}, then make the version even. `epochNs` is
 * the wall-clock time in ns since 1970 at which kvmclock read 0 (taken as u64). Returns the
 * final (even) version.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the record
 * does not fit in RAM. (KVM itself silently ignores a bad GPA here.)
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { publishPvclockWallClock, readPvclockWallClock } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * publishPvclockWallClock(mem, 0x10n, 1_700_000_000_123_456_789n);
 * assertEquals(readPvclockWallClock(mem, 0x10n), {
 *   version: 2,
 *   sec: 1_700_000_000,
 *   nsec: 123_456_789,
 * });
 * ```
 */
export function publishPvclockWallClock(mem: GuestMemory, gpa: Gpa, epochNs: bigint): number {
  assertRecordInRam(mem, gpa, PVCLOCK_WALL_CLOCK_SIZE);
  const ns = BigInt.asUintN(64, epochNs);
  const odd = beginSeqUpdate(mem, gpa);
  // [X] kvm_write_wall_clock: sec = (u32)(wall_nsec / 1e9) wraps in 2106; nsec = remainder.
  writePvclockWallClock(mem, gpa, {
    version: odd,
    sec: Number(BigInt.asUintN(32, ns / 1_000_000_000n)),
    nsec: Number(ns % 1_000_000_000n),
  });
  return endSeqUpdate(mem, gpa, odd);
}

/**
 * Adds `deltaNs` to the `steal` field of the kvm_steal_time at `gpa` inside the version
 * protocol, starting from whatever value guest memory holds (as record_steal_time does).
 * Returns the new steal value (u64).
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the 64-byte
 * record does not fit in RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { accumulateStealTime, readKvmStealTime } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * accumulateStealTime(mem, 0x40n, 2_500_000n);
 * assertEquals(accumulateStealTime(mem, 0x40n, 500_000n), 3_000_000n);
 * assertEquals(readKvmStealTime(mem, 0x40n).version, 4);
 * ```
 */
export function accumulateStealTime(mem: GuestMemory, gpa: Gpa, deltaNs: bigint): bigint {
  assertRecordInRam(mem, gpa, KVM_STEAL_TIME_SIZE);
  const versionGpa = gpa + BigInt(KVM_STEAL_TIME_OFFSETS.version);
  const stealGpa = gpa + BigInt(KVM_STEAL_TIME_OFFSETS.steal);
  const odd = beginSeqUpdate(mem, versionGpa);
  // [X] record_steal_time: steal = guest.steal + (run_delay - last_run_delay), u64.
  const steal = BigInt.asUintN(64, mem.readU64(stealGpa) + deltaNs);
  mem.writeU64(stealGpa, steal);
  endSeqUpdate(mem, versionGpa, odd);
  return steal;
}

// ---------------------------------------------------------------------------------------------
// Guest readers

/**
 * The guest's pvclock reader loop, bounded: v = version & ~1; read; retry while the version
 * is not v. An odd version therefore always retries.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { pvclockVersionedRead } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(64);
 * mem.writeU32(0n, 2);
 * mem.writeU64(16n, 77n);
 * const r = pvclockVersionedRead(mem, 0n, () => mem.readU64(16n));
 * assertEquals(r.kind === "ok" && r.value, 77n);
 * mem.writeU32(0n, 3);
 * assertEquals(pvclockVersionedRead(mem, 0n, () => 0, 5).kind, "retry-limit");
 * ```
 */
export function pvclockVersionedRead<T>(
  mem: GuestMemory,
  versionGpa: Gpa,
  read: () => T,
  maxAttempts: number = DEFAULT_SEQ_READ_ATTEMPTS,
): SeqReadResult<T> {
  checkAttempts(maxAttempts);
  let version = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    // [P] pvclock_read_begin: version & ~1, so an odd version never matches at the end.
    const v = (mem.readU32(versionGpa) & ~1) >>> 0;
    const value = read();
    version = mem.readU32(versionGpa);
    if (version === v) return { kind: "ok", value, version, attempts: attempt };
  }
  return { kind: "retry-limit", version, attempts: maxAttempts };
}

/**
 * The guest's steal-time / wall-clock reader loop, bounded: read the version, read, retry
 * while the first version was odd or the version changed.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { seqVersionedRead } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(64);
 * mem.writeU32(8n, 6);
 * mem.writeU64(0n, 1234n);
 * const r = seqVersionedRead(mem, 8n, () => mem.readU64(0n));
 * assertEquals(r.kind === "ok" && r.value, 1234n);
 * ```
 */
export function seqVersionedRead<T>(
  mem: GuestMemory,
  versionGpa: Gpa,
  read: () => T,
  maxAttempts: number = DEFAULT_SEQ_READ_ATTEMPTS,
): SeqReadResult<T> {
  checkAttempts(maxAttempts);
  let version = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    // [G] steal/wall readers: retry while the version is odd or changed.
    const v = mem.readU32(versionGpa);
    const value = read();
    version = mem.readU32(versionGpa);
    if ((v & 1) === 0 && version === v) return { kind: "ok", value, version, attempts: attempt };
  }
  return { kind: "retry-limit", version, attempts: maxAttempts };
}

/**
 * Reads a consistent pvclock_vcpu_time_info at `gpa` with the guest's pvclock loop (bounded).
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { publishPvclockVcpuTimeInfo, readPvclockVcpuTimeInfoConsistent } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * publishPvclockVcpuTimeInfo(mem, 0x40n, {
 *   tscTimestamp: 5n,
 *   systemTime: 9n,
 *   tscToSystemMul: 0x80000000,
 *   tscShift: 1,
 *   flags: 0,
 * });
 * const r = readPvclockVcpuTimeInfoConsistent(mem, 0x40n);
 * assertEquals(r.kind === "ok" && r.value.systemTime, 9n);
 * ```
 */
export function readPvclockVcpuTimeInfoConsistent(
  mem: GuestMemory,
  gpa: Gpa,
  maxAttempts: number = DEFAULT_SEQ_READ_ATTEMPTS,
): SeqReadResult<PvclockVcpuTimeInfo> {
  checkAttempts(maxAttempts);
  // The same loop as pvclockVersionedRead without a closure, and with the version words read
  // in place for a plain ArrayGuestMemory: this is the kvmclock hot path.
  const direct = directView(mem);
  const at = direct === undefined ? 0 : directOffset(direct, gpa, PVCLOCK_VCPU_TIME_INFO_SIZE);
  let version = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const v = ((direct === undefined ? mem.readU32(gpa) : direct.getUint32(at, true)) & ~1) >>> 0;
    const value = readPvclockVcpuTimeInfo(mem, gpa);
    version = direct === undefined ? mem.readU32(gpa) : direct.getUint32(at, true);
    if (version === v) return { kind: "ok", value, version, attempts: attempt };
  }
  return { kind: "retry-limit", version, attempts: maxAttempts };
}
