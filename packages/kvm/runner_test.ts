// Live tests of VcpuRunner: exits answered from the main thread, kicks, busy vCPUs, closing
// while running. Ignored (with the reason) when /dev/kvm is unusable.

import { hostTimeScale } from "./kvm_kind.ts";
import { assert, assertEquals, assertLess, assertRejects, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { Assembler, HIMEM_START } from "@pvkit/x86";
import { KvmSystem, type KvmVcpu, type KvmVm, runGuest, setupLongMode, VcpuRunner } from "./mod.ts";
import { countOpenFds, expectKind, kvmTest } from "./_test_utils.ts";

/** vCPU 0 of `vm` (with an in-kernel irqchip) in long mode: one port write, then an endless loop. */
function spinningVcpu(vm: KvmVm): KvmVcpu {
  vm.kvmCreateIrqchip();
  const vcpu = vm.kvmCreateVcpu(0);
  const code = new Assembler(HIMEM_START).movImm("eax", 1).out(0x10, "al").label("spin")
    .jmp("spin");
  setupLongMode(vcpu, vm.mapGuestRam(2 << 20), { code });
  return vcpu;
}

kvmTest("runner: an `in` answered on the main thread reaches the guest", async () => {
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  const vcpu = vm.kvmCreateVcpu(0);
  setupLongMode(vcpu, vm.mapGuestRam(2 << 20), {
    code: new Assembler(HIMEM_START).in("eax", 0x20).out(0x21, "eax").hlt(),
  });
  using runner = await VcpuRunner.start(vcpu);
  assert(runner.tid > 0 && runner.tid !== Deno.pid);
  const read = expectKind(await runner.run(1000), "io");
  assertEquals([read.direction, read.size, read.port], ["in", 4, 0x20]);
  read.setInput(0xcafe_f00d);
  const echo = expectKind(await runner.run(1000), "io");
  assertEquals([echo.direction, echo.port, echo.value], ["out", 0x21, 0xcafe_f00d]);
  assertEquals((await runner.run(1000 * hostTimeScale())).kind, "hlt");
});

kvmTest("runner: the watchdog kicks an endless loop; the vCPU stays usable", async () => {
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  const vcpu = spinningVcpu(vm);
  using runner = await VcpuRunner.start(vcpu);
  assertEquals((await runner.run(1000 * hostTimeScale())).kind, "io");
  const start = performance.now();
  const timeout = expectKind(await runner.run(200), "timeout");
  assertLess(performance.now() - start, 700 * hostTimeScale());
  assertEquals([timeout.interrupted, timeout.ms], [true, 200]);
  assertEquals(timeout.message, "vCPU 0 did not exit within 200 ms");
  assertEquals(runner.stuck, false);
  // Kicked, not stuck: registers read fine, and the guest can be resumed (and kicked again).
  const rip = vcpu.kvmGetRegs().rip;
  assert(rip >= HIMEM_START && rip < HIMEM_START + 0x20n, `rip 0x${rip.toString(16)}`);
  assertEquals((await runner.run(100)).kind, "timeout");
});

kvmTest(
  "runner: a manual kick returns `intr`; ioctls refuse while KVM_RUN is pending",
  async () => {
    using sys = KvmSystem.open();
    using vm = sys.kvmCreateVm();
    const vcpu = spinningVcpu(vm);
    using runner = await VcpuRunner.start(vcpu);
    await runner.run(1000);
    const pending = runner.run(5000);
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(runner.running, true);
    // KVM would block this thread behind the vCPU mutex until the guest exits: refuse instead.
    assertThrows(() => vcpu.kvmGetRegs(), PvkitError, "inside KVM_RUN");
    await assertRejects(() => runner.run(100), PvkitError, "already running");
    runner.kick();
    const exit = await pending;
    assertEquals(exit.kind, "intr");
    vcpu.kvmGetRegs(); // usable again
  },
);

kvmTest("closing the VM while a guest spins stops the Worker without hanging", async () => {
  using sys = KvmSystem.open();
  const vm = sys.kvmCreateVm();
  const vcpu = spinningVcpu(vm);
  const runner = await VcpuRunner.start(vcpu);
  await runner.run(1000);
  const pending = runner.run(10_000);
  await new Promise((r) => setTimeout(r, 50));
  const start = performance.now();
  vm.close(); // kicks the vCPU thread, stops the Worker, then closes the fds
  assertLess(performance.now() - start, 1000 * hostTimeScale());
  assertEquals(runner.closed, true);
  await assertRejects(() => pending, PvkitError, "closed while it ran");
  await assertRejects(() => runner.run(100), PvkitError, "closed");
});

kvmTest("runGuest: default policy answers in/MSR exits and stops on shutdown", async () => {
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  vm.mapGuestRam(2 << 20);
  // `in` gets all ones by default; ud2 with no IDT gate triple-faults (shutdown).
  const code = new Assembler(HIMEM_START).in("al", 0x60).out(0x10, "al").db(0x0f, 0x0b);
  const outs: number[] = [];
  const result = await runGuest(vm, {
    code,
    timeoutMs: 2000 * hostTimeScale(),
    onExit: (exit) => {
      if (exit.kind === "io" && exit.direction === "out") outs.push(exit.value);
    },
  });
  assertEquals(expectKind(result, "stopped").exit.kind, "shutdown");
  assertEquals(outs, [0xff]);
});

kvmTest("runGuest: maxExits bounds a chatty guest", async () => {
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  vm.mapGuestRam(2 << 20);
  const code = new Assembler(HIMEM_START).label("l").out(0x10, "al").jmp("l");
  const result = await runGuest(vm, { code, timeoutMs: 2000 * hostTimeScale(), maxExits: 50 });
  assertEquals(result.kind, "exit-limit");
  assertEquals(result.exits, 50);
});

kvmTest("runGuest leaves no fd behind (each run starts and stops a Worker)", async () => {
  using sys = KvmSystem.open();
  const once = async () => {
    using vm = sys.kvmCreateVm();
    vm.mapGuestRam(2 << 20);
    const r = await runGuest(vm, {
      code: new Assembler(HIMEM_START).out(0x11, "al"),
      timeoutMs: 1000 * hostTimeScale(),
      onExit: () => "stop",
    });
    assertEquals(r.kind, "stopped");
  };
  await once();
  const fds = countOpenFds();
  for (let i = 0; i < 10; i++) await once();
  // A terminated Worker releases its descriptors asynchronously: give teardown up to 2 s. A
  // leak keeps growing with every run (10 runs here), a late teardown does not.
  for (let waited = 0; countOpenFds() > fds && waited < 2000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assertEquals(countOpenFds() <= fds, true, `fds grew from ${fds} to ${countOpenFds()}`);
});

kvmTest("runner: one runner per vCPU; a closed runner frees the vCPU for the next", async () => {
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  const vcpu = vm.kvmCreateVcpu(0);
  const first = await VcpuRunner.start(vcpu);
  await assertRejects(() => VcpuRunner.start(vcpu), PvkitError, "already has a runner");
  first.close();
  first.close();
  using second = await VcpuRunner.start(vcpu);
  assertEquals(second.closed, false);
});
