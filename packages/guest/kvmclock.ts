/**
 * The kvmclock guest driver (Linux's kvmclock.c on top of pvclock.c): MSR choice, per-CPU
 * registration, the clocksource read with its version loop, STABLE-bit trust and the global
 * monotonic clamp, GUEST_STOPPED handling, the wall clock, the TSC frequency, and shutdown.
 *
 * Source: spec §3 ("Version (seqlock) protocol") and §4 ("Guest conversion", "Monotonicity",
 * "Wall time", "kvmclock guest") ([K] kvmclock.c, [P] pvclock.c).
 *
 * @module
 */

import {
  KVM_FEATURE_CLOCKSOURCE,
  KVM_FEATURE_CLOCKSOURCE2,
  KVM_FEATURE_CLOCKSOURCE_STABLE_BIT,
  KVM_MSR_ENABLED,
  MSR_KVM_SYSTEM_TIME,
  MSR_KVM_SYSTEM_TIME_NEW,
  MSR_KVM_WALL_CLOCK,
  MSR_KVM_WALL_CLOCK_NEW,
  PVCLOCK_GUEST_STOPPED,
  PVCLOCK_TSC_STABLE_BIT,
  PVCLOCK_VCPU_TIME_INFO_OFFSETS,
  PVCLOCK_VCPU_TIME_INFO_SIZE,
  PVCLOCK_WALL_CLOCK_OFFSETS,
  PVCLOCK_WALL_CLOCK_SIZE,
  pvclockReadCycles,
  pvclockScaleDelta,
  pvclockTscKhz,
  pvclockVersionedRead,
  readPvclockVcpuTimeInfo,
  type SeqReadResult,
  seqVersionedRead,
} from "@pvkit/abi";
import { type Gpa, GuestMemoryError, PvkitError } from "@pvkit/machine";

const AT_TSC_TIMESTAMP = BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.tscTimestamp);
const AT_SYSTEM_TIME = BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.systemTime);
const AT_MUL = BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.tscToSystemMul);
const AT_SHIFT = BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.tscShift);
const AT_FLAGS = BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.flags);
import type { FeatureDecision } from "./feature_decision.ts";
import type { GuestCpu } from "./guest_cpu.ts";
import { type KvmGuestInfo, kvmParaHasFeature } from "./kvm_detect.ts";
import { wrmsrUnchecked } from "./_msr.ts";

const NSEC_PER_SEC = 1_000_000_000n;
const U64 = 64;

/**
 * The MSR pair kvmclock uses: system time (per CPU) and wall clock (VM-wide).
 *
 * @example
 * ```ts
 * import type { KvmclockMsrs } from "@pvkit/guest";
 * const msrs: KvmclockMsrs = { systemTime: 0x4b564d01, wallClock: 0x4b564d00 };
 * console.log(msrs.systemTime.toString(16));
 * ```
 */
export interface KvmclockMsrs {
  /** MSR_KVM_SYSTEM_TIME_NEW (0x4b564d01) or MSR_KVM_SYSTEM_TIME (0x12). */
  readonly systemTime: number;
  /** MSR_KVM_WALL_CLOCK_NEW (0x4b564d00) or MSR_KVM_WALL_CLOCK (0x11). */
  readonly wallClock: number;
}

/**
 * The `no-kvmclock` command-line switch.
 *
 * @example
 * ```ts
 * import type { KvmclockSwitches } from "@pvkit/guest";
 * const s: KvmclockSwitches = { noKvmclock: true };
 * console.log(s.noKvmclock);
 * ```
 */
export interface KvmclockSwitches {
  /** `no-kvmclock` on the kernel command line. */
  readonly noKvmclock?: boolean;
}

/**
 * Explains kvmclock_init's choice: off when not on KVM or with `no-kvmclock`; otherwise
 * CLOCKSOURCE2 (bit 3, MSRs 0x4b564d00/01) if present, else CLOCKSOURCE (bit 0, MSRs
 * 0x11/0x12), else off.
 *
 * @example
 * ```ts
 * import { decideKvmclock, type KvmGuestInfo } from "@pvkit/guest";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 0, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * console.log(decideKvmclock(info).reason); // "using MSRs 0x12 and 0x11 (KVM_FEATURE_CLOCKSOURCE)"
 * ```
 */
