/**
 * Linux errno numbers (x86-64) and their symbolic names, so errors can say `E2BIG (7)` instead
 * of a bare number. Only the values pvkit can meet are listed; others print as `E<n>`.
 *
 * @module
 */

/**
 * The errno values pvkit's KVM layer meets, by symbolic name (Linux x86-64 numbering).
 *
 * @example
 * ```ts
 * import { Errno } from "@pvkit/kvm";
 * console.log(Errno.E2BIG); // 7
 * ```
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
} as const;

/**
 * A symbolic errno name known to {@linkcode Errno}.
 *
 * @example
 * ```ts
 * import type { ErrnoName } from "@pvkit/kvm";
 * const name: ErrnoName = "EINVAL";
 * console.log(name);
 * ```
 */
export type ErrnoName = keyof typeof Errno;

// glibc's strerror() text for each value above (checked with gcc on Debian 12).
const DESCRIPTIONS: Readonly<Record<number, string>> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  3: "No such process",
  4: "Interrupted system call",
  5: "Input/output error",
  6: "No such device or address",
  7: "Argument list too long",
  8: "Exec format error",
  9: "Bad file descriptor",
  10: "No child processes",
  11: "Resource temporarily unavailable",
  12: "Cannot allocate memory",
  13: "Permission denied",
  14: "Bad address",
  15: "Block device required",
  16: "Device or resource busy",
  17: "File exists",
  18: "Invalid cross-device link",
  19: "No such device",
  20: "Not a directory",
  21: "Is a directory",
  22: "Invalid argument",
  23: "Too many open files in system",
  24: "Too many open files",
  25: "Inappropriate ioctl for device",
  26: "Text file busy",
  27: "File too large",
  28: "No space left on device",
  29: "Illegal seek",
  30: "Read-only file system",
  31: "Too many links",
  32: "Broken pipe",
  33: "Numerical argument out of domain",
  34: "Numerical result out of range",
  35: "Resource deadlock avoided",
  36: "File name too long",
  37: "No locks available",
  38: "Function not implemented",
  39: "Directory not empty",
  40: "Too many levels of symbolic links",
  75: "Value too large for defined data type",
  95: "Operation not supported",
  110: "Connection timed out",
};

const NAMES: ReadonlyMap<number, ErrnoName> = new Map(
  (Object.entries(Errno) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/**
 * The symbolic name of an errno value, or `E<n>` for a value not in {@linkcode Errno}.
 *
 * @example
 * ```ts
 * import { errnoName } from "@pvkit/kvm";
 * console.log(errnoName(7)); // "E2BIG"
 * console.log(errnoName(200)); // "E200"
 * ```
 */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E${errno}`;
}

/**
 * glibc's `strerror()` text for an errno value, or `"Unknown error <n>"`.
 *
 * @example
 * ```ts
 * import { errnoDescription } from "@pvkit/kvm";
 * console.log(errnoDescription(25)); // "Inappropriate ioctl for device"
 * ```
 */
export function errnoDescription(errno: number): string {
  return DESCRIPTIONS[errno] ?? `Unknown error ${errno}`;
}
