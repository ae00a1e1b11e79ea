import { assertEquals, assertThrows } from "@std/assert";
import { accumulateStealTime } from "@pvkit/abi";
import { PvkitError } from "@pvkit/machine";
import { readStealClock, StealTime, vcpuIsPreempted } from "./steal_time.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, HookedMemory, info } from "./_fake_cpu.ts";

Deno.test("StealTime.enable zeroes the 64-byte record, then WRMSR(0x4b564d03, pa | 1)", () => {
  const cpu = new ScriptedGuestCpu();
  cpu.memory.writeBytes(0x2000n, new Uint8Array(64).fill(0xaa));
  cpu.memory.writeU8(0x2040n, 0x55); // the byte after the record is not touched
  const st = new StealTime(info(bits(5)));
  assertEquals(st.enable(cpu, 0x2000n), true);
  assertEquals(cpu.memory.readBytes(0x2000n, 64), new Uint8Array(64));
  assertEquals(cpu.memory.readU8(0x2040n), 0x55);
  assertEquals(cpu.msrWrites, [{ msr: 0x4b564d03, value: 0x2001n }]);
  st.disable(cpu);
  assertEquals(cpu.msrWrites.at(-1), { msr: 0x4b564d03, value: 0n });
});

Deno.test("StealTime without bit 5: no zeroing, no MSR, never preempted", () => {
  const cpu = new ScriptedGuestCpu();
  cpu.memory.writeU8(0x2010n, 1);
  const st = new StealTime(info(bits(3)));
  assertEquals(st.enable(cpu, 0x2000n), false);
  st.disable(cpu);
  assertEquals(cpu.log.length, 0);
  assertEquals(st.isPreempted(cpu, 0), false);
  assertEquals(assertThrows(() => st.steal(cpu), PvkitError).code, "steal-time-not-registered");
});

Deno.test("StealTime.enable: the record must be 64-byte aligned", () => {
  const st = new StealTime(info(bits(5)));
  const e = assertThrows(() => st.enable(new ScriptedGuestCpu(), 0x2020n), PvkitError);
  assertEquals(e.code, "misaligned-steal-time");
});

Deno.test("StealTime.steal reads any vCPU's record", () => {
  const mem = new HookedMemory(0x10000);
  const c0 = new ScriptedGuestCpu({ index: 0, memory: mem });
  const c1 = new ScriptedGuestCpu({ index: 1, memory: mem });
  const st = new StealTime(info(bits(5)));
  st.enable(c0, 0x2000n);
  st.enable(c1, 0x2040n);
  accumulateStealTime(mem, 0x2040n, 777n);
  assertEquals(st.steal(c0, 1), 777n);
  assertEquals(st.steal(c1), 777n);
  assertEquals(st.steal(c0), 0n);
});

Deno.test("readStealClock: retries while the version is odd, or changed under the read", () => {
  const mem = new HookedMemory(0x1000);
  accumulateStealTime(mem, 0x40n, 100n); // version 2
  mem.writeU32(0x48n, 3); // odd
  mem.onRead = (gpa, n) => {
    if (gpa !== 0x48n) return;
    if (n === 2) mem.writeU32(0x48n, 4); // even now, but changes while read
    if (n === 3) {
      mem.writeU64(0x40n, 150n);
      mem.writeU32(0x48n, 6);
    }
  };
  // try 1: v=3 (odd) → retry; try 2: v=4, after=6 → changed, retry; try 3: v=6, after=6.
  assertEquals(readStealClock(mem, 0x40n), 150n);
});

Deno.test("readStealClock: an odd version forever gives steal-time-retry-limit", () => {
  const mem = new HookedMemory(0x1000);
  mem.writeU32(0x48n, 1);
  const e = assertThrows(() => readStealClock(mem, 0x40n, 3), PvkitError);
  assertEquals(e.code, "steal-time-retry-limit");
});

Deno.test("vcpuIsPreempted: x86-64 tests the byte, 32-bit tests bit 0", () => {
  for (let b = 0; b < 256; b++) {
    assertEquals(vcpuIsPreempted({ preempted: b }), b !== 0);
    assertEquals(vcpuIsPreempted({ preempted: b }, false), (b & 1) === 1);
  }
  const mem = new HookedMemory(0x10000);
  const c64 = new ScriptedGuestCpu({ memory: mem });
  const c32 = new ScriptedGuestCpu({ index: 1, memory: mem, longMode: false });
  const st = new StealTime(info(bits(5)));
  st.enable(c64, 0x2000n);
  mem.writeU8(0x2010n, 2); // FLUSH_TLB only
  assertEquals(st.isPreempted(c64, 0), true);
  assertEquals(st.isPreempted(c32, 0), false);
});

Deno.test("StealTime: a #GP on the MSR is a warning and registration continues", () => {
  const cpu = new ScriptedGuestCpu({ gpMsrs: [0x4b564d03] });
  const warnings: string[] = [];
  const st = new StealTime(info(bits(5)), { warnings });
  st.enable(cpu, 0x2000n);
  assertEquals(warnings.length, 1);
  assertEquals(st.recordGpa(0), 0x2000n);
});