export function decideKvmclock(
  info: KvmGuestInfo | undefined,
  switches: KvmclockSwitches = {},
): FeatureDecision {
  const feature = "kvmclock";
  // [K] kvmclock_init: !kvm_para_available() || !kvmclock → return.
  if (info === undefined) return { feature, used: false, reason: "not running on KVM" };
  if (switches.noKvmclock) {
    return { feature, used: false, reason: "disabled by the no-kvmclock parameter" };
  }
  const msrs = kvmclockMsrs(info, switches);
  if (msrs === undefined) {
    return {
      feature,
      used: false,
      reason: "no KVM_FEATURE_CLOCKSOURCE2 (bit 3) or KVM_FEATURE_CLOCKSOURCE (bit 0)",
    };
  }
  const which = msrs.systemTime === MSR_KVM_SYSTEM_TIME_NEW
    ? "KVM_FEATURE_CLOCKSOURCE2"
    : "KVM_FEATURE_CLOCKSOURCE";
  return {
    feature,
    used: true,
    reason: `using MSRs 0x${msrs.systemTime.toString(16)} and 0x${
      msrs.wallClock.toString(16)
    } (${which})`,
  };
}

/**
 * The kvmclock predicate: true when the guest registers kvmclock at all.
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, kvmclockSupported } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 3, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * assertEquals(kvmclockSupported(info), true);
 * assertEquals(kvmclockSupported(info, { noKvmclock: true }), false);
 * ```
 */
export function kvmclockSupported(
  info: KvmGuestInfo | undefined,
  switches: KvmclockSwitches = {},
): boolean {
  return kvmclockMsrs(info, switches) !== undefined;
}

/**
 * The MSRs kvmclock_init picks, or `undefined` when kvmclock stays off.
 *
 * @example
 * ```ts
 * import { type KvmGuestInfo, kvmclockMsrs } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 0b1001, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * assertEquals(kvmclockMsrs(info), { systemTime: 0x4b564d01, wallClock: 0x4b564d00 });
 * ```
 */
export function kvmclockMsrs(
  info: KvmGuestInfo | undefined,
  switches: KvmclockSwitches = {},
): KvmclockMsrs | undefined {
  if (info === undefined || switches.noKvmclock) return undefined;
  // [K] kvmclock_init: prefer CLOCKSOURCE2; msr.rst's sample code tests the wrong bits.
  if (kvmParaHasFeature(info, KVM_FEATURE_CLOCKSOURCE2)) {
    return { systemTime: MSR_KVM_SYSTEM_TIME_NEW, wallClock: MSR_KVM_WALL_CLOCK_NEW };
  }
  if (kvmParaHasFeature(info, KVM_FEATURE_CLOCKSOURCE)) {
    return { systemTime: MSR_KVM_SYSTEM_TIME, wallClock: MSR_KVM_WALL_CLOCK };
  }
  return undefined;
}

/**
 * The clocksource rating kvmclock registers with: 400, or 299 when the TSC is invariant
 * (CONSTANT_TSC and NONSTOP_TSC) and not marked unstable, so the TSC wins.
 *
 * @example
 * ```ts
 * import { kvmclockRating } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * assertEquals(kvmclockRating({ constantTsc: true, nonstopTsc: true }), 299);
 * assertEquals(kvmclockRating({ constantTsc: true, nonstopTsc: false }), 400);
 * ```
 */
export function kvmclockRating(
  tsc: { constantTsc: boolean; nonstopTsc: boolean; tscUnstable?: boolean },
): number {
  // [K] kvmclock_init: rating 400, lowered to 299 for an invariant, stable TSC.
  return tsc.constantTsc && tsc.nonstopTsc && !tsc.tscUnstable ? 299 : 400;
}

