import { assertEquals } from "@std/assert";
import { hypercallError, KVM_ENOSYS, KVM_EPERM, KVM_HC_KICK_CPU } from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu, type GuestBlock } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { pvUnhaltState } from "@pvkit/abi";

const HC = BigInt(KVM_HC_KICK_CPU);
const HIDDEN = {
  enforcePvCpuid: true,
  cpuid: [{ leaf: 0x40000001, eax: 0, ebx: 0, ecx: 0, edx: 0 }],
};

function machine(smp: number, options: EmuOptions = {}, type = "q35,kernel-irqchip=split") {
  return EmuMachine.create(
    compose({ cpu: "host", machine: type, smp, host: "linux-6.12" }),
    options,
  );
}

interface KickRun {
  /** RAX of the kick. */
  ret: bigint;
  /** The halter got past its HLT. */
  woke: boolean;
  /** vCPUs left blocked. */
  blocked: readonly number[];
  vm: EmuMachine;
}

/**
 * The A1-V2 shape: vCPU 1 runs `cli; hlt`; vCPU 0 waits until vCPU 1 has a halt exit, then
 * calls `kick(cpu)` (default KICK_CPU(0, APIC ID of vCPU 1)).
 */
function kickHalted(
  options: EmuOptions = {},
  kick: (cpu: EmuVcpu, halter: EmuVcpu) => bigint = (cpu, h) =>
    cpu.hypercall(HC, 0n, BigInt(h.apicId)),
  type?: string,
): KickRun {
  const vm = machine(2, options, type);
  let ret = -1n;
  let woke = false;
  const summary = vm.run([
    function* (cpu) {
      const halter = vm.vcpu(1);
      while (halter.exits.hlt === 0) yield { kind: "spin", ns: 1000 };
      ret = kick(cpu, halter);
      yield { kind: "yield" };
    },
    function* (cpu) {
      cpu.cli();
      yield { kind: "hlt" };
      woke = true;
    },
  ]);
  return { ret, woke, blocked: summary.blocked, vm };
}

Deno.test("KICK_CPU wakes a vCPU halted with IF=0 and returns 0 (§5 nr 5; A1-V2)", () => {
  const run = kickHalted();
  assertEquals([run.ret, run.woke, run.blocked], [0n, true, []]);
  // Waking made it RUNNABLE, which clears pv_unhalted.
  assertEquals(pvUnhaltState(run.vm.vcpu(1)).pvUnhalted, false);
});

Deno.test("A1-V2 exactly: enforcement on with PV_UNHALT advertised, kick returns 0, halter finishes", () => {
  const run = kickHalted({ enforcePvCpuid: true, cpuid: [{ leaf: 0x40000001, eax: 1 << 7 }] });
  assertEquals([run.ret, run.woke, run.blocked], [0n, true, []]);
});

Deno.test("KICK_CPU before HLT: the next HLT does not block, and clears pv_unhalted", () => {
  const vm = machine(2);
  let halts = 0;
  const summary = vm.run([
    function* (cpu) {
      assertEquals(cpu.hypercall(HC, 0n, 1n), 0n); // vCPU 1 is running: only pv_unhalted = 1
      yield { kind: "yield" };
    },
    function* (cpu) {
      yield { kind: "spin", ns: 5000 }; // the kick lands while vCPU 1 runs
      assertEquals(pvUnhaltState(cpu).pvUnhalted, true);
      cpu.cli();
      yield { kind: "hlt" }; // does not block
      halts++;
      assertEquals(pvUnhaltState(cpu).pvUnhalted, false);
      yield { kind: "hlt" }; // blocks for good: nothing wakes it
      halts++;
    },
  ]);
  assertEquals([halts, summary.blocked, vm.vcpu(1).exits.hlt], [1, [1], 2]);
});

