/**
 * The binary statistics fd (KVM_GET_STATS_FD on a VM or vCPU fd): the header and descriptors
 * are parsed once, then counters are re-read by name with `pread` (spec §1.6;
 * `Documentation/virt/kvm/api.rst` §4.133).
 *
 * Counters are vendor-specific: on this project's AMD hosts `io_exits` stayed 0 after port I/O
 * exits while `exits` counted them, so count exits in the VMM as well.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { KvmError } from "./errors.ts";
import { KvmFd } from "./kvm_fd.ts";
import { libcPread } from "./libc.ts";
import { factories } from "./_internal.ts";

/**
 * The header at offset 0 of a stats fd (`struct kvm_stats_header`, 24 bytes).
 *
 * @example
 * ```ts
 * import { decodeKvmStatsHeader } from "@pvkit/kvm";
 * const h = decodeKvmStatsHeader(new Uint8Array(24));
 * console.log(h.numDesc); // 0
 * ```
 */
export interface KvmStatsHeader {
  /** Header flags (0 today). */
  readonly flags: number;
  /** Bytes reserved for each name (and for the id string), NUL-padded. */
  readonly nameSize: number;
  /** Number of descriptors. */
  readonly numDesc: number;
  /** File offset of the id string (e.g. `kvm-1234/vcpu-0`). */
  readonly idOffset: number;
  /** File offset of the first descriptor. */
  readonly descOffset: number;
  /** File offset of the data block the descriptors' offsets are relative to. */
  readonly dataOffset: number;
}

/**
 * One statistic's descriptor (`struct kvm_stats_desc` and its name).
 *
 * @example
 * ```ts
 * import type { KvmStatDescriptor } from "@pvkit/kvm";
 * const d: KvmStatDescriptor = {
 *   name: "exits", flags: 0, type: "cumulative", unit: "none", base: 10, exponent: 0,
 *   size: 1, offset: 8, bucketSize: 0,
 * };
 * console.log(d.name);
 * ```
 */
export interface KvmStatDescriptor {
  /** The statistic's name, e.g. `exits`, `halt_exits`, `io_exits`. */
  readonly name: string;
  /** The raw flags word (type bits 0-3, unit bits 4-7, base bits 8-11). */
  readonly flags: number;
  /** How the value evolves. */
  readonly type: "cumulative" | "instant" | "peak" | "linear-hist" | "log-hist" | "unknown";
  /** What the value counts. */
  readonly unit: "none" | "bytes" | "seconds" | "cycles" | "boolean" | "unknown";
  /** The exponent's base: value * base^exponent is in `unit`. */
  readonly base: 10 | 2;
  /** The exponent (e.g. -9 for nanoseconds). */
  readonly exponent: number;
  /** Number of u64 values (1, or the bucket count of a histogram). */
  readonly size: number;
  /** Offset of the values from the header's `dataOffset`. */
  readonly offset: number;
  /** Bucket width of a linear histogram. */
  readonly bucketSize: number;
}

const HEADER_SIZE = 24;
const DESC_FIXED = 16;
const TYPES = ["cumulative", "instant", "peak", "linear-hist", "log-hist"] as const;
const UNITS = ["none", "bytes", "seconds", "cycles", "boolean"] as const;

/**
 * Decodes the 24-byte stats header.
 *
 * @example
 * ```ts
 * import { decodeKvmStatsHeader } from "@pvkit/kvm";
 * const bytes = new Uint8Array(24);
 * const v = new DataView(bytes.buffer);
 * v.setUint32(4, 48, true);
 * v.setUint32(8, 45, true);
 * console.log(decodeKvmStatsHeader(bytes).nameSize); // 48
 * ```
 */
