import { assertEquals } from "@std/assert";
import { ArrayGuestMemory } from "@pvkit/machine";
import { kick, PvSpinlock, wait } from "./pv_spinlock.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, info } from "./_fake_cpu.ts";

Deno.test("kick: KICK_CPU(flags 0, APIC ID)", () => {
  const cpu = new ScriptedGuestCpu({ onHypercall: () => 0n });
  assertEquals(kick(cpu, 300), 0n);
  assertEquals(cpu.hypercalls, [{ nr: 5, args: [0n, 300n, 0n, 0n], ret: 0n }]);
});

Deno.test("wait: halts while the byte still holds the value, re-checking after each wake", () => {
  const mem = new ArrayGuestMemory(64);
  mem.writeU8(8n, 3);
  const w = wait(mem, 8n, 3);
  assertEquals(w.next(), { done: false, value: { kind: "hlt" } });
  assertEquals(w.next(), { done: false, value: { kind: "hlt" } }); // spurious wake: still 3
  mem.writeU8(8n, 0);
  assertEquals(w.next(), { done: true, value: 2 });
});

Deno.test("wait: no halt when the value already changed, or in NMI context", () => {
  const mem = new ArrayGuestMemory(64);
  mem.writeU8(8n, 1);
  assertEquals(wait(mem, 8n, 3).next(), { done: true, value: 0 });
  assertEquals(wait(mem, 8n, 1, { inNmi: true }).next(), { done: true, value: 0 });
});

Deno.test("PvSpinlock: inactive means native qspinlock: no kick, no halt", () => {
  const mem = new ArrayGuestMemory(64);
  mem.writeU8(8n, 1);
  const cpu = new ScriptedGuestCpu({ memory: mem });
  for (
    const lock of [
      new PvSpinlock(info(0)),
      new PvSpinlock(info(bits(7), { hints: 1 })),
      new PvSpinlock(info(bits(7), { possibleCpus: 1 })),
      new PvSpinlock(info(bits(7)), { nopvspin: true }),
      new PvSpinlock(undefined),
    ]
  ) {
    assertEquals(lock.active, false);
    assertEquals(lock.kick(cpu, 1), undefined);
    assertEquals(lock.wait(mem, 8n, 1).next(), { done: true, value: 0 });
  }
  assertEquals(cpu.log.length, 0);
  const on = new PvSpinlock(info(bits(7)));
  assertEquals(on.wait(mem, 8n, 1).next().value, { kind: "hlt" });
  assertEquals(on.kick(cpu, 2), 0n);
});
