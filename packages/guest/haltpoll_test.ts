import { assertEquals } from "@std/assert";
import { Haltpoll } from "./haltpoll.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, info } from "./_fake_cpu.ts";

const RT = { hints: 1 };

Deno.test("Haltpoll: enable writes 0 (host polling off), disable writes 1", () => {
  const cpu = new ScriptedGuestCpu();
  const hp = new Haltpoll(info(bits(12), RT));
  assertEquals([hp.loaded, hp.active], [true, true]);
  hp.enable(cpu);
  hp.disable(cpu);
  assertEquals(cpu.msrWrites, [{ msr: 0x4b564d05, value: 0n }, { msr: 0x4b564d05, value: 1n }]);
});

Deno.test("Haltpoll: loaded without bit 12 warns and writes nothing", () => {
  const cpu = new ScriptedGuestCpu();
  const hp = new Haltpoll(info(0), { force: true });
  assertEquals([hp.loaded, hp.active], [true, false]);
  hp.enable(cpu);
  hp.disable(cpu);
  assertEquals(cpu.log, []);
  assertEquals(hp.warnings.length, 1);
});

Deno.test("Haltpoll: not loaded (no REALTIME/force, or idle=) does nothing", () => {
  for (
    const hp of [
      new Haltpoll(info(bits(12))),
      new Haltpoll(info(bits(12), RT), { idleOverride: true }),
    ]
  ) {
    const cpu = new ScriptedGuestCpu();
    hp.enable(cpu);
    hp.disable(cpu);
    assertEquals([hp.loaded, cpu.log], [false, []]);
  }
});

Deno.test("Haltpoll.suspend/resume: restore guest polling only if it was on", () => {
  const hp = new Haltpoll(info(bits(12), RT));
  const on = new ScriptedGuestCpu();
  hp.enable(on); // MSR = 0: guest polling
  hp.suspend(on);
  hp.resume(on);
  assertEquals(on.msrWrites.map((w) => w.value), [0n, 0n]);

  const off = new ScriptedGuestCpu({ index: 1 });
  off.msrs.set(0x4b564d05, 1n); // host default
  hp.suspend(off);
  hp.resume(off);
  assertEquals(off.msrWrites, []);
});

Deno.test("Haltpoll.suspend: a #GP on RDMSR reads 0 (so restore writes 0), with a warning", () => {
  const hp = new Haltpoll(info(bits(12), RT));
  const cpu = new ScriptedGuestCpu({ gpMsrs: [0x4b564d05] });
  hp.suspend(cpu);
  hp.resume(cpu);
  assertEquals(hp.warnings.length, 2); // the RDMSR and the WRMSR
});

Deno.test("Haltpoll.suspend without bit 12: nothing read, nothing restored", () => {
  const hp = new Haltpoll(info(0, RT));
  const cpu = new ScriptedGuestCpu();
  hp.suspend(cpu);
  hp.resume(cpu);
  assertEquals(cpu.log, []);
});
