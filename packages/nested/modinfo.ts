/**
 * Reads a Linux kernel module's `.modinfo` section (the `key=value` strings `modinfo` prints) from
 * the module's ELF file, so the module load order can be worked out without kmod.
 *
 * @module
 */

import { NestedError } from "./errors.ts";

/** The `.modinfo` fields pvkit needs: the module's name and the modules it depends on. */
export interface ModuleInfo {
  /** The module's name (`name=`), e.g. `kvm_amd`. */
  name: string;
  /** The names of the modules it needs loaded first (`depends=`), e.g. `["kvm", "ccp"]`. */
  depends: string[];
}

// ELF64 header and section header offsets (the System V ABI, "ELF Header" and "Sections").
const ELF_MAGIC = 0x464c457f; // "\x7fELF", little-endian
const ELFCLASS64 = 2;
const E_SHOFF = 0x28;
const E_SHENTSIZE = 0x3a;
const E_SHNUM = 0x3c;
const E_SHSTRNDX = 0x3e;
const SH_NAME = 0x00;
const SH_OFFSET = 0x18;
const SH_SIZE = 0x20;

/**
 * Parses the `.modinfo` section of a 64-bit little-endian kernel module (`.ko`, uncompressed).
 * `file` names the module in errors.
 *
 * @example
 * ```ts
 * import { parseModinfo } from "@pvkit/nested";
 * try {
 *   parseModinfo(new Uint8Array(16), "x.ko");
 * } catch (e) {
 *   console.log((e as Error).message); // "x.ko is not a 64-bit ELF kernel module"
 * }
 * ```
 */
export function parseModinfo(bytes: Uint8Array, file: string): ModuleInfo {
  const bad = (why: string) => new NestedError("module-failed", `${file} ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 0x40 || view.getUint32(0, true) !== ELF_MAGIC || bytes[4] !== ELFCLASS64) {
    throw bad("is not a 64-bit ELF kernel module");
  }
  const shoff = Number(view.getBigUint64(E_SHOFF, true));
  const shentsize = view.getUint16(E_SHENTSIZE, true);
  const shnum = view.getUint16(E_SHNUM, true);
  const shstrndx = view.getUint16(E_SHSTRNDX, true);
  if (shoff + shnum * shentsize > bytes.length || shstrndx >= shnum) {
    throw bad("has a section table outside the file");
  }
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    const offset = Number(view.getBigUint64(at + SH_OFFSET, true));
    const size = Number(view.getBigUint64(at + SH_SIZE, true));
    if (offset + size > bytes.length) throw bad(`has section ${i} outside the file`);
    return {
      nameAt: view.getUint32(at + SH_NAME, true),
      bytes: bytes.subarray(offset, offset + size),
    };
  };
  const names = section(shstrndx).bytes;
  const latin1 = new TextDecoder("latin1");
  const cString = (b: Uint8Array, at: number) => {
    const end = b.indexOf(0, at);
    return latin1.decode(b.subarray(at, end < 0 ? b.length : end));
  };
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (cString(names, s.nameAt) !== ".modinfo") continue;
    const fields = new Map<string, string>();
    for (const entry of latin1.decode(s.bytes).split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0 && !fields.has(entry.slice(0, eq))) {
        fields.set(entry.slice(0, eq), entry.slice(eq + 1));
      }
    }
    const name = fields.get("name");
    if (!name) throw bad("has no name= in .modinfo");
    const depends = (fields.get("depends") ?? "").split(",").filter((d) => d !== "");
    return { name, depends };
  }
  throw bad("has no .modinfo section");
}
