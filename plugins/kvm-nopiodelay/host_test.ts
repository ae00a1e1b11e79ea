import { assertEquals } from "@std/assert";
import { KVM_CPUID_FEATURES, KVM_FEATURE_NOP_IO_DELAY } from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { IO_DELAY_PORT, ioDelayCounts } from "./mod.ts";

function machine(cpu = "host", options: EmuOptions = {}) {
  return EmuMachine.create(
    compose({ cpu, machine: "q35,kernel-irqchip=split", smp: 1, host: "linux-6.12" }),
    options,
  );
}

/** A guest doing `n` slow port writes the way Linux does: each followed by io_delay(). */
function* slowOuts(cpu: EmuVcpu, n: number) {
  const nopIoDelay = ((cpu.cpuid(KVM_CPUID_FEATURES).eax >>> KVM_FEATURE_NOP_IO_DELAY) & 1) === 1;
  for (let i = 0; i < n; i++) {
    cpu.out(0x70, 1, i); // the slow access itself (CMOS index), one exit either way
    if (!nopIoDelay) cpu.out(IO_DELAY_PORT, 1, 0); // native_io_delay
    yield { kind: "yield" as const };
  }
}

Deno.test("a guest without kvm-nopiodelay takes one extra exit per delayed port access", () => {
  const vm = machine("host,kvm-nopiodelay=off");
  vm.run([(cpu) => slowOuts(cpu, 10)]);
  assertEquals(ioDelayCounts(vm.vcpu(0)).writes, 10);
  assertEquals(vm.vcpu(0).exits.io, 20);
});

Deno.test("with kvm-nopiodelay (bit 1) the guest skips port 0x80: no delay exits", () => {
  const vm = machine("host");
  vm.run([(cpu) => slowOuts(cpu, 10)]);
  assertEquals(ioDelayCounts(vm.vcpu(0)).writes, 0);
  assertEquals(vm.vcpu(0).exits.io, 10);
});

Deno.test("port 0x80 reads as all ones of the access width, and reads are counted", () => {
  const vm = machine();
  let values: number[] = [];
  vm.run([function* (cpu) {
    values = [cpu.in(IO_DELAY_PORT, 1), cpu.in(IO_DELAY_PORT, 2), cpu.in(IO_DELAY_PORT, 4)];
    yield { kind: "yield" };
  }]);
  assertEquals(values, [0xff, 0xffff, 0xffff_ffff]);
  assertEquals(ioDelayCounts(vm.vcpu(0)), { writes: 0, reads: 3 });
});

Deno.test("the host does not look at CPUID: port 0x80 works with enforcement and bit 1 hidden", () => {
  const vm = machine("host", {
    enforcePvCpuid: true,
    cpuid: [{ leaf: KVM_CPUID_FEATURES, eax: 0 }],
  });
  vm.run([function* (cpu) {
    cpu.out(IO_DELAY_PORT, 1, 0x5a);
    cpu.out(IO_DELAY_PORT, 4, 0xdead_beef);
    assertEquals(cpu.in(IO_DELAY_PORT, 1), 0xff); // writes are dropped, not latched
    yield { kind: "yield" };
  }]);
  assertEquals(ioDelayCounts(vm.vcpu(0)), { writes: 2, reads: 1 });
});

Deno.test("other ports are not claimed", () => {
  const vm = machine();
  vm.run([function* (cpu) {
    cpu.out(0x81, 1, 0);
    cpu.out(0x7f, 1, 0);
    yield { kind: "yield" };
  }]);
  assertEquals(ioDelayCounts(vm.vcpu(0)).writes, 0);
});
