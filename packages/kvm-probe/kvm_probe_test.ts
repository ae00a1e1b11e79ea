// Tests of @pvkit/kvm-probe. Those that need /dev/kvm register as ignored, with the reason in
// the test name, where it is unusable; every guest runs under the backend's watchdog.

import { hostTimeScale } from "@pvkit/kvm";
import { kvmTest } from "@pvkit/kvm/testing";
import { assert, assertEquals } from "@std/assert";
import { pvclockReadCycles, pvclockTscKhz } from "@pvkit/abi";
import { EmuProbeBackend } from "@pvkit/emu";
import { KvmSystem } from "@pvkit/kvm";
import {
  checkExpectations,
  loadProbeFile,
  parseProbe,
  type Probe,
  type ProbeRun,
  type StepResult,
} from "@pvkit/probe";
import { optionalPlugins } from "@pvkit/pvkit";
import {
  compileVcpu,
  detectHypercalls,
  diffProbeRuns,
  formatDifferences,
  HYPERCALLS_UNAVAILABLE,
  KvmProbeBackend,
  machineCpuid,
  nativeHypercallInsn,
  probeLayout,
} from "./mod.ts";

const CONFORMANCE = new URL("../../tests/conformance/", import.meta.url);
const backend = new KvmProbeBackend({ plugins: optionalPlugins });

function value(r: StepResult | undefined): bigint {
  if (r === undefined || !("value" in r)) {
    throw new Error(`expected a value, got ${JSON.stringify(r, (_, v) => String(v))}`);
  }
  return r.value;
}

const U64_NOTES_OK = (run: ProbeRun): string[] =>
  run.notes.filter((n) => n.startsWith("timeout") || n.includes("stopped"));

// --- without KVM -----------------------------------------------------------------------------

Deno.test("compileVcpu compiles every single-vCPU op and compiles out unavailable hypercalls", () => {
  const probe = parseProbe({
    name: "all",
    machine: {},
    vcpus: [{
      steps: [
        { op: "cpuid", leaf: "0x40000000" },
        { op: "rdmsr", msr: "0x10" },
        { op: "wrmsr", msr: "0x10", value: "0x1" },
        { op: "hypercall", nr: 5 },
        { op: "read", gpa: "0x1000", size: 2 },
        { op: "write", gpa: "0x1000", size: 8, value: "0x1" },
        { op: "zero", gpa: "0x1000", length: 16 },
        { op: "rdtsc" },
        { op: "spin", ns: 1000 },
        { op: "out", port: "0xf4", size: 1, value: 1 },
        { op: "in", port: "0x3f8", size: 4 },
        { op: "sti" },
        { op: "cli" },
        { op: "eoi" },
      ],
    }],
  });
  const c = compileVcpu(probe, 0, {
    layout: probeLayout(probe.machine.memory),
    hypercall: { unavailable: HYPERCALLS_UNAVAILABLE },
    tscKhz: 2_600_000,
    lapic: false,
    enableApic: false,
    barriers: new Map(),
  });
  assert(c.code.toChunk().bytes.length > 100);
  assertEquals([...c.skipped.keys()], [3, 13]);
  assertEquals(c.skipped.get(3), HYPERCALLS_UNAVAILABLE);
  assert(c.skipped.get(13)?.includes("in-kernel local APIC"));
});

Deno.test("machineCpuid applies the composed KVM leaves, then the probe's raw overrides", () => {
  const probe = parseProbe({
    name: "c",
    machine: { cpuid: { "0x40000001": { eax: "0x0" }, "0x40000010": { ebx: "0x5" } } },
    vcpus: [{ steps: [] }],
  });
  const table = machineCpuid(
    [{ function: 0x40000001, index: 0, flags: 0, eax: 1, ebx: 0, ecx: 0, edx: 0 }],
    { "0x40000001": { eax: "0x01007efb", ebx: "0x0", ecx: "0x0", edx: "0x1" } },
    probe,
  );
  assertEquals(table[0].eax, 0);
  assertEquals(table[0].edx, 1);
  assertEquals(table.find((e) => e.function === 0x40000010)?.ebx, 5);
});