/**
 * The pvclock global `last_value`: one per guest, shared by all its vCPUs, so clock reads
 * never go backwards across CPUs when the STABLE bit is not trusted.
 *
 * @example
 * ```ts
 * import { PvclockClamp } from "@pvkit/guest";
 * import { assertEquals } from "@std/assert";
 * const clamp = new PvclockClamp();
 * assertEquals(clamp.clamp(100n), 100n);
 * assertEquals(clamp.clamp(90n), 100n); // another CPU was behind: clamped
 * clamp.reset(); // pvclock_resume
 * assertEquals(clamp.clamp(90n), 90n);
 * ```
 */
export class PvclockClamp {
  #last = 0n;

  /** The largest value any vCPU has returned so far (u64). */
  get lastValue(): bigint {
    return this.#last;
  }

  /**
   * Returns `max(ret, last)` and raises `last` to it: the atomic64 cmpxchg loop of
   * pvclock_clocksource_read. The model runs one vCPU at a time, so the loop never retries.
   */
  clamp(ret: bigint): bigint {
    // [P] pvclock_clocksource_read: if (ret <= last) return last; else cmpxchg last ← ret.
    if (ret <= this.#last) return this.#last;
    this.#last = ret;
    return ret;
  }

  /** pvclock_resume: forget the last value (after suspend, the clock may restart lower). */
  reset(): void {
    this.#last = 0n;
  }
}

/**
 * One kvmclock read with what happened inside it.
 *
 * @example
 * ```ts
 * import type { KvmclockReading } from "@pvkit/guest";
 * const r: KvmclockReading = {
 *   ns: 100n, raw: 90n, clamped: true, stable: false, guestStopped: false, attempts: 1,
 * };
 * console.log(r.ns);
 * ```
 */
export interface KvmclockReading {
  /** What the clocksource returns (ns, u64). */
  readonly ns: bigint;
  /** This vCPU's own conversion, before the global clamp. */
  readonly raw: bigint;
  /** True when the global last value was returned instead of `raw`. */
  readonly clamped: boolean;
  /** True when the STABLE bit was trusted (so no clamp applied). */
  readonly stable: boolean;
  /** True when GUEST_STOPPED was seen (and cleared in guest memory). */
  readonly guestStopped: boolean;
  /** Tries of the version loop (1 when the first was consistent). */
  readonly attempts: number;
}

/**
 * Wall-clock time as a normalized timespec: seconds since 1970 and nanoseconds.
 *
 * @example
 * ```ts
 * import type { WallClockTime } from "@pvkit/guest";
 * const t: WallClockTime = { sec: 1_700_000_000n, nsec: 5 };
 * console.log(new Date(Number(t.sec) * 1000).toISOString());
 * ```
 */
export interface WallClockTime {
  /** Seconds since 1970. */
  readonly sec: bigint;
  /** Nanoseconds, 0..999999999. */
  readonly nsec: number;
}

/**
 * How to build a {@linkcode Kvmclock}.
 *
 * @example
 * ```ts
 * import { type KvmclockOptions, PvclockClamp } from "@pvkit/guest";
 * const opts: KvmclockOptions = { clamp: new PvclockClamp(), maxReadAttempts: 10 };
 * console.log(opts.maxReadAttempts);
 * ```
 */
export interface KvmclockOptions extends KvmclockSwitches {
  /** The guest's shared last-value clamp. Default: a new one. */
  readonly clamp?: PvclockClamp;
  /** Where to collect warnings (e.g. a WRMSR that raised #GP). Default: a new array. */
  readonly warnings?: string[];
  /** Version-loop tries before a read gives up (Linux spins forever). Default 1000. */
  readonly maxReadAttempts?: number;
}

/**
 * kvmclock for one guest: the MSR choice and `valid_flags` are global, the pvclock records
 * are per vCPU (registered by GPA), and the clamp is shared by every vCPU.
 *
 * @example
 * ```ts
 * import { Kvmclock, type KvmGuestInfo, ScriptedGuestCpu } from "@pvkit/guest";
 * import { publishPvclockVcpuTimeInfo } from "@pvkit/abi";
 * import { assertEquals } from "@std/assert";
 * const info: KvmGuestInfo = {
 *   base: 0x40000000, maxLeaf: 0x40000001, features: 1 << 3, hints: 0, possibleCpus: 1,
 *   mwait: false,
 * };
 * const cpu = new ScriptedGuestCpu({ tsc: 3000n });
 * const clock = new Kvmclock(info);
 * clock.register(cpu, 0x1000n);
 * assertEquals(cpu.msrWrites, [{ msr: 0x4b564d01, value: 0x1001n }]);
 * // The host publishes a 1 GHz record.
 * publishPvclockVcpuTimeInfo(cpu.memory, 0x1000n, {
 *   tscTimestamp: 1000n, systemTime: 50n, tscToSystemMul: 0x80000000, tscShift: 1, flags: 0,
 * });
 * assertEquals(clock.read(cpu), 2050n);
 * assertEquals(clock.tscKhz(cpu), 1_000_000n);
 * ```
 */
export class Kvmclock {
  /** The MSRs in use, or `undefined` when kvmclock is off. */
  readonly msrs: KvmclockMsrs | undefined;
  /** pvclock `valid_flags`: PVCLOCK_TSC_STABLE_BIT when bit 24 is present, else 0. */
  readonly validFlags: number;
  /** The guest-wide last-value clamp. */
  readonly clamp: PvclockClamp;
  /** Warnings collected (a faulting WRMSR continues, as in Linux). */
  readonly warnings: string[];
  readonly #maxAttempts: number;
  readonly #pvti = new Map<number, Gpa>();