Deno.test("KICK_CPU to an APIC ID nobody has returns 0 and wakes nobody", () => {
  const run = kickHalted({}, (cpu) => cpu.hypercall(HC, 0n, 7n));
  assertEquals([run.ret, run.woke, run.blocked], [0n, false, [1]]);
});

Deno.test("KICK_CPU ignores a0 (flags) and takes a1 as a 32-bit APIC ID (int apicid)", () => {
  const run = kickHalted({}, (cpu) => cpu.hypercall(HC, 0xffn, (1n << 32n) | 1n));
  assertEquals([run.ret, run.woke], [0n, true]);
});

Deno.test("KICK_CPU gate: -KVM_ENOSYS with enforcement on and bit 7 hidden; no kick (§7)", () => {
  const run = kickHalted(HIDDEN);
  assertEquals(run.ret, hypercallError(KVM_ENOSYS, true)); // 0xfffffffffffffc18
  assertEquals([run.woke, run.blocked], [false, [1]]);
});

Deno.test("KICK_CPU gate: enforcement off ignores the guest CPUID (legacy ABI)", () => {
  const run = kickHalted({ cpuid: [{ leaf: 0x40000001, eax: 0 }] });
  assertEquals([run.ret, run.woke], [0n, true]);
});

Deno.test("KICK_CPU at CPL 3 returns -KVM_EPERM and kicks nobody (backend check)", () => {
  const run = kickHalted({}, (cpu, h) => {
    cpu.cpl = 3;
    return cpu.hypercall(HC, 0n, BigInt(h.apicId));
  });
  assertEquals(run.ret, hypercallError(KVM_EPERM, true));
  assertEquals(run.woke, false);
});

Deno.test("KICK_CPU from a 32-bit caller: works, and -1000 reads 0xfffffc18", () => {
  const call = (cpu: EmuVcpu, h: EmuVcpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC, 0n, BigInt(h.apicId));
  };
  const run = kickHalted({}, call);
  assertEquals([run.ret, run.woke], [0n, true]);
  assertEquals(kickHalted(HIDDEN, call).ret, 0xffff_fc18n);
});

Deno.test("KICK_CPU without an in-kernel LAPIC (no APIC map) returns 0 and delivers nothing", () => {
  const run = kickHalted({}, undefined, "q35,kernel-irqchip=off");
  assertEquals([run.ret, run.woke, run.blocked], [0n, false, [1]]);
});

Deno.test("KICK_CPU yields to the kicked vCPU when both share a host CPU (kvm_sched_yield)", () => {
  const shared = kickHalted({ hostCpus: 1 });
  assertEquals([shared.ret, shared.woke, shared.vm.scheduler.yields], [0n, true, 1]);
  // With a host CPU each, the runqueue is single-task: no yield.
  assertEquals(kickHalted().vm.scheduler.yields, 0);
});

Deno.test("becoming RUNNABLE by other means clears pv_unhalted too (6.15)", () => {
  const vm = machine(2);
  let halts = 0;
  const summary = vm.run([
    function* (cpu) {
      const target = vm.vcpu(1);
      while (!target.isHalted()) yield { kind: "spin", ns: 1000 };
      pvUnhaltState(target).pvUnhalted = true; // set without a kick
      cpu.sendIpi(target.apicId, 0x40); // the interrupt wakes it: RUNNABLE
      yield { kind: "yield" };
    },
    function* (cpu) {
      cpu.sti();
      yield { kind: "hlt" };
      halts++;
      assertEquals(pvUnhaltState(cpu).pvUnhalted, false);
      cpu.cli();
      yield { kind: "hlt" }; // so this one blocks
      halts++;
    },
  ]);
  assertEquals([halts, summary.blocked], [1, [1]]);
});

Deno.test("a remote-read delivery sets pv_unhalted and is accepted even with the APIC disabled", () => {
  const vm = machine(2);
  const target = vm.vcpu(1);
  target.apic!.enabled = false;
  const accepted = target.requestInterrupt({
    destination: target.apicId,
    vector: 0,
    deliveryMode: "remote-read",
    level: true,
    levelTriggered: false,
  });
  assertEquals(accepted, true);
  assertEquals(pvUnhaltState(target).pvUnhalted, true);
});

