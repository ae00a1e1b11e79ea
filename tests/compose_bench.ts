/**
 * Composition speed: a 32768-vCPU machine with every PV feature, per-vCPU CPUID included
 * (target: under 200 ms), against a baseline that only computes the 32768 APIC IDs.
 *
 * Run: deno task bench (or deno bench -A tests/compose_bench.ts).
 */

import { apicIdOf, simpleTopology } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { ALL_FEATURES_32768 } from "./_big_machine.ts";

Deno.bench({
  name: "32768 APIC IDs only (baseline)",
  group: "compose-32768",
  baseline: true,
  fn() {
    const topology = simpleTopology(32768);
    const ids = new Uint32Array(32768);
    for (let i = 0; i < ids.length; i++) ids[i] = apicIdOf(topology, i);
  },
});

Deno.bench({
  name: "compose 32768 vCPUs, every feature, per-vCPU CPUID",
  group: "compose-32768",
  fn() {
    const machine = compose(ALL_FEATURES_32768);
    if (!machine.ok || machine.vcpus?.count !== 32768) throw new Error(machine.errors.join("; "));
  },
});

Deno.bench({
  name: "compose the default machine (-cpu qemu64 -machine pc)",
  group: "compose-small",
  fn() {
    compose({ host: "linux-6.18" });
  },
});
