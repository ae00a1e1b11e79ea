// Test helpers: a fake KVM vCPU (a ScriptedGuestCpu with KVM's CPUID leaves), KvmGuestInfo
// literals, and a GuestMemory whose reads can play a concurrent host. Not exported from mod.ts.

import type { CpuidRegisters } from "@pvkit/abi";
import { ArrayGuestMemory, type Gpa, type GuestMemory } from "@pvkit/machine";
import type { KvmGuestInfo } from "./kvm_detect.ts";
import { type HypercallHandler, ScriptedGuestCpu } from "./scripted_guest_cpu.ts";

/** A word with the given bits set (u32). */
export function bits(...n: number[]): number {
  return n.reduce((w, b) => (w | (1 << b)) >>> 0, 0);
}

/** What KVM's KVM_GET_SUPPORTED_CPUID reports with sched_info (spec §7). */
export const KVM_SUPPORTED_FEATURES = 0x01007efb;

/** The CPUID leaves of a KVM guest. */
export interface KvmCpuidOptions {
  features?: number;
  hints?: number;
  base?: number;
  /** EAX of the signature leaf. Default base + 1. */
  maxLeaf?: number;
  hypervisor?: boolean;
  mwait?: boolean;
  /** CPUID.1:ECX bit 21 (X86_FEATURE_X2APIC). */
  x2apic?: boolean;
}

/** A CPUID table: leaf 1 (hypervisor, MWAIT, x2APIC bits) and the KVM signature/feature leaves. */
export function kvmCpuid(o: KvmCpuidOptions = {}): Map<number, CpuidRegisters> {
  const base = o.base ?? 0x40000000;
  const ecx1 = ((o.hypervisor ?? true) ? 1 << 31 : 0) | (o.mwait ? 1 << 3 : 0) |
    (o.x2apic ? 1 << 21 : 0);
  return new Map([
    [1, { eax: 0x000806f8, ebx: 0, ecx: ecx1 >>> 0, edx: 0 }],
    [base, { eax: o.maxLeaf ?? base + 1, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d }],
    [base + 1, { eax: o.features ?? KVM_SUPPORTED_FEATURES, ebx: 0, ecx: 0, edx: o.hints ?? 0 }],
  ]);
}

/** Options of {@linkcode fakeCpu}. */
export interface FakeCpuOptions extends KvmCpuidOptions {
  index?: number;
  apicId?: number;
  memory?: GuestMemory;
  longMode?: boolean;
  gpMsrs?: number[];
  onHypercall?: HypercallHandler;
  tsc?: bigint;
}

/** A vCPU of a KVM guest with the given features (default: what KVM supports). */
export function fakeCpu(o: FakeCpuOptions = {}): ScriptedGuestCpu {
  return new ScriptedGuestCpu({
    index: o.index,
    apicId: o.apicId,
    memory: o.memory ?? new ArrayGuestMemory(0x10000),
    longMode: o.longMode,
    cpuid: kvmCpuid(o),
    gpMsrs: o.gpMsrs,
    onHypercall: o.onHypercall,
    tsc: o.tsc,
  });
}

/** A KvmGuestInfo literal. */
export function info(features: number, o: Partial<KvmGuestInfo> = {}): KvmGuestInfo {
  return {
    base: 0x40000000,
    maxLeaf: 0x40000001,
    features,
    hints: 0,
    possibleCpus: 4,
    mwait: false,
    ...o,
  };
}

/** Every combination of `n` booleans. */
export function* truthTable(n: number): Generator<boolean[]> {
  for (let m = 0; m < 1 << n; m++) yield Array.from({ length: n }, (_, i) => ((m >> i) & 1) === 1);
}

/**
 * An ArrayGuestMemory subclass whose byte and u32 reads can run a hook first (with how many
 * reads of that GPA came before), to change memory the way a concurrent host would.
 */
export class HookedMemory extends ArrayGuestMemory {
  onRead?: (gpa: Gpa, count: number) => void;
  readonly #counts = new Map<bigint, number>();

  #hook(gpa: Gpa): void {
    const n = this.#counts.get(gpa) ?? 0;
    this.#counts.set(gpa, n + 1);
    this.onRead?.(gpa, n);
  }

  override readU8(gpa: Gpa): number {
    this.#hook(gpa);
    return super.readU8(gpa);
  }

  override readU32(gpa: Gpa): number {
    this.#hook(gpa);
    return super.readU32(gpa);
  }
}

/** A tiny seeded PRNG (xorshift32) for property tests. */
export class Xorshift32 {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  below(n: number): number {
    return this.next() % n;
  }
}
