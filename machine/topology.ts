/**
 * vCPU topology and APIC IDs.
 *
 * @module
 */

import { PvkitError } from "./errors.ts";

/** The largest vCPU count pvkit composes: 15-bit APIC IDs (kvm-msi-ext-dest-id) reach 32768. */
export const MAX_VCPUS = 32768;

/** A vCPU topology, QEMU's `-smp` after its missing values are filled in. */
export interface SmpTopology {
  /** vCPUs present at start. */
  readonly cpus: number;
  /** Possible vCPUs (hot-pluggable up to this); Linux sizes "possible CPUs" from it. */
  readonly maxCpus: number;
  /** Sockets. */
  readonly sockets: number;
  /** Dies per socket. */
  readonly dies: number;
  /** Cores per die. */
  readonly cores: number;
  /** Threads per core. */
  readonly threads: number;
}

/** Bits needed to hold `count` distinct IDs (x86 topology packs each level into whole bits). */
function bitsFor(count: number): number {
  return count <= 1 ? 0 : 32 - Math.clz32(count - 1);
}

/**
 * Builds the simplest topology for `cpus` vCPUs: one socket with `cpus` cores (what current
 * QEMU picks for `-smp N`).
 *
 * @example
 * ```ts
 * import { simpleTopology } from "@pvkit/machine";
 * console.log(simpleTopology(4).cores); // 4
 * ```
 */
export function simpleTopology(cpus: number, maxCpus = cpus): SmpTopology {
  const topology = { cpus, maxCpus, sockets: 1, dies: 1, cores: maxCpus, threads: 1 };
  validateTopology(topology);
  return topology;
}

/**
 * Checks that a topology is consistent; throws {@linkcode PvkitError} otherwise.
 *
 * @example
 * ```ts
 * import { validateTopology } from "@pvkit/machine";
 * validateTopology({ cpus: 4, maxCpus: 4, sockets: 2, dies: 1, cores: 2, threads: 1 });
 * ```
 */
export function validateTopology(t: SmpTopology): void {
  for (const [key, value] of Object.entries(t)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new PvkitError("bad-smp", `smp ${key} must be a positive integer, got ${value}`);
    }
  }
  if (t.maxCpus < t.cpus) {
    throw new PvkitError(
      "bad-smp",
      `maxcpus (${t.maxCpus}) must be equal to or greater than smp (${t.cpus})`,
    );
  }
  if (t.sockets * t.dies * t.cores * t.threads !== t.maxCpus) {
    throw new PvkitError(
      "bad-smp",
      `sockets (${t.sockets}) * dies (${t.dies}) * cores (${t.cores}) * threads (${t.threads}) ` +
        `!= maxcpus (${t.maxCpus})`,
    );
  }
}

/** Field widths of the packed x86 APIC ID. */
export interface ApicIdLayout {
  /** Bits for the thread number. */
  readonly threadBits: number;
  /** Bits for the core number. */
  readonly coreBits: number;
  /** Bits for the die number. */
  readonly dieBits: number;
}

/**
 * The APIC ID field widths of a topology: each level takes the bits of its count rounded up to
 * a power of two (x86's CPUID 0xB/0x1F topology enumeration).
 *
 * @example
 * ```ts
 * import { apicIdLayout, simpleTopology } from "@pvkit/machine";
 * console.log(apicIdLayout(simpleTopology(6)).coreBits); // 3
 * ```
 */
export function apicIdLayout(t: SmpTopology): ApicIdLayout {
  return { threadBits: bitsFor(t.threads), coreBits: bitsFor(t.cores), dieBits: bitsFor(t.dies) };
}

/**
 * The APIC ID of the vCPU with the given index: socket, die, core and thread numbers packed
 * into their bit fields.
 *
 * @example
 * ```ts
 * import { apicIdOf, simpleTopology } from "@pvkit/machine";
 * const t = { cpus: 6, maxCpus: 6, sockets: 2, dies: 1, cores: 3, threads: 1 };
 * console.log(apicIdOf(t, 3)); // 4: socket 1 starts at 1 << 2
 * ```
 */
export function apicIdOf(
  t: SmpTopology,
  index: number,
  layout: ApicIdLayout = apicIdLayout(t),
): number {
  const thread = index % t.threads;
  const core = Math.floor(index / t.threads) % t.cores;
  const die = Math.floor(index / (t.threads * t.cores)) % t.dies;
  const socket = Math.floor(index / (t.threads * t.cores * t.dies));
  const coreShift = layout.threadBits;
  const dieShift = coreShift + layout.coreBits;
  const socketShift = dieShift + layout.dieBits;
  return socket * 2 ** socketShift + die * 2 ** dieShift + core * 2 ** coreShift + thread;
}

/**
 * The largest APIC ID of all possible vCPUs plus one (QEMU's `apic_id_limit`).
 *
 * @example
 * ```ts
 * import { apicIdLimit, simpleTopology } from "@pvkit/machine";
 * console.log(apicIdLimit(simpleTopology(300))); // 300
 * ```
 */
export function apicIdLimit(t: SmpTopology): number {
  return apicIdOf(t, t.maxCpus - 1) + 1;
}
