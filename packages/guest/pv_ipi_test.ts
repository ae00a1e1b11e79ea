import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  APIC_DM_NMI,
  kvmIpiClusterSize,
  nativeIpiSender,
  type PvIpiCall,
  pvIpiIcr,
  sendIpiMask,
  sendIpiMaskAllButSelf,
} from "./pv_ipi.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { Xorshift32 } from "./_fake_cpu.ts";

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;

/** What KVM's kvm_pv_send_ipi would target: bit i of a0 → min+i, of a1 → min+BITS_PER_LONG+i. */
function decode(calls: readonly PvIpiCall[], longBits: number): number[] {
  const ids: number[] = [];
  for (const c of calls) {
    for (let i = 0; i < longBits; i++) {
      if ((c.low >> BigInt(i)) & 1n) ids.push(c.min + i);
      if ((c.high >> BigInt(i)) & 1n) ids.push(c.min + longBits + i);
    }
  }
  return ids.sort((a, b) => a - b);
}

Deno.test("sendIpiMask 64-bit: APIC IDs 0..300 → 3 hypercalls, 128-wide windows", () => {
  const cpu = new ScriptedGuestCpu({
    onHypercall: (_nr, a) => BigInt(popcount(a[0]) + popcount(a[1])),
  });
  const r = sendIpiMask(cpu, range(0, 300), 0xfd);
  assertEquals(r.hypercalls, 3);
  assertEquals(r.calls.map((c) => [c.low, c.high, c.min, c.icr]), [
    [ones(64), ones(64), 0, 0xfd],
    [ones(64), ones(64), 128, 0xfd],
    [ones(45), 0n, 256, 0xfd], // 256..300
  ]);
  assertEquals(r.delivered, 301n);
  assertEquals(r.warnings, []);
  // Exactly what went into the registers: nr 10, a0 low, a1 high, a2 min, a3 icr.
  assertEquals(cpu.hypercalls[1], { nr: 10, args: [ones(64), ones(64), 128n, 0xfdn], ret: 128n });
});

Deno.test("sendIpiMask 32-bit: 64-wide windows of two 32-bit longs", () => {
  const cpu = new ScriptedGuestCpu({ longMode: false });
  const r = sendIpiMask(cpu, range(0, 300), 0xfd);
  assertEquals(r.hypercalls, 5);
  assertEquals(r.calls.map((c) => c.min), [0, 64, 128, 192, 256]);
  assertEquals([r.calls[0].low, r.calls[0].high], [ones(32), ones(32)]);
  assertEquals([r.calls[4].low, r.calls[4].high], [ones(32), ones(13)]); // 256..300 = 45 IDs
  for (const c of cpu.hypercalls) for (const a of c.args) assertEquals(a <= 0xffffffffn, true);
});

Deno.test("kvmIpiClusterSize is 2 × BITS_PER_LONG", () => {
  assertEquals(kvmIpiClusterSize(true), 128);
  assertEquals(kvmIpiClusterSize(false), 64);
});

Deno.test("sendIpiMask: a lower ID slides the window down while the max still fits", () => {
  const cpu = new ScriptedGuestCpu();
  const down = sendIpiMask(cpu, [10, 5, 3], 0x30);
  assertEquals(down.calls.map((c) => [c.low, c.min]), [[(1n << 0n) | (1n << 2n) | (1n << 7n), 3]]);
  // 200 then 100: 200 - 100 < 128, one call with min 100; bit 100 is in the high long.
  const slide = sendIpiMask(cpu, [200, 100], 0x30);
  assertEquals(slide.calls.map((c) => [c.low, c.high, c.min]), [[1n, 1n << 36n, 100]]);
  // 200 then 50: too far apart, two calls.
  assertEquals(sendIpiMask(cpu, [200, 50], 0x30).calls.map((c) => c.min), [200, 50]);
  // 0, 127, 128: 128 is outside [0, 128).
  assertEquals(sendIpiMask(cpu, [0, 127, 128], 0x30).calls.map((c) => c.min), [0, 128]);
});

Deno.test("sendIpiMask: NMI_VECTOR becomes APIC_DM_NMI, anything else FIXED | vector", () => {
  assertEquals(pvIpiIcr(2), APIC_DM_NMI);
  assertEquals(pvIpiIcr(0xfc), 0xfc);
  const cpu = new ScriptedGuestCpu();
  assertEquals(sendIpiMask(cpu, [1, 2], 2).calls[0].icr, 0x400);
});

Deno.test("sendIpiMask: a negative return is collected as a warning, and summed", () => {
  let n = 0;
  const cpu = new ScriptedGuestCpu({ onHypercall: () => (n++ === 0 ? -22n : 5n) });
  const r = sendIpiMask(cpu, [0, 500], 0xfd);
  assertEquals(r.hypercalls, 2);
  assertEquals(r.delivered, -17n);
  assertEquals(r.warnings, ["kvm-guest: failed to send PV IPI: -22"]);
});

Deno.test("sendIpiMask: an empty mask sends nothing; bad APIC IDs are refused", () => {
  const cpu = new ScriptedGuestCpu();
  assertEquals(sendIpiMask(cpu, [], 0xfd), {
    hypercalls: 0,
    delivered: 0n,
    calls: [],
    warnings: [],
  });
  assertEquals(cpu.log.length, 0);
  assertEquals(
    assertThrows(() => sendIpiMask(cpu, [-1], 0xfd), PvkitError).code,
    "invalid-apic-id",
  );
});

Deno.test("sendIpiMaskAllButSelf drops the sender's APIC ID", () => {
  const cpu = new ScriptedGuestCpu({ apicId: 64 });
  const r = sendIpiMaskAllButSelf(cpu, range(0, 127), 0xfd);
  assertEquals(decode(r.calls, 64), range(0, 127).filter((i) => i !== 64));
});

Deno.test("sendIpiMask: the host's decode of the bitmaps is the mask (random masks, both widths)", () => {
  const rng = new Xorshift32(0x5eed);
  for (const longMode of [true, false]) {
    const cpu = new ScriptedGuestCpu({ longMode });
    for (let round = 0; round < 200; round++) {
      const set = new Set<number>();
      const spread = [16, 200, 5000, 40000][rng.below(4)];
      const n = 1 + rng.below(Math.min(40, spread));
      while (set.size < n) set.add(rng.below(spread));
      const ids = [...set]; // in random "CPU" order
      const r = sendIpiMask(cpu, ids, 0xfd);
      assertEquals(decode(r.calls, longMode ? 64 : 32), [...set].sort((a, b) => a - b));
      for (const c of r.calls) {
        assertEquals(c.low < 1n << (longMode ? 64n : 32n), true);
        assertEquals(c.high < 1n << (longMode ? 64n : 32n), true);
      }
    }
  }
});

Deno.test("nativeIpiSender: one ICR write per destination, NMI for NMI_VECTOR", () => {
  const cpu = new ScriptedGuestCpu();
  nativeIpiSender(cpu, [1, 2], 0xfd);
  nativeIpiSender(cpu, [3], 2);
  assertEquals(cpu.ipis, [
    { dest: 1, vector: 0xfd, nmi: false },
    { dest: 2, vector: 0xfd, nmi: false },
    { dest: 3, vector: 2, nmi: true },
  ]);
});

function popcount(v: bigint): number {
  let n = 0;
  for (; v > 0n; v >>= 1n) n += Number(v & 1n);
  return n;
}
