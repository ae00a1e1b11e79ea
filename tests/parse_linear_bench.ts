/**
 * Input sizes that once took seconds: parsing a `-cpu` string and applying raw CPUID overrides
 * must cost time linear in their length. Each group runs 1/8 of the input as the baseline and
 * the whole of it: linear is a ratio near 8.
 *
 * Run: deno bench -A tests/parse_linear_bench.ts
 */

import { EmuMachine } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { cpuidOverrides, cpuString } from "./_big_inputs.ts";

for (const [bytes, baseline] of [[128 << 10, true], [1 << 20, false]] as const) {
  const cpu = cpuString(bytes);
  Deno.bench({
    name: `compose a ${bytes >> 10} KiB -cpu string`,
    group: "cpu-string",
    baseline,
    n: 5,
    fn() {
      const machine = compose({ cpu, machine: "q35", host: "linux-6.18" });
      if (!machine.ok) throw new Error(machine.errors.join("; "));
    },
  });
}

const composed = compose({ cpu: "host", machine: "q35", smp: 1, host: "linux-6.18" });
for (const [count, baseline] of [[12_500, true], [100_000, false]] as const) {
  const cpuid = cpuidOverrides(count);
  Deno.bench({
    name: `start a machine with ${count} CPUID overrides`,
    group: "cpuid-overrides",
    baseline,
    n: 5,
    fn() {
      EmuMachine.create(composed, { cpuid });
    },
  });
}
