import { assertEquals } from "@std/assert";
import { compose } from "@pvkit/pvkit";
import { EmuMachine } from "./emu_machine.ts";

function machine(smp: number, options = {}) {
  return EmuMachine.create(
    compose({ cpu: "host", machine: "q35", smp, host: "linux-6.12" }),
    options,
  );
}

Deno.test("two vCPUs on one host CPU take turns; each waits while the other runs (run_delay)", () => {
  const vm = machine(2, { hostCpus: 1, timeSliceNs: 1_000_000 });
  const spin = function* () {
    for (let i = 0; i < 10; i++) yield { kind: "spin" as const, ns: 500_000 };
  };
  vm.run([spin, spin]);
  const [a, b] = vm.vcpus;
  // Each spins 5 ms while the other waits: 10 ms in all on one CPU.
  assertEquals(a.clock + b.clock >= 14_000_000n, true);
  assertEquals(a.runDelay > 0n && b.runDelay > 0n, true);
  assertEquals(a.runDelay + b.runDelay >= 4_000_000n, true);
});

Deno.test("with a host CPU each, nobody waits", () => {
  const vm = machine(2);
  const spin = function* () {
    yield { kind: "spin" as const, ns: 5_000_000 };
  };
  vm.run([spin, spin]);
  assertEquals(vm.vcpus.map((v) => v.runDelay), [0n, 0n]);
});

Deno.test("preempt keeps a runnable vCPU off its CPU: run_delay grows by exactly that", () => {
  const vm = machine(1);
  vm.run([function* () {
    yield { kind: "preempt", ns: 2_500_000 };
  }]);
  assertEquals(vm.vcpus[0].runDelay, 2_500_000n);
});

Deno.test("barriers line vCPUs up; HLT without a wake-up leaves the vCPU blocked", () => {
  const vm = machine(2);
  const order: string[] = [];
  const summary = vm.run([
    function* () {
      yield { kind: "spin", ns: 1000 };
      yield { kind: "barrier", id: "a" };
      order.push("0 past a");
    },
    function* () {
      yield { kind: "barrier", id: "a" };
      order.push("1 past a");
      yield { kind: "hlt" };
    },
  ]);
  assertEquals(order.sort(), ["0 past a", "1 past a"]);
  assertEquals(summary.blocked, [1]);
});

Deno.test("an IPI wakes a halted vCPU with interrupts enabled and is delivered at entry", () => {
  const vm = machine(2);
  vm.run([
    function* (cpu) {
      yield { kind: "spin", ns: 10_000 };
      cpu.sendIpi(1, 0x40);
    },
    function* (cpu) {
      cpu.sti();
      yield { kind: "hlt" };
      cpu.enter();
    },
  ]);
  assertEquals(vm.vcpus[1].delivered, [0x40]);
  assertEquals(vm.vcpus[1].exits.hlt, 1);
  assertEquals(vm.vcpus[0].exits.ipi, 1);
});

Deno.test("wait-irq times out at its deadline when nothing arrives", () => {
  const vm = machine(1);
  vm.run([function* (cpu) {
    cpu.sti();
    yield { kind: "wait-irq", vector: 0x40, timeoutNs: 1_000_000 };
  }]);
  assertEquals(vm.vcpus[0].clock >= 1_000_000n, true);
  assertEquals(vm.vcpus[0].delivered, []);
});

Deno.test("a run that reaches its step limit says so, and the machine runs again afterwards", () => {
  const vm = machine(2);
  const forever = function* () {
    for (;;) yield { kind: "spin" as const, ns: 100 };
  };
  const summary = vm.run([forever, function* () {
    yield { kind: "hlt" as const };
  }], { maxSteps: 50 });
  assertEquals([summary.steps, summary.stepLimitReached], [50, true]);
  assertEquals(summary.unfinished, [0, 1]);
  assertEquals(summary.blocked, [1]); // vCPU 0 was still running, not blocked
  const again = vm.run([undefined, function* () {
    yield { kind: "spin" as const, ns: 100 };
  }]);
  assertEquals([again.stepLimitReached, again.blocked, again.steps], [false, [], 2]);
});

Deno.test("vCPUs run in clock order, the lowest host CPU first on a tie", () => {
  const vm = machine(4);
  const order: number[] = [];
  const program = (spins: number[]) =>
    function* (cpu: { index: number }) {
      for (const ns of spins) {
        order.push(cpu.index);
        yield { kind: "spin" as const, ns };
      }
    };
  vm.run([program([300, 10]), program([100, 10]), program([200, 10]), program([100, 10])]);
  assertEquals(order, [0, 1, 2, 3, 1, 3, 2, 0]);
});
