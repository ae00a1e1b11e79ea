/**
 * Shared set-up for the `feature_*.ts` examples (the underscore: not an example itself).
 *
 * - {@linkcode boot}: compose a machine from a `-cpu` string (host profile `linux-6.18`,
 *   `q35,kernel-irqchip=split` unless told otherwise), start it on the emulated backend and
 *   boot a Linux-like {@linkcode KvmGuest} on every vCPU; exit counters are zeroed afterwards,
 *   so they count the workload only.
 * - {@linkcode run}: one guest program per vCPU, each entering KVM before it resumes.
 * - {@linkcode takeInterrupts}: handle what KVM injected, as Linux's handlers would.
 * - {@linkcode exits}: the exits of every vCPU, summed; {@linkcode table}: prints rows.
 *
 * Run (does nothing on its own): deno run -A examples/_harness.ts
 *
 * @module
 */

import {
  EmuGuestCpu,
  EmuMachine,
  type EmuOptions,
  type ExitCounts,
  type GuestBlock,
  type RunOptions,
  type RunSummary,
  sumExitCounts,
} from "@pvkit/emu";
import { KvmGuest } from "@pvkit/guest";
import { LINUX_HYPERVISOR_CALLBACK_VECTOR } from "@pvkit/abi";
import { compose } from "@pvkit/pvkit";
import type { ComposedMachine } from "@pvkit/machine";

/** The host profile every example uses. */
export const HOST = "linux-6.18";
/** The default `-machine`. */
export const MACHINE = "q35,kernel-irqchip=split";
/** CLOCK_REALTIME at VM creation (2026-01-01T00:00:00Z), so runs are deterministic. */
export const WALL_CLOCK_EPOCH_NS = 1_767_225_600_000_000_000n;

/** What to build. */
export interface Setup {
  /** `-cpu`. */
  readonly cpu: string;
  /** `-smp` (default 1). */
  readonly smp?: number;
  /** `-machine` (default {@linkcode MACHINE}). */
  readonly machine?: string;
  /** Emulated-host options (the wall clock is fixed unless given). */
  readonly emu?: EmuOptions;
}

/** A booted machine. */
export interface Booted {
  /** The composition (features, warnings, notes). */
  readonly composed: ComposedMachine;
  /** The emulated machine. */
  readonly vm: EmuMachine;
  /** The guest (its drivers and decisions). */
  readonly guest: KvmGuest;
}

/** A guest program on one vCPU, as the guest drivers see it. */
export type Program = (cpu: EmuGuestCpu) => Generator<GuestBlock, void, void>;

/** Composes `setup` (throwing on a composition error) and starts it, without booting a guest. */
export function start(setup: Setup): { composed: ComposedMachine; vm: EmuMachine } {
  const composed = compose({
    cpu: setup.cpu,
    machine: setup.machine ?? MACHINE,
    smp: setup.smp ?? 1,
    host: HOST,
  });
  if (!composed.ok) throw new Error(`-cpu ${setup.cpu}: ${composed.errors.join("; ")}`);
  const vm = EmuMachine.create(composed, { wallClockEpochNs: WALL_CLOCK_EPOCH_NS, ...setup.emu });
  return { composed, vm };
}

/** Composes, starts, boots the guest on vCPU 0 and brings the others online; zeroes the exits. */
export function boot(setup: Setup): Booted {
  const { composed, vm } = start(setup);
  const guest = new KvmGuest({ possibleCpus: vm.vcpus.length });
  run(
    vm,
    vm.vcpus.map(() =>
      function* (cpu) {
        if (cpu.index === 0) guest.boot(cpu);
        yield { kind: "barrier", id: "booted" };
        if (cpu.index !== 0) guest.onlineCpu(cpu);
      }
    ),
  );
  for (const v of vm.vcpus) {
    for (const k of Object.keys(v.exits) as (keyof ExitCounts)[]) v.exits[k] = 0;
    if (v.apic) v.apic.eois = 0;
  }
  return { composed, vm, guest };
}

/**
 * Runs one program per vCPU (`undefined`: that vCPU stays idle). Before the program resumes
 * after each yield, the vCPU goes through KVM's entry (pending requests, interrupt injection,
 * PV EOI arming), as on KVM, where no guest instruction runs before the entry.
 */
export function run(
  vm: EmuMachine,
  programs: readonly (Program | undefined)[],
  options?: RunOptions,
): RunSummary {
  return vm.run(
    vm.vcpus.map((vcpu, i) => {
      const program = programs[i];
      if (!program) return undefined;
      return function* () {
        const it = program(new EmuGuestCpu(vcpu));
        for (;;) {
          vcpu.enter();
          const step = it.next();
          if (step.done) return;
          yield step.value;
        }
      };
    }),
    options,
  );
}

const taken = new WeakMap<EmuGuestCpu["vcpu"], number>();

/**
 * Takes every interrupt KVM injects into `cpu` now, as Linux's handlers would: the async-PF
 * 'page ready' vector (0xF3) goes to the guest's handler (EOI, wake, ACK), any other vector to
 * `handler` and then an EOI. After each handler the vCPU re-enters, which may inject the next
 * pending one. Returns the vectors taken, in order.
 */
export function takeInterrupts(
  guest: KvmGuest,
  cpu: EmuGuestCpu,
  handler: (vector: number) => void = () => {},
): number[] {
  const vcpu = cpu.vcpu;
  const out: number[] = [];
  for (let seen = taken.get(vcpu) ?? 0;; seen++) {
    vcpu.enter();
    if (seen >= vcpu.delivered.length) {
      taken.set(vcpu, seen);
      return out;
    }
    const vector = vcpu.delivered[seen];
    out.push(vector);
    if (vector === LINUX_HYPERVISOR_CALLBACK_VECTOR) guest.onPageReadyInterrupt(cpu);
    else {
      handler(vector);
      guest.eoi(cpu);
    }
  }
}

/** The exits of every vCPU, summed by reason. */
export function exits(vm: EmuMachine): ExitCounts {
  return sumExitCounts(vm.vcpus.map((v) => v.exits));
}

/** All exits in `counts`. */
export function total(counts: ExitCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Nanoseconds as microseconds with one decimal. */
export function us(ns: bigint | number): string {
  return (Number(ns) / 1000).toFixed(1);
}

/** Prints a header and rows as aligned columns (numeric cells right-aligned). */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = (c: string) => /^[-+]?[\d.]+( ?[a-zµ%]+)?$/.test(c);
  for (const [n, r] of cells.entries()) {
    const line = r.map((c, i) => n > 0 && numeric(c) ? c.padStart(widths[i]) : c.padEnd(widths[i]));
    console.log(line.join("  ").trimEnd());
    if (n === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}