Deno.test("KICK_CPU(0xff) on an xAPIC-mode machine kicks every vCPU (kvm_apic_is_broadcast_dest)", () => {
  // kvm_pv_kick_cpu_op has no source APIC: 0xff is APIC_BROADCAST, so the slow path of
  // kvm_irq_delivery_to_apic sets pv_unhalted on every present APIC, the caller's included.
  const vm = EmuMachine.create(
    compose({ cpu: "host,x2apic=off", machine: "q35,kernel-irqchip=split", smp: 4 }),
  );
  const halted: boolean[] = [];
  const summary = vm.run([
    function* (cpu) {
      while (![1, 2, 3].every((i) => vm.vcpu(i).isHalted())) yield { kind: "spin", ns: 1000 };
      assertEquals(cpu.hypercall(HC, 0n, 0xffn), 0n);
      yield { kind: "yield" };
    },
    ...[1, 2, 3].map(() =>
      function* (cpu: EmuVcpu): Generator<GuestBlock, void, void> {
        cpu.cli();
        yield { kind: "hlt" };
        halted.push(true); // woken by the kick
      }
    ),
  ]);
  assertEquals([halted.length, summary.blocked], [3, []]);
  assertEquals(pvUnhaltState(vm.vcpu(0)).pvUnhalted, true); // the caller is a target too
});

Deno.test("KICK_CPU(0xff) with the broadcast quirk reaches x2APIC-mode vCPUs too (kvm_apic_mda)", () => {
  const vm = machine(3);
  vm.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 0xffn));
  assertEquals(vm.vcpus.map((v) => pvUnhaltState(v).pvUnhalted), [true, true, true]);
  // With KVM_CAP_X2APIC_API and every APIC in x2APIC mode, 0xff is just an APIC ID.
  const api = machine(3, { x2apicApi: true });
  api.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 0xffn));
  assertEquals(api.vcpus.map((v) => pvUnhaltState(v).pvUnhalted), [false, false, false]);
  // 0xffffffff (a1's low 32 bits) is the x2APIC broadcast there, and nobody without it.
  api.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 0xffff_ffffn));
  assertEquals(api.vcpus.map((v) => pvUnhaltState(v).pvUnhalted), [true, true, true]);
  const quirk = machine(3);
  quirk.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 0xffff_ffffn));
  assertEquals(quirk.vcpus.map((v) => pvUnhaltState(v).pvUnhalted), [false, false, false]);
});

Deno.test("KICK_CPU reaches only vCPUs in KVM's APIC map and with a present APIC", () => {
  // No KVM_SET_LAPIC: vCPU 1 was created last, after the map was rebuilt: phys_map[1] is empty.
  const vm = machine(2, { setLapicOnCreate: false });
  vm.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 1n));
  assertEquals(pvUnhaltState(vm.vcpu(1)).pvUnhalted, false);
  vm.setLapic(1);
  vm.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 1n));
  assertEquals(pvUnhaltState(vm.vcpu(1)).pvUnhalted, true);
  // A hardware-disabled APIC is not present (kvm_apic_present): no kick, even by broadcast.
  const off = machine(2);
  off.vcpu(1).apic!.hardwareEnabled = false;
  off.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 1n));
  off.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 0xffn));
  assertEquals(pvUnhaltState(off.vcpu(1)).pvUnhalted, false);
  // A software-disabled one still takes the remote read.
  const sw = machine(2);
  sw.vcpu(1).apic!.softwareEnabled = false;
  sw.runOn(0, (cpu) => cpu.hypercall(HC, 0n, 1n));
  assertEquals(pvUnhaltState(sw.vcpu(1)).pvUnhalted, true);
});
