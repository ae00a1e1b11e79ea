// Benchmarks of the kvmclock hot path. The emulated backend needs at least 2 million
// kvmclock reads per second (record read from guest memory + scale).
//
// The "alternative" bench keeps the float fast path that pvclock.ts considered and rejected:
// converting bigint operands to numbers and back costs more in V8 than it saves.

import { ArrayGuestMemory } from "@pvkit/machine";
import { kvmGetTimeScale, pvclockReadCycles, pvclockScaleDelta } from "./pvclock.ts";
import { readPvclockVcpuTimeInfo } from "./pvclock_vcpu_time_info.ts";
import { publishPvclockVcpuTimeInfo, readPvclockVcpuTimeInfoConsistent } from "./seqlock.ts";

const GPA = 0x1000n;
const mem = new ArrayGuestMemory(0x10000);
const { shift, mul } = kvmGetTimeScale(1_000_000_000n, 2_600_000_000n); // 2.6 GHz TSC
publishPvclockVcpuTimeInfo(mem, GPA, {
  tscTimestamp: 123_456_789_000n,
  systemTime: 47_000_000_000n,
  tscToSystemMul: mul,
  tscShift: shift,
  flags: 1,
});
const RECORD = readPvclockVcpuTimeInfo(mem, GPA);

// Sinks the optimiser cannot drop; each bench advances the TSC like a running guest.
let sink = 0n;
let tsc = 123_456_789_000n;
let bigDelta = 0xffff_ffff_0000_0000n;

/** The rejected float path's core: exact while every value is an integer below 2^53. */
function scaleNumber(d: number, m: number, s: number): number {
  d = s < 0 ? Math.floor(d / 2 ** -s) : d * 2 ** s;
  const hi = Math.floor(d / 4294967296);
  const lo = d - hi * 4294967296;
  const mLo = m & 0xffff;
  const mHi = (m - mLo) / 65536;
  return hi * m + Math.floor((lo * mHi + Math.floor((lo * mLo) / 65536)) / 65536);
}

/** The rejected float pvclockScaleDelta: one bigint → number conversion and one back. */
function scaleDeltaViaNumbers(delta: bigint, m: number, s: number): bigint {
  return BigInt(scaleNumber(Number(delta), m, s));
}

/** The rejected float pvclockReadCycles: three bigint → number conversions and one back. */
function readCyclesViaNumbers(r: typeof RECORD, t: bigint): bigint {
  const delta = Number(t) - Number(r.tscTimestamp);
  return BigInt(Number(r.systemTime) + scaleNumber(delta, r.tscToSystemMul, r.tscShift));
}

Deno.bench({
  name: "baseline: advance the TSC (tsc += 1013n)",
  group: "baseline",
  baseline: true,
  fn() {
    tsc += 1013n;
    sink ^= tsc;
  },
});

Deno.bench({
  name: "baseline: ArrayGuestMemory.readU64",
  group: "baseline",
  fn() {
    sink ^= mem.readU64(GPA + 8n);
  },
});

Deno.bench({
  name: "baseline: ArrayGuestMemory.readBytes(32) (allocates)",
  group: "baseline",
  fn() {
    sink ^= BigInt(mem.readBytes(GPA, 32)[0]);
  },
});

Deno.bench({
  name: "pvclockScaleDelta: typical delta (2.6 GHz, shift -1)",
  group: "scale",
  baseline: true,
  fn() {
    tsc += 1013n;
    sink ^= pvclockScaleDelta(tsc, mul, shift);
  },
});

Deno.bench({
  name: "pvclockScaleDelta: delta near 2^64",
  group: "scale",
  fn() {
    bigDelta += 1013n;
    sink ^= pvclockScaleDelta(bigDelta, mul, shift);
  },
});

Deno.bench({
  name: "alternative: float path with bigint conversions (rejected)",
  group: "scale",
  fn() {
    tsc += 1013n;
    sink ^= scaleDeltaViaNumbers(tsc, mul, shift);
  },
});

Deno.bench({
  name: "kvmclock read: readPvclockVcpuTimeInfo + pvclockReadCycles",
  group: "kvmclock",
  baseline: true,
  fn() {
    tsc += 1013n;
    sink ^= pvclockReadCycles(readPvclockVcpuTimeInfo(mem, GPA), tsc);
  },
});

Deno.bench({
  name: "kvmclock read: guest version loop + pvclockReadCycles",
  group: "kvmclock",
  fn() {
    tsc += 1013n;
    const r = readPvclockVcpuTimeInfoConsistent(mem, GPA);
    if (r.kind === "ok") sink ^= pvclockReadCycles(r.value, tsc);
  },
});

Deno.bench({
  name: "pvclockReadCycles on an already decoded record",
  group: "readCycles",
  baseline: true,
  fn() {
    tsc += 1013n;
    sink ^= pvclockReadCycles(RECORD, tsc);
  },
});

Deno.bench({
  name: "alternative: float readCycles with bigint conversions (rejected)",
  group: "readCycles",
  fn() {
    tsc += 1013n;
    sink ^= readCyclesViaNumbers(RECORD, tsc);
  },
});

Deno.bench({
  name: "host update: publishPvclockVcpuTimeInfo",
  group: "host",
  fn() {
    tsc += 1013n;
    publishPvclockVcpuTimeInfo(mem, GPA, {
      tscTimestamp: tsc,
      systemTime: 47_000_000_000n,
      tscToSystemMul: mul,
      tscShift: shift,
      flags: 1,
    });
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === -1n) console.log(sink);
});
