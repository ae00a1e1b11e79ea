/**
 * The emulated backend as a probe runner: each probe step becomes the guest instruction it
 * names, executed on an {@linkcode EmuMachine} (tests/conformance and `pvkit probe --backend emu`).
 *
 * @module
 */

import type { PvPlugin } from "@pvkit/machine";
import {
  type HypercallSite,
  type Probe,
  type ProbeBackend,
  type ProbeRun,
  type Step,
  type StepResult,
  usesApicInterrupts,
  type VcpuRun,
  x2apicMsr,
} from "@pvkit/probe";
import { xapicMmioRead, xapicMmioWrite } from "./apic_registers.ts";
import { composeProbeMachine } from "@pvkit/pvkit";
import { DEFAULT_MAX_STEPS, EmuMachine } from "./emu_machine.ts";
import type { EmuVcpu } from "./emu_vcpu.ts";
import type { GuestBlock } from "./guest_block.ts";

/** Options of the emulated probe backend. */
export interface EmuProbeBackendOptions {
  /** The host profile the emulated KVM follows (default `linux-6.18`, this project's hosts). */
  readonly host?: string;
  /** Plugins a probe may ask for by name in `machine.plugins` (default: pvkit's opt-in plugins). */
  readonly plugins?: ReadonlyMap<string, PvPlugin>;
  /** CLOCK_REALTIME at VM creation (default: the real time then). */
  readonly wallClockEpochNs?: bigint;
  /** The scheduling steps a probe's run may take (default {@linkcode DEFAULT_MAX_STEPS}). */
  readonly maxSteps?: number;
  /**
   * The host's native hypercall instruction (default `"vmcall"`, Intel's): a hypercall step
   * with the other one has its site rewritten to this one, as KVM does (emulator_fix_hypercall).
   * `pvkit diff` sets it from the KVM host it compares with.
   */
  readonly hypercallInsn?: "vmcall" | "vmmcall";
}

const U64 = (1n << 64n) - 1n;

/** Counts KVM_EXIT_HYPERCALL exits handed to the VMM, per vCPU. */
const USER_EXIT = "userspace-hypercall";

/**
 * Runs probes on the emulated backend.
 *
 * @example
 * ```ts
 * import { EmuProbeBackend } from "@pvkit/emu";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "sig", machine: {}, vcpus: [{ steps: [{ op: "cpuid", leaf: "0x40000000" }] }] });
 * const run = await new EmuProbeBackend().run(probe);
 * console.log(run.vcpus[0].results[0]);
 * ```
 */
export class EmuProbeBackend implements ProbeBackend {
  /** The backend's name in reports. */
  readonly name = "emu";
  readonly #options: EmuProbeBackendOptions;

  /** Creates the backend. */
  constructor(options: EmuProbeBackendOptions = {}) {
    this.#options = options;
  }

  /** Runs a probe to completion (virtual time: it cannot hang). */
  run(probe: Probe): Promise<ProbeRun> {
    return Promise.resolve(this.runSync(probe));
  }

