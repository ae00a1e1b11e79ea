/**
 * The emulated scheduler's cost per vCPU (deno bench -A packages/emu/scheduler_bench.ts):
 * 5 scheduling steps on every vCPU of a 4096-vCPU machine (baseline) and of a 32768-vCPU one.
 * Target: the 32768-vCPU run within 1.5x of 8 times the baseline (cost per step independent of
 * the vCPU count), and under 3 s.
 */

import { compose } from "@pvkit/pvkit";
import { EmuMachine } from "./emu_machine.ts";
import type { EmuVcpu } from "./emu_vcpu.ts";
import type { GuestBlock } from "./guest_block.ts";

/** Four spins and the end of the program: five scheduling steps. */
function* fiveSteps(): Generator<GuestBlock, void, void> {
  for (let i = 0; i < 4; i++) yield { kind: "spin", ns: 1000 };
}

function machine(smp: number): EmuMachine {
  return EmuMachine.create(compose({
    cpu: "host,kvm-pv-unhalt=on,kvm-pv-ipi=on,kvm-pv-sched-yield=on",
    machine: "pvkit,kernel-irqchip=split",
    smp,
    host: { name: "big", kvmLeaf: { eax: 0x01007efb, edx: 0 }, x2apicApi: true, maxVcpus: smp },
  }));
}

function bench(smp: number, baseline: boolean): void {
  const vm = machine(smp);
  const programs = vm.vcpus.map(() => fiveSteps as (cpu: EmuVcpu) => Generator<GuestBlock>);
  Deno.bench({
    name: `5 scheduling steps on each of ${smp} vCPUs`,
    group: "scheduler-per-vcpu",
    baseline,
    n: smp < 32768 ? 40 : 5,
    warmup: 2,
    fn() {
      const summary = vm.run(programs);
      if (summary.steps !== 5 * smp) throw new Error(`${summary.steps} steps`);
    },
  });
}

bench(4096, true);
bench(32768, false);