export function decodeKvmStatsHeader(bytes: Uint8Array): KvmStatsHeader {
  if (bytes.byteLength < HEADER_SIZE) {
    throw new PvkitError("kvm-bad-stats", `stats header needs 24 bytes, got ${bytes.byteLength}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    flags: v.getUint32(0, true),
    nameSize: v.getUint32(4, true),
    numDesc: v.getUint32(8, true),
    idOffset: v.getUint32(12, true),
    descOffset: v.getUint32(16, true),
    dataOffset: v.getUint32(20, true),
  };
}

const decoder = new TextDecoder();

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * Decodes `numDesc` descriptors of `16 + nameSize` bytes each (the block at `descOffset`).
 *
 * @example
 * ```ts
 * import { decodeKvmStatDescriptors } from "@pvkit/kvm";
 * const block = new Uint8Array(16 + 8);
 * const v = new DataView(block.buffer);
 * v.setUint16(6, 1, true); // size: one u64
 * v.setUint32(8, 16, true); // offset in the data block
 * block.set(new TextEncoder().encode("exits"), 16);
 * console.log(decodeKvmStatDescriptors(block, 1, 8)[0].name); // "exits"
 * ```
 */
export function decodeKvmStatDescriptors(
  block: Uint8Array,
  numDesc: number,
  nameSize: number,
): KvmStatDescriptor[] {
  const record = DESC_FIXED + nameSize;
  if (block.byteLength < numDesc * record) {
    throw new PvkitError(
      "kvm-bad-stats",
      `${numDesc} stats descriptors need ${numDesc * record} bytes, got ${block.byteLength}`,
    );
  }
  const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const out: KvmStatDescriptor[] = [];
  for (let i = 0; i < numDesc; i++) {
    const at = i * record;
    const flags = v.getUint32(at, true);
    out.push({
      name: cString(block.subarray(at + DESC_FIXED, at + record)),
      flags,
      type: TYPES[flags & 0xf] ?? "unknown",
      unit: UNITS[(flags >> 4) & 0xf] ?? "unknown",
      base: ((flags >> 8) & 0xf) === 1 ? 2 : 10,
      exponent: v.getInt16(at + 4, true),
      size: v.getUint16(at + 6, true),
      offset: v.getUint32(at + 8, true),
      bucketSize: v.getUint32(at + 12, true),
    });
  }
  return out;
}

/**
 * An open binary stats fd of a VM or vCPU, from {@linkcode KvmVcpu.kvmGetStatsFd} or
 * {@linkcode KvmVm.kvmGetStatsFd}. Close it (or `using`) when done; it keeps the VM alive.
 *
 * @example
 * ```ts
 * import { KvmSystem } from "@pvkit/kvm";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const vcpu = vm.kvmCreateVcpu(0);
 * using stats = vcpu.kvmGetStatsFd();
 * console.log(stats.id, stats.read("exits")); // e.g. "kvm-1234/vcpu-0" 0n
 * ```
 */
export class KvmStatsFd extends KvmFd {
  /** The header, read when the fd was opened. */
  readonly header: KvmStatsHeader;
  /** The id string, e.g. `kvm-1234/vcpu-0`. */
  readonly id: string;
  /** Every statistic's descriptor, in file order. */
  readonly descriptors: readonly KvmStatDescriptor[];
  readonly #byName: ReadonlyMap<string, KvmStatDescriptor>;

  static {
    factories.stats = (fd, label) => new KvmStatsFd(fd, label);
  }

  private constructor(fd: number, label: string) {
    super(fd, label);
    try {
      this.header = decodeKvmStatsHeader(this.#pread(HEADER_SIZE, 0));
      const h = this.header;
      this.id = cString(this.#pread(h.nameSize, h.idOffset));
      this.descriptors = decodeKvmStatDescriptors(
        this.#pread(h.numDesc * (DESC_FIXED + h.nameSize), h.descOffset),
        h.numDesc,
        h.nameSize,
      );
      this.#byName = new Map(this.descriptors.map((d) => [d.name, d]));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #pread(length: number, offset: number): Uint8Array<ArrayBuffer> {
    const buf = new Uint8Array(length);
    const n = libcPread(this.liveFd(`pread(${this.label})`), buf, offset);
    if (n < 0) throw new KvmError(`pread(${this.label})`, -n);
    if (n !== length) {
      throw new PvkitError(
        "kvm-bad-stats",
        `${this.label}: short read, ${n} of ${length} bytes at offset ${offset}`,
      );
    }
    return buf;
  }

  /**
   * The statistic names, in file order.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using stats = vm.kvmCreateVcpu(0).kvmGetStatsFd();
   * console.log(stats.names.slice(0, 2)); // e.g. [ "halt_successful_poll", "halt_attempted_poll" ]
   * ```
   */
  get names(): string[] {
    return this.descriptors.map((d) => d.name);
  }

  /**
   * The descriptor of `name`, or undefined.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using stats = vm.kvmCreateVcpu(0).kvmGetStatsFd();
   * console.log(stats.descriptor("halt_wait_ns")?.exponent); // -9
   * ```
   */
  descriptor(name: string): KvmStatDescriptor | undefined {
    return this.#byName.get(name);
  }

  /**
   * The current value of a single-valued statistic (its first u64 for a histogram). Throws
   * {@linkcode PvkitError} (`kvm-unknown-stat`) for a name the fd does not have.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using stats = vm.kvmCreateVcpu(0).kvmGetStatsFd();
   * console.log(stats.read("exits")); // 0n before the first KVM_RUN
   * ```
   */
  read(name: string): bigint {
    return this.readValues(name)[0];
  }

  /**
   * All u64 values of a statistic (histogram buckets included), read now.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using stats = vm.kvmCreateVcpu(0).kvmGetStatsFd();
   * console.log(stats.readValues("halt_wait_hist").length); // the bucket count, e.g. 32
   * ```
   */
  readValues(name: string): bigint[] {
    const d = this.#byName.get(name);
    if (!d) {
      throw new PvkitError(
        "kvm-unknown-stat",
        `${this.label} has no statistic "${name}"`,
        () => `known: ${this.names.join(", ")}`,
      );
    }
    const bytes = this.#pread(8 * d.size, this.header.dataOffset + d.offset);
    const v = new DataView(bytes.buffer);
    return Array.from({ length: d.size }, (_, i) => v.getBigUint64(i * 8, true));
  }

  /**
   * Every statistic's first value, read now in one `pread` of the data block.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using stats = vm.kvmCreateVcpu(0).kvmGetStatsFd();
   * console.log(stats.readAll().get("io_exits")); // 0n
   * ```
   */
  readAll(): Map<string, bigint> {
    const end = Math.max(0, ...this.descriptors.map((d) => d.offset + 8 * d.size));
    const bytes = this.#pread(end, this.header.dataOffset);
    const v = new DataView(bytes.buffer);
    return new Map(this.descriptors.map((d) => [d.name, v.getBigUint64(d.offset, true)]));
  }
}
