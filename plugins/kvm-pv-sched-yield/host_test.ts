import { assertEquals } from "@std/assert";
import { hypercallError, KVM_ENOSYS, KVM_EPERM, KVM_HC_SCHED_YIELD } from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { kvmSchedYield } from "@pvkit/machine";

const HC = BigInt(KVM_HC_SCHED_YIELD);
const HIDDEN = {
  enforcePvCpuid: true,
  cpuid: [{ leaf: 0x40000001, eax: 0, ebx: 0, ecx: 0, edx: 0 }],
};

function machine(
  smp: number,
  options: EmuOptions = {},
  type = "q35,kernel-irqchip=split",
  cpu = "host",
) {
  return EmuMachine.create(
    compose({ cpu, machine: type, smp, host: "linux-6.12" }),
    options,
  );
}

/**
 * Two vCPUs share one host CPU: both run a slice, so vCPU 1 ends up preempted (KVM's `ready`)
 * in vCPU 0's runqueue; then vCPU 0 runs `body` and the result is returned.
 */
function sharedCpu<T>(
  body: (cpu: EmuVcpu) => T,
  options: EmuOptions = {},
  cpuModel = "host",
): { out: T; vm: EmuMachine } {
  const vm = machine(2, { hostCpus: 1, timeSliceNs: 1000, ...options }, undefined, cpuModel);
  let out: T | undefined;
  vm.run([
    function* (cpu) {
      yield { kind: "spin", ns: 2000 }; // slice used up: vCPU 1 runs
      assertEquals(vm.vcpu(1).isPreempted(), true);
      out = body(cpu);
      yield { kind: "spin", ns: 10 };
    },
    function* () {
      yield { kind: "spin", ns: 2000 }; // preempted in favour of vCPU 0
      yield { kind: "spin", ns: 2000 };
    },
  ]);
  return { out: out!, vm };
}

/** Runs `body` on vCPU 0 of `vm`, alone. */
function onVcpu0<T>(vm: EmuMachine, body: (cpu: EmuVcpu) => T): T {
  let out: T | undefined;
  vm.run([function* (cpu) {
    out = body(cpu);
    yield { kind: "yield" };
  }]);
  return out!;
}

Deno.test("SCHED_YIELD to a preempted vCPU on the same host CPU yields and returns 0 (§5 nr 11)", () => {
  const { out, vm } = sharedCpu((cpu) => cpu.hypercall(HC, 1n));
  assertEquals(out, 0n);
  assertEquals(vm.scheduler.yields, 1);
});

Deno.test("SCHED_YIELD: no yield when the host runqueue is single-task (returns 0)", () => {
  const vm = machine(2); // one host CPU per vCPU
  const ret = onVcpu0(vm, (cpu) => cpu.hypercall(HC, 1n));
  assertEquals([ret, vm.scheduler.yields], [0n, 0]);
});

Deno.test("SCHED_YIELD: no yield to self, to a missing APIC ID or beyond max_apic_id", () => {
  for (const a0 of [0n, 2n, 0xffffn, 1n << 63n, (1n << 64n) - 1n]) {
    const { out, vm } = sharedCpu((cpu) => cpu.hypercall(HC, a0));
    assertEquals([a0, out, vm.scheduler.yields], [a0, 0n, 0]);
  }
});

Deno.test("SCHED_YIELD: no yield to a target that is not ready (never preempted)", () => {
  const vm = machine(2, { hostCpus: 1 });
  let ret = -1n;
  vm.run([function* (cpu) {
    // vCPU 1 waits in the runqueue but has never run, so it was never preempted.
    assertEquals(vm.runqueueBusy(cpu), true);
    ret = cpu.hypercall(HC, 1n);
    yield { kind: "yield" };
  }, function* () {
    yield { kind: "yield" };
  }]);
  assertEquals([ret, vm.scheduler.yields], [0n, 0]);
});

Deno.test("SCHED_YIELD without an in-kernel LAPIC (no APIC map) returns 0 and never yields", () => {
  const vm = machine(2, { hostCpus: 1 }, "q35,kernel-irqchip=off");
  assertEquals(vm.inKernelLapic, false);
  assertEquals(kvmSchedYield(vm.vcpu(0), 1n, () => true), false);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 1n)), 0n);
});

Deno.test("SCHED_YIELD gate: -KVM_ENOSYS with enforcement on and bit 13 hidden (§7)", () => {
  const { out, vm } = sharedCpu((cpu) => cpu.hypercall(HC, 1n), HIDDEN);
  assertEquals(out, hypercallError(KVM_ENOSYS, true)); // 0xfffffffffffffc18
  assertEquals(vm.scheduler.yields, 0);
});

Deno.test("SCHED_YIELD gate: works with enforcement on when bit 13 is advertised", () => {
  const { out, vm } = sharedCpu((cpu) => cpu.hypercall(HC, 1n), { enforcePvCpuid: true });
  assertEquals([out, vm.scheduler.yields], [0n, 1]);
});

Deno.test("SCHED_YIELD gate: enforcement off ignores the guest CPUID (legacy ABI)", () => {
  const { out, vm } = sharedCpu(
    (cpu) => cpu.hypercall(HC, 1n),
    { cpuid: [{ leaf: 0x40000001, eax: 0 }] },
  );
  assertEquals([out, vm.scheduler.yields], [0n, 1]);
});

Deno.test("SCHED_YIELD at CPL 3 returns -KVM_EPERM and does not yield (backend check)", () => {
  const { out, vm } = sharedCpu((cpu) => {
    cpu.cpl = 3;
    return cpu.hypercall(HC, 1n);
  });
  assertEquals(out, hypercallError(KVM_EPERM, true));
  assertEquals(vm.scheduler.yields, 0);
});

Deno.test("SCHED_YIELD from a 32-bit caller: a0 masked to 32 bits, RAX u32", () => {
  const { out, vm } = sharedCpu((cpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC, 0xdead_0000_0000_0001n); // a0 = 1 once masked
  });
  assertEquals([out, vm.scheduler.yields], [0n, 1]);
  const hidden = sharedCpu((cpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC, 1n);
  }, HIDDEN);
  assertEquals(hidden.out, hypercallError(KVM_ENOSYS, false)); // 0xfffffc18
});

Deno.test("SCHED_YIELD finds its target only in KVM's APIC map (kvm_sched_yield: map->phys_map)", () => {
  // A hardware-disabled APIC is not present, so not in the map: no yield.
  const off = sharedCpu((cpu) => {
    cpu.vm.vcpu(1).apic!.hardwareEnabled = false;
    return cpu.hypercall(HC, 1n);
  });
  assertEquals([off.out, off.vm.scheduler.yields], [0n, 0]);
  // Software-disabled is still mapped: the yield happens.
  const sw = sharedCpu((cpu) => {
    cpu.vm.vcpu(1).apic!.softwareEnabled = false;
    return cpu.hypercall(HC, 1n);
  });
  assertEquals([sw.out, sw.vm.scheduler.yields], [0n, 1]);
  // No broadcast: 0xff is phys_map[0xff], even on an xAPIC-mode machine.
  const x = sharedCpu((cpu) => cpu.hypercall(HC, 0xffn), {}, "host,x2apic=off");
  assertEquals([x.out, x.vm.scheduler.yields], [0n, 0]);
});
