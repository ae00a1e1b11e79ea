import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { BOOT_DEFAULT_CPU, composeBootMachine } from "./boot_machine.ts";
import { bootCpuid } from "./boot_cpuid.ts";

const HOST = "linux-6.1";

Deno.test("boot machine: describe's composition, host by default, APIC IDs per vCPU", () => {
  const m = composeBootMachine({ smp: 4, host: HOST });
  assertEquals(m.composed.model, BOOT_DEFAULT_CPU);
  assertEquals(m.apicIds, [0, 1, 2, 3]);
  assertEquals(m.notes, []);
  const topo = composeBootMachine({ smp: "4,sockets=2,cores=1,threads=2", host: HOST });
  assertEquals(topo.apicIds, [0, 1, 2, 3]);
});

Deno.test("boot machine: kernel-irqchip=split and =off are refused with the reason", () => {
  const split = assertThrows(
    () => composeBootMachine({ machine: "q35,kernel-irqchip=split", host: HOST }),
    PvkitError,
  );
  assertStringIncludes(split.message, "IOAPIC and PIC live in the VMM");
  const off = assertThrows(
    () => composeBootMachine({ machine: "pc,kernel-irqchip=off", host: HOST }),
    PvkitError,
  );
  assertStringIncludes(off.message, "local APICs");
});

Deno.test("boot machine: a composition error is the message; opt-in plugins get a note", () => {
  const bad = assertThrows(
    () => composeBootMachine({ cpu: "host,kvm-msi-ext-dest-id=on", host: HOST }),
    PvkitError,
  );
  assertStringIncludes(bad.message, "cannot be composed");
  const m = composeBootMachine({ cpu: "host,kvm-migration-control=on", host: HOST });
  assertEquals(m.notes.length, 1);
  assertStringIncludes(m.notes[0], "kvm-migration-control: its CPUID bit is offered");
});

Deno.test("boot CPUID: KVM leaves from the composition, none with kvm=off, TSC deadline on", () => {
  const supported = [
    { function: 1, index: 0, flags: 0, eax: 0, ebx: 0x00010800, ecx: 0, edx: 0 },
    { function: 0x40000000, index: 0, flags: 0, eax: 0x40000001, ebx: 1, ecx: 2, edx: 3 },
    { function: 0x40000001, index: 0, flags: 0, eax: 0xffffffff, ebx: 0, ecx: 0, edx: 0 },
  ];
  const on = composeBootMachine({ cpu: "host,kvm-pv-ipi=off", smp: 2, host: HOST }).composed;
  const table = bootCpuid(supported, on, 1);
  const leaf = (fn: number) => table.find((e) => e.function === fn);
  assertEquals(leaf(0x40000001)?.eax, Number(on.leaves["0x40000001"].eax));
  assertEquals((leaf(0x40000001)!.eax >>> 11) & 1, 0, "PV_SEND_IPI off");
  assertEquals(leaf(1)!.ebx >>> 24, 1, "initial APIC ID of vCPU 1");
  assertEquals((leaf(1)!.ecx >>> 24) & 1, 1, "TSC deadline");
  assertEquals((leaf(1)!.ecx >>> 31) & 1, 1, "hypervisor");
  const off = composeBootMachine({ cpu: "host,kvm=off", host: HOST }).composed;
  assertEquals(bootCpuid(supported, off, 0).filter((e) => e.function >= 0x40000000).length, 0);
});
