/**
 * PV IPI against native IPIs on a 4096-vCPU q35 machine: one IPI to every vCPU, as
 * KVM_HC_SEND_IPI from a 64-bit guest (⌈4096/128⌉ = 32 hypercalls) and as 4096 native ICR
 * writes (the baseline). Target: the PV path under 10 ms.
 *
 * Run: deno bench -A plugins/kvm-pv-ipi/host_bench.ts
 *
 * @module
 */

import { KVM_HC_SEND_IPI } from "@pvkit/abi";
import { EmuMachine } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";

const VCPUS = 4096;
const VECTOR = 0xfd;
const ALL64 = (1n << 64n) - 1n;

const vm = EmuMachine.create(
  compose({ cpu: "host", machine: "q35,kernel-irqchip=split", smp: VCPUS, host: "linux-6.12" }),
);
const sender = vm.vcpu(0);

Deno.bench({
  name: "native: 4096 ICR writes (one exit each)",
  group: "IPI to all 4096 vCPUs",
  baseline: true,
  fn() {
    for (let id = 0; id < VCPUS; id++) sender.sendIpi(id, VECTOR);
  },
});

Deno.bench({
  name: "PV: 32 SEND_IPI hypercalls from a 64-bit guest",
  group: "IPI to all 4096 vCPUs",
  fn() {
    sender.longMode = true;
    let accepted = 0n;
    for (let min = 0n; min < BigInt(VCPUS); min += 128n) {
      accepted += sender.hypercall(BigInt(KVM_HC_SEND_IPI), ALL64, ALL64, min, BigInt(VECTOR));
    }
    if (accepted !== BigInt(VCPUS)) throw new Error(`only ${accepted} IPIs accepted`);
  },
});

Deno.bench({
  name: "PV: 64 SEND_IPI hypercalls from a 32-bit guest",
  group: "IPI to all 4096 vCPUs",
  fn() {
    sender.longMode = false;
    let accepted = 0n;
    for (let min = 0n; min < BigInt(VCPUS); min += 64n) {
      accepted += sender.hypercall(BigInt(KVM_HC_SEND_IPI), ALL64, ALL64, min, BigInt(VECTOR));
    }
    sender.longMode = true;
    if (accepted !== BigInt(VCPUS)) throw new Error(`only ${accepted} IPIs accepted`);
  },
});