  /** Builds the machine a probe describes. */
  machineFor(probe: Probe, userExits: number[]): EmuMachine {
    const m = probe.machine;
    const composed = composeProbeMachine(probe, {
      backend: "emulated",
      host: this.#options.host ?? "linux-6.18",
      plugins: this.#options.plugins,
    });
    const vm = EmuMachine.create(composed, {
      memory: m.memory,
      tscKhz: m.tscKhz,
      enforcePvCpuid: m.enforcePvCpuid,
      // pvkit's KVM probe backend does KVM_SET_LAPIC on every vCPU, as QEMU does at reset.
      setLapicOnCreate: true,
      // kvm_lapic_reset's SVR (0xff) after INIT and RESET; the start state is set below.
      apicSoftwareEnabledAtReset: false,
      cpuid: m.cpuid,
      exitHypercall: m.exitHypercall,
      // A1-V1: userspace resumes without writing run->hypercall.ret, which KVM preset to 0.
      onUserHypercall: (vcpu) => {
        userExits[vcpu.index]++;
        return 0n;
      },
      ...(this.#options.wallClockEpochNs !== undefined
        ? { wallClockEpochNs: this.#options.wallClockEpochNs }
        : {}),
    });
    // The local APICs as the KVM probe backend leaves them (see usesApicInterrupts).
    const booted = usesApicInterrupts(probe);
    for (const v of vm.vcpus) {
      if (!v.apic) continue;
      v.apic.x2apic = booted;
      v.apic.softwareEnabled = booted;
    }
    vm.apicMap.invalidate();
    if (m.clock) {
      const offset = m.clock.realtimeOffsetNs;
      vm.setClock(m.clock.clock, offset === undefined ? undefined : vm.realtimeNs() + offset);
    }
    return vm;
  }

  /** Runs a probe synchronously. */
  runSync(probe: Probe): ProbeRun {
    const userExits = probe.vcpus.map(() => 0);
    const vm = this.machineFor(probe, userExits);
    const results: StepResult[][] = probe.vcpus.map(() => []);
    const barrierSizes = new Map<string, number>();
    for (const vcpu of probe.vcpus) {
      for (const step of vcpu.steps) {
        if (step.op === "barrier") barrierSizes.set(step.id, (barrierSizes.get(step.id) ?? 0) + 1);
      }
    }
    const native = this.#options.hypercallInsn ?? "vmcall";
    const programs = probe.vcpus.map((vcpu, i) =>
      function* (cpu: EmuVcpu): Generator<GuestBlock, void, void> {
        let seen = 0;
        for (const step of vcpu.steps) {
          results[i].push(yield* execute(cpu, step, native, () => seen, (n) => (seen = n)));
          yield { kind: "yield" };
        }
      }
    );
    // The run's kvmclock bracket (what KVM_GET_CLOCK reads before and after a run on KVM).
    const clockBefore = vm.kvmclockNs();
    const maxSteps = this.#options.maxSteps ?? DEFAULT_MAX_STEPS;
    const summary = vm.run(programs, {
      barrierSize: (id) => barrierSizes.get(id) ?? 1,
      maxSteps,
    });
    const clockBracket = { before: clockBefore, after: vm.kvmclockNs() };
    const notes: string[] = [];
    if (summary.stepLimitReached) {
      notes.push(
        `the run stopped at its limit of ${maxSteps} scheduling steps with vCPU(s) ` +
          `${summary.unfinished.join(", ")} not finished`,
      );
    }
    for (const index of summary.blocked) {
      notes.push(
        `vCPU ${index} was still blocked when nothing else could run (a hlt or barrier nobody ended)`,
      );
    }
    const vcpus: VcpuRun[] = vm.vcpus.map((v, i) => ({
      results: results[i],
      exits: { ...v.exits, [USER_EXIT]: userExits[i] },
    }));
    return { backend: this.name, clockBracket, vcpus, notes };
  }
}

function* execute(
  cpu: EmuVcpu,
  step: Step,
  native: HypercallSite,
  seen: () => number,
  markSeen: (n: number) => void,
): Generator<GuestBlock, StepResult, void> {
  switch (step.op) {
    case "cpuid": {
      const r = cpu.cpuid(step.leaf, step.subleaf);
      return {
        op: "cpuid",
        eax: BigInt(r.eax),
        ebx: BigInt(r.ebx),
        ecx: BigInt(r.ecx),
        edx: BigInt(r.edx),
      };
    }
    case "rdmsr": {
      if (step.cpl !== 0) return { op: "rdmsr", fault: "GP" }; // RDMSR is privileged
      const r = cpu.rdmsr(step.msr);
      return r.kind === "value"
        ? { op: "rdmsr", value: r.value & U64 }
        : { op: "rdmsr", fault: "GP" };
    }
    case "wrmsr": {
      if (step.cpl !== 0) return { op: "wrmsr", fault: "GP" };
      const r = cpu.wrmsr(step.msr, step.value);
      return r.kind === "ok" ? { op: "wrmsr" } : { op: "wrmsr", fault: "GP" };
    }
    case "hypercall": {
      const saved = [cpu.longMode, cpu.cpl] as const;
      cpu.longMode = step.mode === "64";
      cpu.cpl = step.cpl;
      const ret = cpu.hypercall(step.nr, ...step.args);
      [cpu.longMode, cpu.cpl] = saved;
      // KVM_X86_QUIRK_FIX_HYPERCALL_INSN (on by default): the other vendor's instruction traps
      // (#UD), KVM patches the site to the native one and runs the hypercall.
      return { op: "hypercall", ret, site: native };
    }
    case "apic-read": {
      if (step.via === "mmio") {
        cpu.enter();
        const value = xapicMmioRead(cpu, step.reg);
        cpu.exit("mmio");
        return { op: "apic-read", value };
      }
      const r = cpu.rdmsr(x2apicMsr(step.reg));
      return r.kind === "value"
        ? { op: "apic-read", value: r.value }
        : { op: "apic-read", fault: "GP" };
    }
    case "apic-write": {
      if (step.via === "mmio") {
        cpu.enter();
        xapicMmioWrite(cpu, step.reg, Number(step.value));
        cpu.exit("mmio");
        return { op: "apic-write" };
      }
      const r = cpu.wrmsr(x2apicMsr(step.reg), step.value);
      return r.kind === "ok" ? { op: "apic-write" } : { op: "apic-write", fault: "GP" };
    }
    case "init":
      cpu.vm.resetVcpu(cpu.index, "init");
      return { op: "init" };
    case "reset":
      cpu.vm.resetVcpu(cpu.index, "reset");
      return { op: "reset" };
    case "read":
      return { op: "read", value: cpu.load64(step.gpa, step.size) };
    case "write":
      cpu.store64(step.gpa, step.size, step.value);
      return { op: "write" };
    case "zero":
      cpu.zero(step.gpa, step.length);
      return { op: "zero" };
    case "rdtsc":
      return { op: "rdtsc", value: cpu.rdtsc() };
    case "spin":
      yield { kind: "spin", ns: step.ns };
      return { op: "spin" };
    case "preempt":
      yield { kind: "preempt", ns: step.ns };
      return { op: "preempt" };
    case "hlt":
      yield { kind: "hlt" };
      return { op: "hlt" };
    case "out":
      cpu.out(step.port, step.size, Number(step.value));
      return { op: "out" };
    case "in":
      return { op: "in", value: BigInt(cpu.in(step.port, step.size)) };
    case "barrier":
      yield { kind: "barrier", id: step.id };
      return { op: "barrier" };
    case "sti":
      cpu.sti();
      return { op: "sti" };
    case "cli":
      cpu.cli();
      return { op: "cli" };
    case "eoi":
      cpu.apicEoi();
      return { op: "eoi" };
    case "sendIpi":
      cpu.sendIpi(step.apicId, step.vector);
      return { op: "sendIpi" };
    case "wait-irq": {
      const deadline = cpu.clock + BigInt(step.timeoutNs);
      for (;;) {
        cpu.needsEntry = true; // the interrupt window is checked at this instruction boundary
        cpu.enter();
        const at = cpu.delivered.indexOf(step.vector, seen());
        if (at >= 0) {
          markSeen(at + 1);
          return { op: "wait-irq", timeout: false };
        }
        if (cpu.clock >= deadline) return { op: "wait-irq", timeout: true };
        yield { kind: "wait-irq", vector: step.vector, timeoutNs: deadline - cpu.clock };
      }
    }
  }
}
