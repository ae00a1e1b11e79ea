/**
 * What does a QEMU command line give the guest? The operator's question, answered in code.
 *
 * Run: deno run -A examples/what_does_my_cpu_string_give.ts
 */

import { compose } from "@pvkit/pvkit";

for (const host of ["linux-4.19", "linux-5.10", "linux-6.12"]) {
  const machine = compose({
    cpu: "host,kvm-pv-ipi=off",
    machine: "q35,kernel-irqchip=split",
    smp: 8,
    host,
  });
  const on = machine.features.filter((f) => f.enabled).map((f) => f.name);
  console.log(`${host}: CPUID 0x40000001 EAX=${machine.leaves["0x40000001"].eax}`);
  console.log(`  on: ${on.join(", ")}`);
  for (const w of machine.warnings) console.log(`  warning: ${w}`);
}
