/**
 * Guest kvmclock reads on the emulated backend (target: at least 2 million per second): the
 * Linux-like driver's read (version loop, RDTSC, pvclock scaling, stable-bit check) against a
 * baseline of the bare RDTSC it needs anyway.
 */

import { detectKvm, Kvmclock } from "@pvkit/guest";
import { compose } from "@pvkit/pvkit";
import { EmuGuestCpu } from "./emu_guest_cpu.ts";
import { EmuMachine } from "./emu_machine.ts";

const READS = 10_000;

const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", host: "linux-6.18" }));
const cpu = new EmuGuestCpu(vm.vcpus[0]);
const clock = new Kvmclock(detectKvm(cpu, { possibleCpus: 1 }));
vm.run([function* () {
  clock.register(cpu, 0x1000n);
  yield { kind: "yield" };
}]);
cpu.vcpu.enter(); // the entry after the WRMSR fills the record
let sink = 0n;

Deno.bench({
  name: `${READS} RDTSC (baseline)`,
  group: "kvmclock-read",
  baseline: true,
  fn() {
    for (let i = 0; i < READS; i++) sink ^= cpu.rdtsc();
  },
});

Deno.bench({
  name: `${READS} guest kvmclock reads`,
  group: "kvmclock-read",
  fn() {
    for (let i = 0; i < READS; i++) sink ^= clock.read(cpu);
  },
});

addEventListener("unload", () => {
  if (sink === -1n) console.log(sink);
});
