import { assertEquals } from "@std/assert";
import { checkExpectations } from "./expect.ts";
import { loadProbeFile, parseProbe } from "./parse_probe.ts";
import type { StepResult } from "./types.ts";

const here = (path: string): string => new URL(path, import.meta.url).pathname;

Deno.test("examples/enforcement.json parses into kvm_pv_test.c's enforcement cases", async () => {
  const probe = await loadProbeFile(here("./examples/enforcement.json"));
  assertEquals(probe.machine.enforcePvCpuid, true);
  assertEquals(probe.machine.cpuid, [{ leaf: 0x40000001, eax: 0 }]);
  assertEquals(probe.machine.smp, 1);
  const steps = probe.vcpus[0].steps;
  assertEquals(steps.length, 23);

  // The 10 PV MSRs, each read and written (value 0) and expected to #GP.
  const msrs = [
    0x12,
    0x4b564d01,
    0x11,
    0x4b564d00,
    0x4b564d02,
    0x4b564d03,
    0x4b564d04,
    0x4b564d05,
    0x4b564d06,
    0x4b564d07,
  ];
  assertEquals(
    steps.slice(0, 20).map((s) => s.op === "rdmsr" || s.op === "wrmsr" ? [s.op, s.msr] : [s.op]),
    msrs.flatMap((m) => [["rdmsr", m], ["wrmsr", m]]),
  );
  for (const s of steps.slice(0, 20)) {
    assertEquals(s.expect, { fault: "GP" });
    if (s.op === "wrmsr") assertEquals(s.value, 0n);
  }

  // KICK_CPU, SEND_IPI, SCHED_YIELD with zero arguments return -KVM_ENOSYS.
  assertEquals(
    steps.slice(20).map((s) => s.op === "hypercall" ? [s.nr, s.args, s.mode, s.expect] : []),
    [5n, 10n, 11n].map((
      nr,
    ) => [nr, [0n, 0n, 0n, 0n], "64", { fault: null, ret: (1n << 64n) - 1000n }]),
  );

  // What KVM does passes.
  const results = steps.map((s): StepResult =>
    s.op === "hypercall"
      ? { op: "hypercall", ret: (1n << 64n) - 1000n }
      : s.op === "rdmsr"
      ? { op: "rdmsr", fault: "GP" }
      : { op: "wrmsr", fault: "GP" }
  );
  assertEquals(
    checkExpectations(probe, { backend: "t", vcpus: [{ results, exits: {} }], notes: [] }),
    [],
  );
});

Deno.test("every JSON probe in the README parses", async () => {
  const readme = await Deno.readTextFile(here("./README.md"));
  const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]);
  const probes = blocks.map((b) => JSON.parse(b)).filter((j) => j.vcpus !== undefined);
  assertEquals(probes.length > 0, true);
  for (const json of probes) parseProbe(json, "README.md");
});