  /** Chooses the MSRs and `valid_flags` from `info` (undefined: not on KVM, so off). */
  constructor(info: KvmGuestInfo | undefined, options: KvmclockOptions = {}) {
    this.msrs = kvmclockMsrs(info, options);
    // [K] kvmclock_init: pvclock_set_flags(PVCLOCK_TSC_STABLE_BIT) only with bit 24.
    this.validFlags = this.msrs !== undefined &&
        kvmParaHasFeature(info, KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)
      ? PVCLOCK_TSC_STABLE_BIT
      : 0;
    this.clamp = options.clamp ?? new PvclockClamp();
    this.warnings = options.warnings ?? [];
    this.#maxAttempts = options.maxReadAttempts ?? 1000;
  }

  /** True when kvmclock is in use. */
  get enabled(): boolean {
    return this.msrs !== undefined;
  }

  /** The pvclock record GPA registered for vCPU `index`, if any. */
  pvtiGpa(index: number): Gpa | undefined {
    return this.#pvti.get(index);
  }

  /**
   * kvm_register_clock: WRMSR(system-time MSR, `gpa` | 1) on `cpu`. Returns false (and
   * writes nothing) when kvmclock is off.
   *
   * Throws {@linkcode GuestMemoryError} when the 32-byte record is not in guest RAM.
   */
  register(cpu: GuestCpu, gpa: Gpa): boolean {
    if (this.msrs === undefined) return false;
    if (!cpu.memory.contains(gpa, PVCLOCK_VCPU_TIME_INFO_SIZE)) {
      throw new GuestMemoryError(gpa, PVCLOCK_VCPU_TIME_INFO_SIZE, cpu.memory.size);
    }
    this.#pvti.set(cpu.index, gpa);
    // [K] kvm_register_clock: pa | 0x01 (the enable bit).
    wrmsrUnchecked(cpu, this.msrs.systemTime, gpa | KVM_MSR_ENABLED, this.warnings);
    return true;
  }

  /**
   * kvmclock_disable (shutdown, kexec, crash, CPU offline): WRMSR(system-time MSR, 0), only
   * when kvmclock chose an MSR.
   */
  disable(cpu: GuestCpu): void {
    // [K] kvmclock_disable: if (msr_kvm_system_time) write 0.
    if (this.msrs === undefined) return;
    wrmsrUnchecked(cpu, this.msrs.systemTime, 0n, this.warnings);
  }

