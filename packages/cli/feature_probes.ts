/**
 * The built-in feature probes `deno task demo` runs: one small probe per PV feature, each with
 * the key reading it produces (kvmclock ns, TSC kHz from mul/shift, steal ns, exits saved…).
 *
 * @module
 */

import { pvclockReadCycles, pvclockTscKhz } from "@pvkit/abi";
import { parseProbe, type Probe, type ProbeRun, type StepResult } from "@pvkit/probe";

/** A built-in probe and how to read its result. */
export interface FeatureProbe {
  /** The feature it exercises. */
  readonly feature: string;
  /** The probe. */
  readonly probe: Probe;
  /** The key reading, from the run's results. */
  reading(run: ProbeRun): string;
}

const value = (r: StepResult | undefined): bigint =>
  r && "value" in r ? r.value : r && "ret" in r ? r.ret : 0n;

/** Result `i` of vCPU `v`. */
const at = (run: ProbeRun, v: number, i: number): bigint => value(run.vcpus[v]?.results[i]);

const signed = (x: bigint): bigint => BigInt.asIntN(64, x);

function probe(json: unknown): Probe {
  return parseProbe(json, "built-in probe");
}

const KVMCLOCK = probe({
  name: "kvmclock",
  description: "enable kvmclock, let KVM fill the pvclock record, read it and the TSC",
  machine: { cpu: "host" },
  vcpus: [{
    steps: [
      { op: "wrmsr", msr: "0x4b564d01", value: "0x1001", expect: { fault: null } },
      { op: "spin", ns: 1_000_000 },
      { op: "read", gpa: "0x1000", size: 4, label: "version", expect: { even: true } },
      { op: "read", gpa: "0x1008", size: 8, label: "tsc_timestamp" },
      { op: "read", gpa: "0x1010", size: 8, label: "system_time" },
      { op: "read", gpa: "0x1018", size: 4, label: "tsc_to_system_mul", expect: { min: 1 } },
      { op: "read", gpa: "0x101c", size: 1, label: "tsc_shift" },
      { op: "read", gpa: "0x101d", size: 1, label: "flags" },
      { op: "rdtsc", label: "now" },
    ],
  }],
});

const WALL_CLOCK = probe({
  name: "kvmclock-wall-clock",
  machine: { cpu: "host" },
  vcpus: [{
    steps: [
      { op: "wrmsr", msr: "0x4b564d00", value: "0x2000" },
      { op: "read", gpa: "0x2000", size: 4, label: "version", expect: { even: true, min: 2 } },
      { op: "read", gpa: "0x2004", size: 4, label: "sec", expect: { min: 1 } },
      { op: "read", gpa: "0x2008", size: 4, label: "nsec", expect: { max: 999_999_999 } },
    ],
  }],
});

const STEAL = probe({
  name: "steal-time",
  machine: { cpu: "host" },
  vcpus: [{
    steps: [
      { op: "zero", gpa: "0x3000", length: 64 },
      { op: "wrmsr", msr: "0x4b564d03", value: "0x3001", expect: { fault: null } },
      { op: "preempt", ns: 2_000_000 },
      { op: "out", port: "0xf4", size: 1, value: 0 },
      { op: "read", gpa: "0x3008", size: 4, label: "version", expect: { even: true } },
      { op: "read", gpa: "0x3000", size: 8, label: "steal", expect: { min: 2_000_000 } },
    ],
  }],
});

const PV_IPI = probe({
  name: "pv-ipi",
  machine: { cpu: "host,kvm-pv-ipi=on", machine: "q35,kernel-irqchip=split", smp: 8 },
  vcpus: [
    {
      steps: [
        { op: "barrier", id: "ready" },
        {
          op: "hypercall",
          nr: 10,
          args: ["0xfe", "0x0", "0x0", "0x40"],
          label: "SEND_IPI to APIC IDs 1-7",
          expect: { ret: 7 },
        },
      ],
    },
    ...Array.from({ length: 7 }, () => ({
      steps: [{ op: "sti" }, { op: "barrier", id: "ready" }, {
        op: "wait-irq",
        vector: 0x40,
        timeoutNs: 100_000_000,
        expect: { timeout: false },
      }],
    })),
  ],
});

