import { assertEquals } from "@std/assert";
import { sendCallFunctionIpi } from "./sched_yield.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";

const t = (
  apicId: number,
  idle = false,
): { apicId: number; stealGpa: bigint; idle: boolean } => ({
  apicId,
  stealGpa: 0x2000n + BigInt(64 * apicId),
  idle,
});
const preemptedAt = (i: number): bigint => 0x2010n + BigInt(64 * i);

Deno.test("sendCallFunctionIpi: IPIs first, then SCHED_YIELD to the first busy preempted target", () => {
  const cpu = new ScriptedGuestCpu();
  cpu.memory.writeU8(preemptedAt(1), 1); // preempted but idle: skipped
  cpu.memory.writeU8(preemptedAt(3), 1); // busy and preempted: the one
  cpu.memory.writeU8(preemptedAt(4), 1); // also, but the loop stops at the first
  const r = sendCallFunctionIpi(cpu, [t(1, true), t(2), t(3), t(4)]);
  assertEquals(r, { ipis: [1, 2, 3, 4], yieldedTo: 3, ret: 0n });
  const kinds = cpu.log.map((e) => e.kind);
  assertEquals(kinds, ["ipi", "ipi", "ipi", "ipi", "hypercall"]);
  assertEquals(cpu.hypercalls, [{ nr: 11, args: [3n, 0n, 0n, 0n], ret: 0n }]);
});

Deno.test("sendCallFunctionIpi: nobody preempted, no hypercall", () => {
  const cpu = new ScriptedGuestCpu();
  assertEquals(sendCallFunctionIpi(cpu, [t(1), t(2)]), { ipis: [1, 2] });
  assertEquals(cpu.hypercalls, []);
});

Deno.test("sendCallFunctionIpi: 32-bit vcpu_is_preempted tests bit 0 only", () => {
  const c32 = new ScriptedGuestCpu({ longMode: false });
  c32.memory.writeU8(preemptedAt(1), 2);
  assertEquals(sendCallFunctionIpi(c32, [t(1)]).yieldedTo, undefined);
  const c64 = new ScriptedGuestCpu();
  c64.memory.writeU8(preemptedAt(1), 2);
  assertEquals(sendCallFunctionIpi(c64, [t(1)]).yieldedTo, 1);
});
