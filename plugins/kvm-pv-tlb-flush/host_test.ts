// kvm-pv-tlb-flush has no host code of its own: KVM's side is the xchg of the steal-time
// preempted byte in record_steal_time, which kvm-steal-time implements. These tests drive the
// whole protocol through a machine (arch/x86/include/uapi/asm/kvm_para.h "preempted byte", §6 PV TLB flush, §7).
import { assertEquals } from "@std/assert";
import {
  KVM_FEATURE_PV_TLB_FLUSH,
  KVM_VCPU_FLUSH_TLB,
  KVM_VCPU_PREEMPTED,
  MSR_KVM_STEAL_TIME,
} from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { kvmPvTlbFlush } from "./mod.ts";

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12" };

function machine(options: EmuOptions = {}): EmuMachine {
  return EmuMachine.create(compose({ ...MACHINE, smp: 2 }), options);
}

const recordGpa = (i: number): bigint => 0x10000n + 64n * BigInt(i);
const preemptedGpa = (i: number): bigint => recordGpa(i) + 16n;
const FLUSH_VECTOR = 0xfb; // stands for the call-function IPI a native flush would send

/**
 * The guest's kvm_flush_tlb_multi for one target: a preempted target gets FLUSH_TLB with a
 * cmpxchg instead of an IPI; any other target gets the IPI. (The emulated step is atomic.)
 */
function flushTlbOf(cpu: EmuVcpu, target: number): "deferred" | "ipi" {
  const s = Number(cpu.load64(preemptedGpa(target), 1));
  if ((s & KVM_VCPU_PREEMPTED) !== 0 && Number(cpu.load64(preemptedGpa(target), 1)) === s) {
    cpu.store64(preemptedGpa(target), 1, BigInt(s | KVM_VCPU_FLUSH_TLB));
    return "deferred";
  }
  cpu.sendIpi(cpu.vm.vcpus[target].apicId, FLUSH_VECTOR);
  return "ipi";
}

/** vCPU 0 enables steal time and is preempted for `preemptNs`; vCPU 1 then flushes its TLB. */
function scenario(options: EmuOptions, preemptNs: number): {
  vm: EmuMachine;
  how: string;
  byteAfter: number;
} {
  const vm = machine(options);
  let how = "";
  let byteAfter = -1;
  vm.run([
    function* (cpu) {
      cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n);
      yield { kind: "yield" };
      if (preemptNs > 0) yield { kind: "preempt", ns: preemptNs };
      else yield { kind: "spin", ns: 1_000_000 };
      byteAfter = Number(cpu.load64(preemptedGpa(0), 1)); // after the next entry
    },
    function* (cpu) {
      yield { kind: "spin", ns: 100_000 };
      how = flushTlbOf(cpu, 0);
    },
  ]);
  return { vm, how, byteAfter };
}

Deno.test("the plugin adds no hooks: kvm-steal-time's entry work does the flush", () => {
  assertEquals(kvmPvTlbFlush.createHooks, undefined);
});

Deno.test("a preempted target: FLUSH_TLB instead of an IPI, the host flushes at entry", async (t) => {
  for (
    const [name, options] of [
      ["enforcement off", {}],
      ["enforcement on, bit 9 advertised", { enforcePvCpuid: true }],
    ] as const
  ) {
    await t.step(name, () => {
      const { vm, how, byteAfter } = scenario(options, 1_000_000);
      assertEquals(how, "deferred");
      assertEquals(vm.vcpus[1].exits.ipi, 0);
      assertEquals(vm.vcpus[0].tlbFlushes, 1);
      assertEquals(byteAfter, 0); // xchg(preempted, 0)
    });
  }
});

Deno.test("a running target gets the IPI and no host flush", () => {
  const { vm, how, byteAfter } = scenario({}, 0);
  assertEquals(how, "ipi");
  assertEquals(vm.vcpus[1].exits.ipi, 1);
  assertEquals(vm.vcpus[0].tlbFlushes, 0);
  assertEquals(byteAfter, 0);
});

Deno.test("with enforcement on and bit 9 absent the host stores 0 and does not flush", () => {
  const eax = Number(compose({ ...MACHINE, smp: 2 }).leaves["0x40000001"].eax);
  const options = {
    enforcePvCpuid: true,
    cpuid: [{ leaf: 0x40000001, eax: (eax & ~(1 << KVM_FEATURE_PV_TLB_FLUSH)) >>> 0 }],
  };
  const { vm, how, byteAfter } = scenario(options, 1_000_000);
  assertEquals(how, "deferred"); // a guest ignoring CPUID: its request is dropped
  assertEquals(vm.vcpus[0].tlbFlushes, 0);
  assertEquals(byteAfter, 0);
});

Deno.test("each preemption can defer one flush; flushes are counted per entry", () => {
  const vm = machine();
  const hows: string[] = [];
  vm.run([
    function* (cpu) {
      cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n);
      yield { kind: "yield" };
      for (let i = 0; i < 3; i++) {
        yield { kind: "preempt", ns: 1_000_000 };
        yield { kind: "spin", ns: 1_000_000 };
      }
    },
    function* (cpu) {
      for (let i = 0; i < 3; i++) {
        yield { kind: "spin", ns: i === 0 ? 500_000 : 2_000_000 }; // inside each preemption
        hows.push(flushTlbOf(cpu, 0));
        hows.push(flushTlbOf(cpu, 0)); // a second flush while still preempted: no IPI either
      }
    },
  ]);
  assertEquals(hows, Array(6).fill("deferred"));
  assertEquals(vm.vcpus[0].tlbFlushes, 3);
});
