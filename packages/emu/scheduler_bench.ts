/**
 * The emulated scheduler's cost per vCPU (deno bench -A packages/emu/scheduler_bench.ts).
 *
 * Group "scheduler-per-vcpu" does the same work on both sides, 32768 × 5 scheduling steps: the
 * baseline runs a 4096-vCPU machine 8 times, the other runs a 32768-vCPU machine once. The
 * summary's "N.NNx" line is therefore the cost per vCPU at 32768 relative to 4096, measured in
 * the same run. Target: within 1.5x (the cost of a step does not grow with the vCPU count).
 *
 * Group "scheduler-absolute": a 32768-vCPU machine built and run, 5 steps on each vCPU,
 * end to end. Target: under 3 s.
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

/** Runs five steps on every vCPU of `vm`, checking that they all ran. */
function runFive(vm: EmuMachine): void {
  const programs = vm.vcpus.map(() => fiveSteps as (cpu: EmuVcpu) => Generator<GuestBlock>);
  const summary = vm.run(programs);
  if (summary.steps !== 5 * vm.vcpuCount) throw new Error(`${summary.steps} steps`);
}

const TOTAL_VCPUS = 32768;

/** `runs` runs of a `smp`-vCPU machine: TOTAL_VCPUS × 5 steps in all. */
function perVcpu(smp: number, baseline: boolean): void {
  const vm = machine(smp);
  const runs = TOTAL_VCPUS / smp;
  Deno.bench({
    name: `${runs} × 5 steps on each of ${smp} vCPUs`,
    group: "scheduler-per-vcpu",
    baseline,
    n: 20,
    warmup: 3,
    fn() {
      for (let i = 0; i < runs; i++) runFive(vm);
    },
  });
}

perVcpu(4096, true);
perVcpu(TOTAL_VCPUS, false);

Deno.bench({
  name: `create a ${TOTAL_VCPUS}-vCPU machine, then 5 steps on each vCPU`,
  group: "scheduler-absolute",
  n: 3,
  warmup: 1,
  fn() {
    runFive(machine(TOTAL_VCPUS));
  },
});
