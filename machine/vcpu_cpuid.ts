/**
 * Per-vCPU CPUID: the topology fields that differ between vCPUs (APIC IDs in leaf 0x1 and
 * leaf 0xB), next to the leaves every vCPU shares.
 *
 * @module
 */

import type { CpuidLeaf } from "./kvm_leaves.ts";
import { apicIdLayout, apicIdOf, type SmpTopology } from "./topology.ts";

/** CPUID.01H:ECX bit 21, x2APIC. */
export const CPUID_1_ECX_X2APIC = 1 << 21;

/** Words stored per vCPU: leaf 1 EBX, ECX; leaf 0xB subleaf 0 and 1 EAX..EDX. */
const WORDS_PER_VCPU = 10;

/** CPUID 0xB level types (SDM: 1 = SMT, 2 = core). */
const LEVEL_SMT = 1;
const LEVEL_CORE = 2;

/**
 * The per-vCPU CPUID of a composed machine, packed in one typed array so that 32768 vCPUs cost
 * about 1.3 MB. Leaf 1 carries only its topology fields (initial APIC ID in EBX 31:24, logical
 * processors per package in EBX 23:16, x2APIC in ECX bit 21); a backend merges them into the
 * model's full leaf 1.
 *
 * @example
 * ```ts
 * import { simpleTopology, VcpuCpuidTable } from "@pvkit/machine";
 * const table = new VcpuCpuidTable(simpleTopology(4), true, []);
 * console.log(table.apicId(3), table.entries(3).length); // 3 3
 * ```
 */
export class VcpuCpuidTable {
  /** Number of vCPUs present. */
  readonly count: number;
  /** The leaves every vCPU shares (the KVM leaves). */
  readonly shared: readonly CpuidLeaf[];
  readonly #apicIds: Uint32Array;
  readonly #words: Uint32Array;

  /** Builds the table for the present vCPUs of a topology. */
  constructor(topology: SmpTopology, x2apic: boolean, shared: readonly CpuidLeaf[]) {
    const n = topology.cpus;
    this.count = n;
    this.shared = shared;
    this.#apicIds = new Uint32Array(n);
    this.#words = new Uint32Array(n * WORDS_PER_VCPU);
    const layout = apicIdLayout(topology);
    const perPackage = Math.min(topology.dies * topology.cores * topology.threads, 255);
    const smtShift = layout.threadBits;
    const coreShift = layout.threadBits + layout.coreBits;
    const ecx1 = x2apic ? CPUID_1_ECX_X2APIC : 0;
    const words = this.#words;
    for (let i = 0; i < n; i++) {
      const apicId = apicIdOf(topology, i, layout);
      this.#apicIds[i] = apicId;
      const w = i * WORDS_PER_VCPU;
      words[w] = (((apicId & 0xff) << 24) | (perPackage << 16)) >>> 0;
      words[w + 1] = ecx1;
      words[w + 2] = smtShift;
      words[w + 3] = topology.threads;
      words[w + 4] = (LEVEL_SMT << 8) | 0;
      words[w + 5] = apicId;
      words[w + 6] = coreShift;
      words[w + 7] = topology.threads * topology.cores;
      words[w + 8] = (LEVEL_CORE << 8) | 1;
      words[w + 9] = apicId;
    }
  }

  /** The APIC ID of vCPU `index`. */
  apicId(index: number): number {
    return this.#apicIds[index];
  }

  /** The topology leaves of vCPU `index`: leaf 0x1, leaf 0xB subleaves 0 and 1. */
  entries(index: number): CpuidLeaf[] {
    const w = index * WORDS_PER_VCPU;
    const r = this.#words;
    return [
      { leaf: 1, subleaf: 0, eax: 0, ebx: r[w], ecx: r[w + 1], edx: 0 },
      { leaf: 0xb, subleaf: 0, eax: r[w + 2], ebx: r[w + 3], ecx: r[w + 4], edx: r[w + 5] },
      { leaf: 0xb, subleaf: 1, eax: r[w + 6], ebx: r[w + 7], ecx: r[w + 8], edx: r[w + 9] },
    ];
  }
}
