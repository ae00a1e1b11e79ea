import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { AsyncPf, asyncPfEnableValue } from "./async_pf.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, HookedMemory, info } from "./_fake_cpu.ts";

const APF = 0x4000n;

function setup(features = bits(14)): {
  mem: HookedMemory;
  c0: ScriptedGuestCpu;
  c1: ScriptedGuestCpu;
  apf: AsyncPf;
} {
  const mem = new HookedMemory(0x10000);
  const c0 = new ScriptedGuestCpu({ index: 0, memory: mem });
  const c1 = new ScriptedGuestCpu({ index: 1, memory: mem });
  const apf = new AsyncPf(info(features));
  apf.enable(c0, APF);
  apf.enable(c1, APF + 0x40n);
  c0.clearLog();
  c1.clearLog();
  return { mem, c0, c1, apf };
}

Deno.test("AsyncPf.enable: INT vector 0xF3 first, then EN = pa | ENABLED | AS_INT", () => {
  const cpu = new ScriptedGuestCpu();
  new AsyncPf(info(bits(4, 14))).enable(cpu, APF);
  assertEquals(cpu.msrWrites, [
    { msr: 0x4b564d06, value: 0xf3n },
    { msr: 0x4b564d02, value: 0x4009n },
  ]);
});

Deno.test("AsyncPf.enable: with bit 10 also DELIVERY_AS_PF_VMEXIT; never SEND_ALWAYS", () => {
  const cpu = new ScriptedGuestCpu();
  new AsyncPf(info(bits(10, 14))).enable(cpu, APF);
  assertEquals(cpu.msrWrites[1], { msr: 0x4b564d02, value: 0x400dn });
  assertEquals(asyncPfEnableValue(info(bits(14)), 0x1000n) & 2n, 0n);
});

Deno.test("AsyncPf: no bit 14 or no-kvmapf: no MSR writes, faults are ordinary", () => {
  for (const apf of [new AsyncPf(info(bits(4))), new AsyncPf(info(bits(14)), { noKvmapf: true })]) {
    const cpu = new ScriptedGuestCpu();
    assertEquals(apf.enable(cpu, APF), false);
    cpu.memory.writeU32(APF, 1);
    assertEquals(apf.onPageFault(cpu, 0x1001), { kind: "not-async" });
    assertEquals(cpu.memory.readU32(APF), 1); // not enabled: flags untouched
    apf.disable(cpu);
    assertEquals(cpu.msrWrites, []);
  }
});

Deno.test("AsyncPf token flow: not present → sleep; page ready → EOI, wake, token = 0, ACK", () => {
  const { mem, c0, apf } = setup();
  mem.writeU32(APF, 1); // host: flags = PAGE_NOT_PRESENT, #PF with CR2 = token
  assertEquals(apf.onPageFault(c0, 0x1000), { kind: "sleep", token: 0x1000 });
  assertEquals(mem.readU32(APF), 0); // guest cleared flags
  assertEquals(apf.sleepers, [{ token: 0x1000, cpu: 0, dummy: false }]);

  mem.writeU32(APF + 4n, 0x1000); // host: token, then the 0xF3 interrupt
  const r = apf.onPageReadyInterrupt(c0);
  assertEquals(r, { token: 0x1000, woken: [0x1000], dummyQueued: false });
  assertEquals(mem.readU32(APF + 4n), 0);
  assertEquals(c0.log.map((e) => e.kind), ["eoi", "wrmsr"]); // EOI first, ACK last
  assertEquals(c0.msrWrites, [{ msr: 0x4b564d07, value: 1n }]);
  assertEquals(apf.sleepers, []);
});

Deno.test("AsyncPf: flags 0 is an ordinary #PF", () => {
  const { c0, apf } = setup();
  assertEquals(apf.onPageFault(c0, 0x1000), { kind: "not-async" });
  assertEquals(apf.sleepers, []);
});

Deno.test("AsyncPf: page ready before the #PF queues a placeholder; the #PF then does not sleep", () => {
  const { mem, c0, c1, apf } = setup();
  mem.writeU32(APF + 0x44n, 0x2001); // ready for a token on vCPU 1 first
  assertEquals(apf.onPageReadyInterrupt(c1), { token: 0x2001, woken: [], dummyQueued: true });
  assertEquals(apf.sleepers, [{ token: 0x2001, cpu: 1, dummy: true }]);
  mem.writeU32(APF, 1);
  assertEquals(apf.onPageFault(c0, 0x2001), { kind: "already-ready", token: 0x2001 });
  assertEquals(apf.sleepers, []);
});

Deno.test("AsyncPf: token 0xFFFFFFFF wakes every waiter of this vCPU only", () => {
  const { mem, c0, c1, apf } = setup();
  for (
    const [cpu, area, token] of [[c0, APF, 0x1000], [c0, APF, 0x2000], [
      c1,
      APF + 0x40n,
      0x1001,
    ]] as const
  ) {
    mem.writeU32(area, 1);
    apf.onPageFault(cpu, token);
  }
  mem.writeU32(APF + 4n, 0xffffffff);
  assertEquals(apf.onPageReadyInterrupt(c0).woken, [0x1000, 0x2000]);
  assertEquals(apf.sleepers, [{ token: 0x1001, cpu: 1, dummy: false }]);
  assertEquals(apf.wakeAll(c1), [0x1001]);
});

Deno.test("AsyncPf: a #PF with interrupts off or in kernel mode panics; odd flags warn", () => {
  const { mem, c0, apf } = setup();
  mem.writeU32(APF, 1);
  assertEquals(apf.onPageFault(c0, 1, { interruptsEnabled: false }).kind, "panic");
  mem.writeU32(APF, 1);
  assertEquals(apf.onPageFault(c0, 1, { userMode: false }), {
    kind: "panic",
    reason: "Host injected async #PF in kernel mode",
  });
  mem.writeU32(APF, 2);
  assertEquals(apf.onPageFault(c0, 1), { kind: "unexpected-flags", flags: 2 });
  assertEquals(apf.warnings, ["Unexpected async PF flags: 2"]);
});

Deno.test("AsyncPf.disable: EN = 0 once; afterwards the interrupt only EOIs", () => {
  const { mem, c0, apf } = setup();
  apf.disable(c0);
  apf.disable(c0);
  assertEquals(c0.msrWrites, [{ msr: 0x4b564d02, value: 0n }]);
  assertEquals(apf.isEnabled(0), false);
  mem.writeU32(APF + 4n, 5);
  assertEquals(apf.onPageReadyInterrupt(c0), { token: undefined, woken: [], dummyQueued: false });
  assertEquals(c0.eoiCount, 1);
  assertEquals(mem.readU32(APF + 4n), 5);
});

Deno.test("AsyncPf.enable: the area must be 64-byte aligned", () => {
  const apf = new AsyncPf(info(bits(14)));
  assertEquals(
    assertThrows(() => apf.enable(new ScriptedGuestCpu(), 0x4020n), PvkitError).code,
    "misaligned-apf-area",
  );
});

Deno.test("AsyncPf: the interrupt's EOI can be routed (e.g. through PV EOI)", () => {
  const cpu = new ScriptedGuestCpu();
  let eois = 0;
  const apf = new AsyncPf(info(bits(14)), { eoi: () => eois++ });
  apf.enable(cpu, APF);
  apf.onPageReadyInterrupt(cpu);
  assertEquals([eois, cpu.eoiCount], [1, 0]);
});
