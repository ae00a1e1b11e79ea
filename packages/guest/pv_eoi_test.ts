import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { decidePvEoi, PvEoi } from "./pv_eoi.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, info } from "./_fake_cpu.ts";

Deno.test("PvEoi.enable zeroes the unsigned long (8 bytes on 64-bit), then WRMSR pa | 1", () => {
  const cpu = new ScriptedGuestCpu();
  cpu.memory.writeBytes(0x3000n, new Uint8Array(12).fill(0xff));
  const eoi = new PvEoi(info(bits(6)));
  eoi.enable(cpu, 0x3000n);
  assertEquals(cpu.memory.readU64(0x3000n), 0n);
  assertEquals(cpu.memory.readU32(0x3008n), 0xffffffff);
  assertEquals(cpu.msrWrites, [{ msr: 0x4b564d04, value: 0x3001n }]);
});

Deno.test("PvEoi.enable on a 32-bit guest zeroes 4 bytes", () => {
  const cpu = new ScriptedGuestCpu({ longMode: false });
  cpu.memory.writeU64(0x3000n, 0xffff_ffff_ffff_ffffn);
  new PvEoi(info(bits(6))).enable(cpu, 0x3004n);
  assertEquals(cpu.memory.readU32(0x3000n), 0xffffffff);
  assertEquals(cpu.memory.readU32(0x3004n), 0);
});

Deno.test("PvEoi.eoi: test_and_clear_bit(0): fast path when armed, native EOI otherwise", () => {
  const cpu = new ScriptedGuestCpu();
  const eoi = new PvEoi(info(bits(6)));
  eoi.enable(cpu, 0x3000n);
  cpu.clearLog();
  cpu.memory.writeU8(0x3000n, 0x03); // bit 0 armed (bit 1 is noise)
  assertEquals(eoi.eoi(cpu), true);
  assertEquals(cpu.memory.readU8(0x3000n), 0x02); // only bit 0 cleared
  assertEquals(cpu.log.length, 0); // no exit at all
  assertEquals(eoi.eoi(cpu), false);
  assertEquals(eoi.eoi(cpu), false);
  assertEquals([eoi.fastPathEois, eoi.slowPathEois, cpu.eoiCount], [1, 2, 2]);
});

Deno.test("PvEoi without bit 6: never writes the MSR, every EOI is native", () => {
  const cpu = new ScriptedGuestCpu();
  const eoi = new PvEoi(info(bits(5)));
  assertEquals(eoi.enable(cpu, 0x3000n), false);
  cpu.memory.writeU8(0x3000n, 1);
  assertEquals(eoi.eoi(cpu), false);
  eoi.disable(cpu);
  assertEquals(cpu.msrWrites, []);
  assertEquals(cpu.eoiCount, 1);
  assertEquals(decidePvEoi(info(0)).reason, "no KVM_FEATURE_PV_EOI (bit 6)");
});

Deno.test("PvEoi: a vCPU that never enabled it takes the native path", () => {
  const eoi = new PvEoi(info(bits(6)));
  const cpu = new ScriptedGuestCpu({ index: 3 });
  assertEquals(eoi.eoi(cpu), false);
  assertEquals(cpu.eoiCount, 1);
});

Deno.test("PvEoi.disable writes 0; misaligned words are refused", () => {
  const cpu = new ScriptedGuestCpu();
  const eoi = new PvEoi(info(bits(6)));
  eoi.enable(cpu, 0x3000n);
  eoi.disable(cpu);
  assertEquals(cpu.msrWrites.at(-1), { msr: 0x4b564d04, value: 0n });
  assertEquals(assertThrows(() => eoi.enable(cpu, 0x3002n), PvkitError).code, "misaligned-pv-eoi");
});
