import { assertEquals, assertThrows } from "@std/assert";
import { GuestFault } from "./guest_cpu.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";

Deno.test("ScriptedGuestCpu: CPUID by leaf or leaf:subleaf, zeros otherwise", () => {
  const cpu = new ScriptedGuestCpu({
    cpuid: new Map<number | string, { eax: number; ebx: number; ecx: number; edx: number }>([
      [7, { eax: 1, ebx: 2, ecx: 3, edx: 4 }],
      ["7:1", { eax: 9, ebx: 0, ecx: 0, edx: 0 }],
    ]),
  });
  assertEquals(cpu.cpuid(7).ebx, 2);
  assertEquals(cpu.cpuid(7, 1).eax, 9);
  assertEquals(cpu.cpuid(7, 2), { eax: 0, ebx: 0, ecx: 0, edx: 0 });
  assertEquals(cpu.cpuid(0x40000000), { eax: 0, ebx: 0, ecx: 0, edx: 0 });
});

Deno.test("ScriptedGuestCpu: #GP MSRs are logged as faulted and not stored", () => {
  const cpu = new ScriptedGuestCpu({ gpMsrs: [0x10] });
  const e = assertThrows(() => cpu.wrmsr(0x10, 5n), GuestFault);
  assertEquals([e.code, e.vector], ["guest-fault", "GP"]);
  assertThrows(() => cpu.rdmsr(0x10), GuestFault);
  assertEquals(cpu.msrWrites, []);
  assertEquals(cpu.log.map((x) => x.kind), ["wrmsr", "rdmsr"]);
  cpu.wrmsr(0x11, -1n);
  assertEquals(cpu.rdmsr(0x11), 0xffff_ffff_ffff_ffffn);
});

Deno.test("ScriptedGuestCpu: hypercalls, RDTSC, EOI, IPIs and hooks", () => {
  const cpu = new ScriptedGuestCpu({ apicId: 7, tsc: 10n, onHypercall: (nr) => BigInt(-nr) });
  assertEquals(cpu.hypercall(5, 0n, 3n), -5n);
  assertEquals(cpu.hypercalls, [{ nr: 5, args: [0n, 3n, 0n, 0n], ret: -5n }]);
  cpu.tscStep = 2n;
  let hooked = 0;
  cpu.onRdtsc = () => hooked++;
  assertEquals([cpu.rdtsc(), cpu.rdtsc(), hooked], [10n, 12n, 2]);
  cpu.apicEoi();
  cpu.sendIpi(1, 0xfd);
  cpu.ioDelay();
  assertEquals([cpu.apicId(), cpu.eoiCount, cpu.ipis.length], [7, 1, 1]);
  const ud = new ScriptedGuestCpu({
    onHypercall: () => {
      throw new GuestFault("UD");
    },
  });
  assertEquals(assertThrows(() => ud.hypercall(1), GuestFault).vector, "UD");
});