const PV_UNHALT = probe({
  name: "pv-unhalt",
  machine: { cpu: "host,kvm-pv-unhalt=on", smp: 2 },
  vcpus: [
    {
      steps: [{ op: "spin", ns: 100_000 }, {
        op: "hypercall",
        nr: 5,
        args: [0, 1],
        label: "KICK_CPU(APIC ID 1)",
        expect: { ret: 0 },
      }],
    },
    { steps: [{ op: "cli" }, { op: "hlt", label: "woken by the kick" }] },
  ],
});

const POLL_CONTROL = probe({
  name: "poll-control",
  machine: { cpu: "host,kvm-poll-control=on" },
  vcpus: [{
    steps: [
      { op: "rdmsr", msr: "0x4b564d05", label: "reset value", expect: { value: 1 } },
      { op: "wrmsr", msr: "0x4b564d05", value: 0, label: "host polling off" },
      { op: "rdmsr", msr: "0x4b564d05", expect: { value: 0 } },
      { op: "wrmsr", msr: "0x4b564d05", value: 2, label: "reserved bit", expect: { fault: "GP" } },
    ],
  }],
});

const ASYNC_PF = probe({
  name: "async-pf",
  machine: { cpu: "host", machine: "q35,kernel-irqchip=split" },
  vcpus: [{
    steps: [
      { op: "zero", gpa: "0x4000", length: 64 },
      { op: "wrmsr", msr: "0x4b564d06", value: "0xf3", label: "page-ready vector" },
      { op: "wrmsr", msr: "0x4b564d02", value: "0x4009", label: "EN | DELIVERY_AS_INT" },
      { op: "sti" },
      { op: "wait-irq", vector: "0xf3", timeoutNs: 100_000_000, expect: { timeout: false } },
      { op: "read", gpa: "0x4004", size: 4, label: "token", expect: { value: "0xffffffff" } },
      { op: "write", gpa: "0x4004", size: 4, value: 0 },
      { op: "eoi" },
      { op: "wrmsr", msr: "0x4b564d07", value: 1, label: "ACK" },
    ],
  }],
});

const CLOCK_PAIRING = probe({
  name: "clock-pairing",
  machine: { cpu: "host" },
  vcpus: [{
    steps: [
      { op: "spin", ns: 1_000_000 },
      { op: "hypercall", nr: 9, args: ["0x5000", 0], expect: { ret: 0 } },
      { op: "read", gpa: "0x5000", size: 8, label: "sec", expect: { min: 1 } },
      { op: "read", gpa: "0x5010", size: 8, label: "tsc" },
      { op: "hypercall", nr: 9, args: ["0x5000", 1], label: "clock type 1", expect: { ret: -95 } },
    ],
  }],
});

const PV_EOI = probe({
  name: "pv-eoi",
  machine: { cpu: "host", machine: "q35,kernel-irqchip=split", smp: 2 },
  vcpus: [
    { steps: [{ op: "barrier", id: "armed" }, { op: "sendIpi", apicId: 1, vector: "0x50" }] },
    {
      steps: [
        { op: "zero", gpa: "0x6000", length: 8 },
        { op: "wrmsr", msr: "0x4b564d04", value: "0x6001", expect: { fault: null } },
        { op: "sti" },
        { op: "barrier", id: "armed" },
        { op: "wait-irq", vector: "0x50", timeoutNs: 100_000_000, expect: { timeout: false } },
        // 1 when the host armed PV EOI at the injecting entry; 0 when an exit came before this
        // read (the host then clears an unused arming), which depends on the backend's timing.
        { op: "read", gpa: "0x6000", size: 1, label: "armed by the host", expect: { max: 1 } },
        { op: "write", gpa: "0x6000", size: 1, value: 0, label: "the guest's EOI: clear the bit" },
        {
          op: "out",
          port: "0xf4",
          size: 1,
          value: 0,
          label: "next exit: the host completes the EOI",
        },
      ],
    },
  ],
});

const NOPIODELAY = probe({
  name: "nopiodelay",
  machine: { cpu: "host" },
  vcpus: [{ steps: [{ op: "cpuid", leaf: "0x40000001", label: "features" }] }],
});

