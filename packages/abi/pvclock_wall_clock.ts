/**
 * Codec for `struct pvclock_wall_clock`, the 12-byte record the host fills once, during the
 * WRMSR of MSR 0x4b564d00 (or 0x11): the wall-clock time at which kvmclock was 0.
 *
 * Source: spec §3 ([P] pvclock-abi.h) and §2 (kvm_write_wall_clock).
 *
 * @module
 */

import type { Gpa, GuestMemory } from "@pvkit/machine";
import { readRecord, writeRecord } from "./_record.ts";

/**
 * The decoded fields of a pvclock_wall_clock.
 *
 * @example
 * ```ts
 * import type { PvclockWallClock } from "@pvkit/abi";
 * const boot: PvclockWallClock = { version: 2, sec: 1_700_000_000, nsec: 0 };
 * console.log(new Date(boot.sec * 1000).toISOString());
 * ```
 */
export interface PvclockWallClock {
  /** Seqlock version (u32): even when consistent, odd while the host updates the record. */
  version: number;
  /** Seconds since 1970 at kvmclock 0 (u32; wraps in 2106). */
  sec: number;
  /** Nanoseconds part, 0..999999999 (u32). */
  nsec: number;
}

/**
 * Size of pvclock_wall_clock in bytes (packed).
 *
 * @example
 * ```ts
 * import { PVCLOCK_WALL_CLOCK_SIZE } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_WALL_CLOCK_SIZE, 12);
 * ```
 */
export const PVCLOCK_WALL_CLOCK_SIZE = 12; // spec §3: "12 bytes, packed"

/**
 * Alignment msr.rst asks of the record's GPA. KVM itself checks none.
 *
 * @example
 * ```ts
 * import { PVCLOCK_WALL_CLOCK_ALIGN } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_WALL_CLOCK_ALIGN, 4);
 * ```
 */
export const PVCLOCK_WALL_CLOCK_ALIGN = 4; // [D] msr.rst WALL_CLOCK_NEW: "4-byte alignment"

/**
 * Byte offset of each field of pvclock_wall_clock.
 *
 * @example
 * ```ts
 * import { PVCLOCK_WALL_CLOCK_OFFSETS } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * assertEquals(PVCLOCK_WALL_CLOCK_OFFSETS.nsec, 8);
 * ```
 */
export const PVCLOCK_WALL_CLOCK_OFFSETS: {
  readonly version: 0;
  readonly sec: 4;
  readonly nsec: 8;
} = Object.freeze({ version: 0, sec: 4, nsec: 8 } as const); // spec §3 layout

/**
 * Reads the pvclock_wall_clock at `gpa` with one bounds-checked access.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine` if any of the 12 bytes is outside RAM.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readPvclockWallClock } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * mem.writeU32(0x14n, 1_700_000_000);
 * assertEquals(readPvclockWallClock(mem, 0x10n).sec, 1_700_000_000);
 * ```
 */
export function readPvclockWallClock(mem: GuestMemory, gpa: Gpa): PvclockWallClock {
  const [v, at] = readRecord(mem, gpa, PVCLOCK_WALL_CLOCK_SIZE);
  return {
    version: v.getUint32(at, true),
    sec: v.getUint32(at + 4, true),
    nsec: v.getUint32(at + 8, true),
  };
}

/**
 * Writes all 12 bytes of a pvclock_wall_clock at `gpa`; values are truncated to u32.
 *
 * Throws {@linkcode GuestMemoryError} from `@pvkit/machine`, writing nothing, if the record
 * does not fit in RAM. For the host's version protocol use {@linkcode publishPvclockWallClock}.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { readPvclockWallClock, writePvclockWallClock } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const mem = new ArrayGuestMemory(4096);
 * writePvclockWallClock(mem, 0x10n, { version: 2, sec: 10, nsec: 5 });
 * assertEquals(readPvclockWallClock(mem, 0x10n), { version: 2, sec: 10, nsec: 5 });
 * ```
 */
export function writePvclockWallClock(mem: GuestMemory, gpa: Gpa, record: PvclockWallClock): void {
  writeRecord(mem, gpa, PVCLOCK_WALL_CLOCK_SIZE, (view) => {
    view.setUint32(0, record.version, true);
    view.setUint32(4, record.sec, true);
    view.setUint32(8, record.nsec, true);
  });
}
