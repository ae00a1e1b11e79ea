/**
 * Assembling a machine one plugin at a time, and what pvkit says when a rule is broken.
 *
 * Run: deno run -A examples/assemble_with_the_builder.ts
 */

import { MachineBuilder } from "@pvkit/pvkit";
import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";
import { kvmPvTlbFlush } from "@pvkit/kvm-pv-tlb-flush";
import { kvmStealTime } from "@pvkit/kvm-steal-time";
import { kvmMsiExtDestId } from "@pvkit/kvm-msi-ext-dest-id";

const good = new MachineBuilder()
  .use(kvmPvEoi)
  .use(kvmStealTime)
  .use(kvmPvTlbFlush)
  .use(kvmMsiExtDestId)
  .irqchip("split")
  .x2apic()
  .smp(1024)
  .host("linux-6.12")
  .build();
console.log("ok:", good.ok, "EAX:", good.leaves["0x40000001"].eax);
console.log("APIC ID of vCPU 1023:", good.vcpus?.apicId(1023));

const bad = new MachineBuilder().use(kvmPvTlbFlush).use(kvmMsiExtDestId).smp(4).host("linux-6.12")
  .build();
console.log("ok:", bad.ok);
for (const e of bad.errors) console.log("error:", e);
