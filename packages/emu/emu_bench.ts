/**
 * Emulated-backend benchmarks (deno bench -A packages/emu):
 * - MSR dispatch through the plugin hooks against a hand-written `switch` over the same MSRs
 *   (target: within 1.5x);
 * - composing and starting a 4096-vCPU machine (target: under 1 s).
 */

import { MSR_GP, type MsrReadResult } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { EmuMachine } from "./emu_machine.ts";

const MSRS = [0x4b564d05, 0x4b564d01, 0x4b564d03, 0x4b564d04, 0x4b564d02, 0x4b564d00];

const vm = EmuMachine.create(
  compose({ cpu: "host", machine: "q35,kernel-irqchip=split", smp: 1, host: "linux-6.18" }),
);
const vcpu = vm.vcpus[0];
let sink = 0n;

// The baseline is what a VMM without plugins would write: a switch on the MSR index that
// checks the CPUID gate inline and calls each MSR's handler directly. Both sides run the same
// handlers on the same state, so the difference is the dispatch alone.
const handler = (msr: number) => {
  const hook = vm.hooks.msrs.get(msr)!;
  return hook.gated ? hook.gated.read : hook.read; // an ungated hook checks its own gate
};
const [poll, systemTime, steal, eoi, apf, wall] = MSRS.map(handler);

Deno.bench({
  name: "hand-written switch over the PV MSRs (baseline)",
  group: "msr-dispatch",
  baseline: true,
  fn() {
    for (let i = 0; i < 1000; i++) {
      const msr = MSRS[i % MSRS.length];
      let r: MsrReadResult;
      switch (msr) {
        case 0x4b564d05:
          r = vcpu.pvHas(12) ? poll(vcpu, msr, "guest") : MSR_GP;
          break;
        case 0x4b564d01:
          r = vcpu.pvHas(3) ? systemTime(vcpu, msr, "guest") : MSR_GP;
          break;
        case 0x4b564d03:
          r = vcpu.pvHas(5) ? steal(vcpu, msr, "guest") : MSR_GP;
          break;
        case 0x4b564d04:
          r = vcpu.pvHas(6) ? eoi(vcpu, msr, "guest") : MSR_GP;
          break;
        case 0x4b564d02:
          r = apf(vcpu, msr, "guest");
          break;
        case 0x4b564d00:
          r = vcpu.pvHas(3) ? wall(vcpu, msr, "guest") : MSR_GP;
          break;
        default:
          r = MSR_GP;
      }
      if (r.kind === "value") sink += r.value;
    }
  },
});

Deno.bench({
  name: "dispatch through the plugin hooks",
  group: "msr-dispatch",
  fn() {
    for (let i = 0; i < 1000; i++) {
      const msr = MSRS[i % MSRS.length];
      const r = vm.readMsr(vcpu, msr, "guest");
      if (r.kind === "value") sink += r.value;
    }
  },
});

Deno.bench({
  name: "compose and start a 4096-vCPU machine with every feature",
  group: "machine-4096",
  n: 5,
  fn() {
    const composed = compose({
      cpu: "host,kvm-pv-unhalt=on,kvm-pv-ipi=on,kvm-pv-tlb-flush=on,kvm-pv-sched-yield=on",
      machine: "q35,kernel-irqchip=split",
      smp: 4096,
      host: { name: "big", kvmLeaf: { eax: 0x01007efb, edx: 0 }, x2apicApi: true, maxVcpus: 4096 },
    });
    const machine = EmuMachine.create(composed);
    if (machine.vcpus.length !== 4096) throw new Error("not started");
  },
});

addEventListener("unload", () => {
  if (sink < 0n) console.log(sink);
});