Deno.test("diffProbeRuns: faults and exact values differ; skips and constrained values do not", () => {
  const probe = parseProbe({
    name: "d",
    machine: {},
    vcpus: [{
      steps: [
        { op: "rdmsr", msr: "0x10" },
        { op: "read", gpa: "0x1000", size: 4, expect: { even: true } },
        { op: "rdtsc" },
        { op: "hypercall", nr: 5 },
        { op: "read", gpa: "0x1000", size: 4 },
      ],
    }],
  });
  const run = (results: StepResult[]): ProbeRun => ({
    backend: "x",
    vcpus: [{ results, exits: {} }],
    notes: [],
  });
  const emu = run([
    { op: "rdmsr", value: 1n },
    { op: "read", value: 2n },
    { op: "rdtsc", value: 10n },
    { op: "hypercall", ret: 0n },
    { op: "read", value: 1n },
  ]);
  const kvm = run([
    { op: "rdmsr", fault: "GP" },
    { op: "read", value: 4n },
    { op: "rdtsc", value: 99n },
    { op: "hypercall", skipped: HYPERCALLS_UNAVAILABLE },
    { op: "read", value: 3n },
  ]);
  const d = diffProbeRuns(probe, emu, kvm);
  assertEquals(d.map((x) => [x.step, x.kind, x.significant]), [
    [0, "fault", true],
    [3, "skipped", false],
    [4, "value", true],
  ]);
  assert(formatDifferences(d).startsWith("2 differences"));
  assertEquals(formatDifferences(diffProbeRuns(probe, emu, emu)), "no differences");
});

// --- on KVM ----------------------------------------------------------------------------------

kvmTest("A1 on KVM: the 10 PV MSRs #GP on RDMSR and WRMSR; hypercalls skipped", async () => {
  const probe = await loadProbeFile(new URL("a1-pv-enforcement.json", CONFORMANCE).pathname);
  const run = await backend.run(probe, { timeoutMs: 5000 * hostTimeScale() });
  const results = run.vcpus[0].results;
  assertEquals(results.length, 23);
  for (let i = 0; i < 20; i++) {
    assertEquals(results[i], { op: i < 10 ? "rdmsr" : "wrmsr", fault: "GP" }, `step ${i}`);
  }
  for (const r of results.slice(20)) {
    // Where hypercalls work (hardware KVM) they return -KVM_ENOSYS instead.
    if ("skipped" in r) assertEquals(r.skipped, HYPERCALLS_UNAVAILABLE);
    else {
      assertEquals(r, { op: "hypercall", ret: 2n ** 64n - 1000n, site: nativeHypercallInsn() });
    }
  }
  assertEquals(checkExpectations(probe, run), []);
  assertEquals(run.vcpus[0].exits["msr-read"], 10);
  assertEquals(run.vcpus[0].exits["msr-write"], 10);
});

kvmTest("kvmclock on KVM: even version, mul/shift match the vCPU TSC, time advances", async () => {
  const probe = parseProbe({
    name: "kvmclock",
    machine: {},
    vcpus: [{
      steps: [
        { op: "wrmsr", msr: "0x4b564d01", value: "0x2001", expect: { fault: null } },
        { op: "out", port: "0xf4", size: 1, value: 0 },
        { op: "read", gpa: "0x2000", size: 4, label: "version", expect: { even: true } },
        { op: "read", gpa: "0x2008", size: 8, label: "tsc_timestamp" },
        { op: "read", gpa: "0x2010", size: 8, label: "system_time" },
        { op: "read", gpa: "0x2018", size: 4, label: "mul" },
        { op: "read", gpa: "0x201c", size: 1, label: "shift" },
        { op: "read", gpa: "0x201d", size: 1, label: "flags" },
        { op: "rdtsc" },
        { op: "spin", ns: 2_000_000 },
        { op: "rdtsc" },
      ],
    }],
  });
  const run = await backend.run(probe, { timeoutMs: 5000 * hostTimeScale() });
  const r = run.vcpus[0].results;
  assertEquals(checkExpectations(probe, run), [], run.notes.join("\n"));
  const record = {
    tscTimestamp: value(r[3]),
    systemTime: value(r[4]),
    tscToSystemMul: Number(value(r[5])),
    tscShift: Number(BigInt.asIntN(8, value(r[6]))),
  };
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  const vcpuKhz = BigInt(vm.kvmCreateVcpu(0).kvmGetTscKhz());
  const khz = pvclockTscKhz(record.tscToSystemMul, record.tscShift);
  const off = khz > vcpuKhz ? khz - vcpuKhz : vcpuKhz - khz;
  assert(off * 1000n <= vcpuKhz, `pvclock says ${khz} kHz, KVM_GET_TSC_KHZ ${vcpuKhz}`);
  const t1 = pvclockReadCycles(record, value(r[8]));
  const t2 = pvclockReadCycles(record, value(r[10]));
  assert(t1 >= record.systemTime, "kvmclock at the rdtsc is not before the record");
  assert(t2 - t1 >= 2_000_000n, `kvmclock advanced ${t2 - t1} ns over a 2 ms spin`);
  assert(t2 - t1 < 1_000_000_000n, `kvmclock advanced ${t2 - t1} ns over a 2 ms spin`);
});

