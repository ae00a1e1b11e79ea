import { assertEquals } from "@std/assert";
import { flushTlbMulti, nativeFlushTlbMulti } from "./pv_tlb_flush.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { HookedMemory } from "./_fake_cpu.ts";

const targets = [0, 1, 2, 3].map((i) => ({ apicId: i, stealGpa: 0x2000n + BigInt(64 * i) }));
const preemptedAt = (i: number): bigint => 0x2010n + BigInt(64 * i);

Deno.test("flushTlbMulti: preempted targets get FLUSH_TLB instead of an IPI", () => {
  const mem = new HookedMemory(0x10000);
  const cpu = new ScriptedGuestCpu({ memory: mem, apicId: 0 });
  mem.writeU8(preemptedAt(1), 0x01); // preempted
  mem.writeU8(preemptedAt(2), 0x02); // only FLUSH_TLB: not preempted → IPI
  mem.writeU8(preemptedAt(3), 0x03); // preempted, already asked: cmpxchg 3 → 3
  const r = flushTlbMulti(cpu, targets);
  assertEquals(r, { ipis: [2], skipped: [1, 3], localFlush: true });
  assertEquals(cpu.ipis, [{ dest: 2, vector: 0xfc, nmi: false }]);
  assertEquals([1, 2, 3].map((i) => mem.readU8(preemptedAt(i))), [0x03, 0x02, 0x03]);
});

Deno.test("flushTlbMulti: a lost cmpxchg (the host ran the vCPU meanwhile) sends the IPI", () => {
  const mem = new HookedMemory(0x10000);
  const cpu = new ScriptedGuestCpu({ memory: mem, apicId: 0 });
  mem.writeU8(preemptedAt(1), 0x01);
  // Between READ_ONCE and the cmpxchg, the host enters vCPU 1 and clears the byte.
  mem.onRead = (gpa, n) => {
    if (gpa === preemptedAt(1) && n === 1) mem.writeU8(gpa, 0);
  };
  const r = flushTlbMulti(cpu, targets.slice(1, 2));
  assertEquals(r, { ipis: [1], skipped: [], localFlush: false });
  assertEquals(mem.readU8(preemptedAt(1)), 0);
});

Deno.test("flushTlbMulti: the remaining IPIs go through the given sender", () => {
  const cpu = new ScriptedGuestCpu({ apicId: 3 });
  const sent: [number[], number][] = [];
  flushTlbMulti(cpu, targets, (_c, ids, v) => sent.push([ids, v]));
  assertEquals(sent, [[[0, 1, 2], 0xfc]]);
  assertEquals(cpu.ipis, []);
});

Deno.test("nativeFlushTlbMulti: every remote target gets an IPI", () => {
  const cpu = new ScriptedGuestCpu({ apicId: 9 });
  assertEquals(nativeFlushTlbMulti(cpu, [1, 2]), { ipis: [1, 2], skipped: [], localFlush: false });
  assertEquals(nativeFlushTlbMulti(cpu, []).ipis, []);
  assertEquals(cpu.ipis.length, 2);
});