  /**
   * kvm_clock_read on `cpu`: the clocksource value in ns, the same as
   * {@linkcode readDetailed}`.ns`, on a path that allocates nothing in the common case (the
   * clock is read millions of times).
   */
  read(cpu: GuestCpu): bigint {
    const gpa = this.#requirePvti(cpu);
    const mem = cpu.memory;
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      // [P] pvclock_read_begin: v = version & ~1; rmb; fields; rmb; retry if version != v.
      const v = mem.readU32(gpa) & ~1;
      const tsc = cpu.rdtsc();
      const tscTimestamp = mem.readU64(gpa + AT_TSC_TIMESTAMP);
      const systemTime = mem.readU64(gpa + AT_SYSTEM_TIME);
      const mul = mem.readU32(gpa + AT_MUL);
      const shift = (mem.readU8(gpa + AT_SHIFT) << 24) >> 24;
      const flags = mem.readU8(gpa + AT_FLAGS);
      if (mem.readU32(gpa) !== v) continue;
      // GUEST_STOPPED needs the guest's write-back: the detailed path handles it.
      if ((flags & PVCLOCK_GUEST_STOPPED) !== 0) return this.readDetailed(cpu).ns;
      const ns = BigInt.asUintN(
        64,
        systemTime + pvclockScaleDelta(BigInt.asUintN(64, tsc - tscTimestamp), mul, shift),
      );
      return (this.validFlags & flags & PVCLOCK_TSC_STABLE_BIT) !== 0 ? ns : this.clamp.clamp(ns);
    }
    return this.readDetailed(cpu).ns; // reports the retry limit as readDetailed does
  }

  /**
   * pvclock_clocksource_read on `cpu`'s record: the version loop around RDTSC and the
   * conversion; clear GUEST_STOPPED in guest memory if set; return the raw value when the
   * STABLE bit is both valid and set, else clamp it against the guest-wide last value.
   *
   * Throws {@linkcode PvkitError} `"kvmclock-not-registered"` for a vCPU that never
   * registered, and `"pvclock-retry-limit"` when every try saw an odd or changing version.
   */
  readDetailed(cpu: GuestCpu): KvmclockReading {
    const gpa = this.#requirePvti(cpu);
    const mem = cpu.memory;
    const r = pvclockVersionedRead(mem, gpa, () => {
      // [P] __pvclock_read_cycles(src, rdtsc_ordered()): TSC first, then the fields.
      const tsc = cpu.rdtsc();
      const rec = readPvclockVcpuTimeInfo(mem, gpa);
      return { ns: pvclockReadCycles(rec, tsc), flags: rec.flags };
    }, this.#maxAttempts);
    const { ns: raw, flags } = this.#unwrap(r, cpu);
    const guestStopped = (flags & PVCLOCK_GUEST_STOPPED) !== 0;
    if (guestStopped) this.#clearGuestStopped(cpu, gpa);
    // [P] trust the record only if valid_flags and flags both have STABLE.
    if ((this.validFlags & flags & PVCLOCK_TSC_STABLE_BIT) !== 0) {
      return { ns: raw, raw, clamped: false, stable: true, guestStopped, attempts: r.attempts };
    }
    const ns = this.clamp.clamp(raw);
    return { ns, raw, clamped: ns !== raw, stable: false, guestStopped, attempts: r.attempts };
  }

  /** pvclock_read_flags: the record's flags (read in the version loop) & `validFlags`. */
  readFlags(cpu: GuestCpu): number {
    const gpa = this.#requirePvti(cpu);
    const flagsGpa = gpa + BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.flags);
    const r = pvclockVersionedRead(
      cpu.memory,
      gpa,
      () => cpu.memory.readU8(flagsGpa),
      this.#maxAttempts,
    );
    return this.#unwrap(r, cpu) & this.validFlags;
  }

