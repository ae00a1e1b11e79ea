/**
 * A writer for the cpio "newc" archive format, the format Linux unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst).
 *
 * @module
 */

/** One member of a newc archive: a regular file, a folder or a symbolic link. */
export type CpioEntry =
  | { kind: "file"; path: string; data: Uint8Array; mode?: number }
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "symlink"; path: string; target: string };

// File-type bits of st_mode (include/uapi/linux/stat.h).
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const TRAILER = "TRAILER!!!";

/**
 * Encodes `entries` as a newc archive, in order, closed by the `TRAILER!!!` record. Every member
 * belongs to root, has mtime 0 and its own inode number, so the same input gives the same bytes.
 *
 * @example
 * ```ts
 * import { cpioNewc } from "@pvkit/nested";
 * const bytes = cpioNewc([
 *   { kind: "dir", path: "etc" },
 *   { kind: "file", path: "etc/hostname", data: new TextEncoder().encode("guest\n") },
 * ]);
 * console.log(new TextDecoder().decode(bytes.subarray(0, 6))); // "070701"
 * ```
 */
export function cpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let size = 0;
  const append = (bytes: Uint8Array) => {
    parts.push(bytes);
    size += bytes.length;
  };
  // The header with its name, and the data, each end on a multiple of four bytes.
  const align = () => {
    if (size % 4) append(new Uint8Array(4 - (size % 4)));
  };
  const member = (ino: number, mode: number, path: string, data: Uint8Array) => {
    const name = enc.encode(`${path}\0`);
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
    append(enc.encode(`070701${fields.map(hex8).join("")}`));
    append(name);
    align();
    append(data);
    align();
  };
  entries.forEach((e, i) => {
    const path = e.path.replace(/^\/+/, "");
    if (e.kind === "file") member(i + 1, S_IFREG | (e.mode ?? 0o644), path, e.data);
    else if (e.kind === "dir") member(i + 1, S_IFDIR | (e.mode ?? 0o755), path, new Uint8Array());
    else member(i + 1, S_IFLNK | 0o777, path, enc.encode(e.target));
  });
  member(0, 0, TRAILER, new Uint8Array());
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