kvmTest("steal time on KVM: even version, flags 0", async () => {
  const probe = parseProbe({
    name: "steal",
    machine: {},
    vcpus: [{
      steps: [
        { op: "zero", gpa: "0x100000", length: 64 },
        { op: "wrmsr", msr: "0x4b564d03", value: "0x100001", expect: { fault: null } },
        { op: "rdmsr", msr: "0x4b564d03", expect: { value: "0x100001" } },
        { op: "out", port: "0xf4", size: 1, value: 0 },
        { op: "read", gpa: "0x100008", size: 4, label: "version", expect: { even: true } },
        { op: "read", gpa: "0x10000c", size: 4, label: "flags", expect: { value: 0 } },
      ],
    }],
  });
  const run = await backend.run(probe, { timeoutMs: 5000 * hostTimeScale() });
  assertEquals(checkExpectations(probe, run), [], run.notes.join("\n"));
  assert(value(run.vcpus[0].results[4]) >= 2n, "KVM never wrote the record");
});

kvmTest("a guest that hangs ends with a note and timeout skips, within the budget", async () => {
  const probe = parseProbe({
    name: "hang",
    machine: {},
    vcpus: [{ steps: [{ op: "cli" }, { op: "hlt" }, { op: "rdtsc" }] }],
  });
  const started = performance.now();
  const run = await backend.run(probe, { timeoutMs: 300 });
  assert(performance.now() - started < 3000 * hostTimeScale());
  const [cli, hlt, rdtsc] = run.vcpus[0].results;
  assertEquals(cli, { op: "cli" });
  assert("skipped" in hlt && hlt.skipped.startsWith("timeout"), JSON.stringify(hlt));
  assert("skipped" in rdtsc && rdtsc.skipped.startsWith("timeout"));
  assert(U64_NOTES_OK(run).length === 1, run.notes.join("\n"));
});

kvmTest("diffProbeRuns of the emulated and KVM runs of A1 shows no difference", async () => {
  const probe = await loadProbeFile(new URL("a1-pv-enforcement.json", CONFORMANCE).pathname);
  // As pvkit diff: the emulated KVM patches hypercall sites to this host's instruction.
  const emu = await new EmuProbeBackend({
    plugins: optionalPlugins,
    hypercallInsn: nativeHypercallInsn(),
  }).run(probe);
  const kvm = await backend.run(probe, { timeoutMs: 5000 * hostTimeScale() });
  const d = diffProbeRuns(probe, emu, kvm);
  console.log(formatDifferences(d));
  assertEquals(d.filter((x) => x.significant), []);
});

kvmTest("every conformance probe on KVM: which pass, which steps are skipped and why", async () => {
  const files = [...Deno.readDirSync(CONFORMANCE)].map((e) => e.name)
    .filter((n) => n.endsWith(".json")).sort();
  const lines: string[] = [];
  const singleFailures: string[] = [];
  for (const file of files) {
    const probe: Probe = await loadProbeFile(new URL(file, CONFORMANCE).pathname);
    const run = await backend.run(probe, { timeoutMs: 3000 * hostTimeScale() });
    const failures = checkExpectations(probe, run);
    lines.push(`${file}: ${failures.length === 0 ? "pass" : `FAIL (${failures.length})`}`);
    for (const f of failures) {
      lines.push(
        `  failure: vCPU ${f.vcpu} step ${f.step} ${f.op}: ${f.expected}, got ${f.actual}`,
      );
    }
    const skips = new Map<string, number>();
    run.vcpus.forEach((v, i) =>
      v.results.forEach((r) => {
        if ("skipped" in r) {
          const key = `vCPU ${i} ${r.op}: ${r.skipped}`;
          skips.set(key, (skips.get(key) ?? 0) + 1);
        }
      })
    );
    for (const [why, n] of skips) lines.push(`  skipped ${n}x ${why}`);
    if (failures.length > 0) {
      for (const n of run.notes.filter((n) => n.includes("run_delay"))) lines.push(`  note: ${n}`);
    }
    if (probe.vcpus.length === 1 && failures.length > 0) singleFailures.push(file);
  }
  console.log(lines.join("\n"));
  // Multi-vCPU probes depend on host scheduling and on hypercalls (listed above, not failed).
  assertEquals(singleFailures, []);
});

kvmTest("A1-V2 on KVM: KICK_CPU wakes the last-created vCPU halted with IF=0", async () => {
  const probe = await loadProbeFile(new URL("a1v2-pv-unhalt-kick.json", CONFORMANCE).pathname);
  const run = await backend.run(probe, { timeoutMs: 20_000 * hostTimeScale() });
  const support = await detectHypercalls();
  if (!support.available) {
    // The kick is a hypercall: where they hang, the halter is never woken, and says so.
    assert(run.notes.some((n) => n.includes(HYPERCALLS_UNAVAILABLE)), run.notes.join("\n"));
    return;
  }
  assertEquals(run.vcpus[1].results.map((r) => r.op), ["barrier", "cli", "hlt", "out"]);
  assert(run.vcpus[1].results.every((r) => !("skipped" in r)), run.notes.join("\n"));
  assertEquals(checkExpectations(probe, run), []);
});
