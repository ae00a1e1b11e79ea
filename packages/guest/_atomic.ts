// Atomic operations on guest memory, as the single-threaded model runs them. Not exported
// from mod.ts.

import type { Gpa, GuestMemory } from "@pvkit/machine";

/**
 * cmpxchg on a byte: if the byte at `gpa` is `expected`, write `next` and return true;
 * otherwise leave it and return false. The model runs one vCPU (or the host) at a time and
 * nothing runs between this read and write, so the check-then-write is atomic here.
 */
export function cmpxchgU8(mem: GuestMemory, gpa: Gpa, expected: number, next: number): boolean {
  if (mem.readU8(gpa) !== (expected & 0xff)) return false;
  mem.writeU8(gpa, next);
  return true;
}