  /**
   * kvm_check_and_clear_guest_paused: if `cpu`'s record has GUEST_STOPPED, clear it in guest
   * memory and return true (the watchdogs are touched). False when kvmclock is off.
   */
  checkAndClearGuestPaused(cpu: GuestCpu): boolean {
    const gpa = this.#pvti.get(cpu.index);
    if (gpa === undefined) return false;
    const flags = cpu.memory.readU8(gpa + BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.flags));
    if ((flags & PVCLOCK_GUEST_STOPPED) === 0) return false;
    this.#clearGuestStopped(cpu, gpa);
    return true;
  }

  /**
   * kvm_get_tsc_khz: the TSC frequency from `cpu`'s record (pvclock_tsc_khz, no version
   * loop), as the guest's `unsigned long` (u32 on a 32-bit guest).
   */
  tscKhz(cpu: GuestCpu): bigint {
    const rec = readPvclockVcpuTimeInfo(cpu.memory, this.#requirePvti(cpu));
    return BigInt.asUintN(cpu.longMode ? 64 : 32, pvclockTscKhz(rec.tscToSystemMul, rec.tscShift));
  }

  /**
   * kvm_get_wallclock: WRMSR(wall-clock MSR, `gpa`) so the host fills the record, read
   * {sec, nsec} with the retry-while-odd-or-changed loop, add this vCPU's kvmclock
   * (pvclock_read_wallclock), and normalize (all u64, like the C code).
   *
   * Throws {@linkcode PvkitError} `"kvmclock-off"` when kvmclock is not in use (Linux then
   * keeps the CMOS wall clock), and the errors of {@linkcode readDetailed}.
   */
  wallClock(cpu: GuestCpu, gpa: Gpa): WallClockTime {
    if (this.msrs === undefined) {
      throw new PvkitError(
        "kvmclock-off",
        "the kvmclock wall clock is not available: kvmclock is not in use",
        "advertise KVM_FEATURE_CLOCKSOURCE2 (bit 3) or CLOCKSOURCE (bit 0), without no-kvmclock",
      );
    }
    if (!cpu.memory.contains(gpa, PVCLOCK_WALL_CLOCK_SIZE)) {
      throw new GuestMemoryError(gpa, PVCLOCK_WALL_CLOCK_SIZE, cpu.memory.size);
    }
    wrmsrUnchecked(cpu, this.msrs.wallClock, gpa, this.warnings);
    const mem = cpu.memory;
    const r = seqVersionedRead(mem, gpa + BigInt(PVCLOCK_WALL_CLOCK_OFFSETS.version), () => ({
      sec: mem.readU32(gpa + BigInt(PVCLOCK_WALL_CLOCK_OFFSETS.sec)),
      nsec: mem.readU32(gpa + BigInt(PVCLOCK_WALL_CLOCK_OFFSETS.nsec)),
    }), this.#maxAttempts);
    const boot = this.#unwrap(r, cpu);
    // [P] pvclock_read_wallclock: delta = clock + sec * NSEC_PER_SEC + nsec, then split.
    const delta = BigInt.asUintN(
      U64,
      this.read(cpu) + BigInt(boot.sec) * NSEC_PER_SEC + BigInt(boot.nsec),
    );
    return { sec: delta / NSEC_PER_SEC, nsec: Number(delta % NSEC_PER_SEC) };
  }

  #requirePvti(cpu: GuestCpu): Gpa {
    const gpa = this.#pvti.get(cpu.index);
    if (gpa === undefined) {
      throw new PvkitError(
        "kvmclock-not-registered",
        `vCPU ${cpu.index} has no kvmclock record registered`,
        this.msrs === undefined
          ? "kvmclock is off for this guest"
          : "call register(cpu, gpa) on that vCPU first",
      );
    }
    return gpa;
  }

  #unwrap<T>(r: SeqReadResult<T>, cpu: GuestCpu): T {
    if (r.kind === "ok") return r.value;
    throw new PvkitError(
      "pvclock-retry-limit",
      `vCPU ${cpu.index}: gave up after ${r.attempts} reads that all saw an odd or changing ` +
        `version (last ${r.version})`,
      "the host must finish its update with an even version",
    );
  }

  #clearGuestStopped(cpu: GuestCpu, gpa: Gpa): void {
    // [P] src->flags &= ~PVCLOCK_GUEST_STOPPED: a read-modify-write of the shared byte.
    const at = gpa + BigInt(PVCLOCK_VCPU_TIME_INFO_OFFSETS.flags);
    cpu.memory.writeU8(at, cpu.memory.readU8(at) & ~PVCLOCK_GUEST_STOPPED);
  }
}