const ENFORCEMENT = probe({
  name: "enforcement",
  machine: { cpu: "host", enforcePvCpuid: true, cpuid: { "0x40000001": { eax: 0 } } },
  vcpus: [{
    steps: [
      { op: "rdmsr", msr: "0x4b564d01", expect: { fault: "GP" } },
      { op: "wrmsr", msr: "0x4b564d03", value: 0, expect: { fault: "GP" } },
      { op: "hypercall", nr: 10, expect: { ret: -1000 } },
      { op: "hypercall", nr: 1, label: "VAPIC_POLL_IRQ is not gated", expect: { ret: 0 } },
      { op: "hypercall", nr: 5, cpl: 3, label: "CPL 3", expect: { ret: -1 } },
    ],
  }],
});

/**
 * The built-in feature probes, in the order the demo prints them.
 *
 * @example
 * ```ts
 * import { featureProbes } from "@pvkit/cli";
 * console.log(featureProbes.map((p) => p.feature).join(", "));
 * ```
 */
export const featureProbes: readonly FeatureProbe[] = [
  {
    feature: "kvmclock",
    probe: KVMCLOCK,
    reading(run) {
      const mul = Number(at(run, 0, 5));
      const shift = Number(BigInt.asIntN(8, at(run, 0, 6)));
      const ns = pvclockReadCycles({
        tscTimestamp: at(run, 0, 3),
        systemTime: at(run, 0, 4),
        tscToSystemMul: mul,
        tscShift: shift,
      }, at(run, 0, 8));
      const stable = (at(run, 0, 7) & 1n) === 1n ? ", TSC stable" : "";
      return `kvmclock ${ns} ns, TSC ${pvclockTscKhz(mul, shift)} kHz from mul/shift${stable}`;
    },
  },
  {
    feature: "kvmclock (wall clock)",
    probe: WALL_CLOCK,
    reading: (run) => `boot time ${new Date(Number(at(run, 0, 2)) * 1000).toISOString()}`,
  },
  {
    feature: "kvm-steal-time",
    probe: STEAL,
    reading: (run) => `steal ${at(run, 0, 5)} ns after a 2 ms preemption`,
  },
  {
    feature: "kvm-pv-ipi",
    probe: PV_IPI,
    reading: (run) =>
      `1 hypercall delivered ${signed(at(run, 0, 1))} IPIs (${
        signed(at(run, 0, 1)) - 1n
      } exits saved)`,
  },
  {
    feature: "kvm-pv-unhalt",
    probe: PV_UNHALT,
    reading: (run) => `KICK_CPU returned ${signed(at(run, 0, 1))}; the halted vCPU woke with IF=0`,
  },
  {
    feature: "kvm-poll-control",
    probe: POLL_CONTROL,
    reading: (run) => `reset value ${at(run, 0, 0)}, host polling off after writing 0`,
  },
  {
    feature: "kvm-asyncpf-int",
    probe: ASYNC_PF,
    reading: (run) => `page-ready token 0x${at(run, 0, 5).toString(16)} (wake all) on vector 0xf3`,
  },
  {
    feature: "kvm-pv-eoi",
    probe: PV_EOI,
    reading: (run) =>
      at(run, 1, 5) === 1n
        ? `PV EOI armed at delivery; ${
          run.vcpus[1]?.exits.eoi ?? 0
        } EOI exits (the host completed it)`
        : "an exit came between delivery and the guest's EOI, so the host cleared the arming",
  },
  {
    feature: "kvm-nopiodelay",
    probe: NOPIODELAY,
    reading: (run) => {
      const r = run.vcpus[0]?.results[0];
      const on = r && "eax" in r && (r.eax & 2n) !== 0n;
      return on
        ? "CPUID 0x40000001.EAX bit 1 set: the guest skips every port-0x80 delay exit"
        : "bit 1 clear: every slow port I/O costs an extra port-0x80 exit";
    },
  },
  {
    feature: "clock pairing",
    probe: CLOCK_PAIRING,
    reading: (run) => `host realtime ${at(run, 0, 2)} s paired with guest TSC ${at(run, 0, 3)}`,
  },
  {
    feature: "enforcement",
    probe: ENFORCEMENT,
    reading: () => "ungated MSRs #GP, hypercalls -1000, CPL 3 -1",
  },
];
