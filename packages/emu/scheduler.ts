/**
 * The host scheduler: vCPUs pinned round-robin to host CPUs, time slices where they share one,
 * run_delay for the time a runnable vCPU waits, and vcpu_load/vcpu_put at every switch (so the
 * steal-time record and its preempted byte change exactly when KVM would change them).
 *
 * @module
 */

import type { EmuVcpu } from "./emu_vcpu.ts";
import { ClockHeap } from "./_clock_heap.ts";
import { RunQueue } from "./_run_queue.ts";

interface HostCpu {
  readonly index: number;
  current: EmuVcpu | undefined;
  readonly queue: RunQueue<EmuVcpu>;
  sliceEnd: bigint;
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** Schedules emulated vCPUs on emulated host CPUs. */
export class Scheduler {
  readonly #cpus: HostCpu[];
  readonly #slice: bigint;
  readonly #waitingSince = new Map<EmuVcpu, bigint>();
  /**
   * The busy host CPUs by (clock of their vCPU, CPU index), so a step costs O(log CPUs) however
   * many vCPUs there are. Sorted lazily: a CPU's key may lag its vCPU's clock (a running vCPU's
   * clock only grows) and is brought up to date when it reaches the top.
   */
  readonly #busy: ClockHeap;
  /** Directed yields that happened (KVM_HC_SCHED_YIELD, PV spinlock kicks). */
  yields = 0;

  /** Creates `hostCpus` host CPUs with the given time slice. */
  constructor(hostCpus: number, sliceNs: bigint) {
    this.#cpus = Array.from(
      { length: hostCpus },
      (_, index) => ({
        index,
        current: undefined,
        queue: new RunQueue<EmuVcpu>(),
        sliceEnd: 0n,
      }),
    );
    this.#busy = new ClockHeap(hostCpus);
    this.#slice = sliceNs;
  }

  #cpuOf(vcpu: EmuVcpu): HostCpu {
    return this.#cpus[vcpu.index % this.#cpus.length];
  }

  /** Puts a runnable vCPU on its host CPU, or in its queue if the CPU is busy. */
  enqueue(vcpu: EmuVcpu, at: bigint): void {
    const cpu = this.#cpuOf(vcpu);
    if (cpu.current === vcpu || cpu.queue.has(vcpu)) return;
    if (!cpu.current) {
      vcpu.clock = max(vcpu.clock, at);
      this.#run(cpu, vcpu);
      vcpu.load();
    } else {
      cpu.queue.push(vcpu);
      this.#waitingSince.set(vcpu, max(vcpu.clock, at));
    }
  }

  /** Wakes a blocked vCPU at time `at` (an interrupt, a kick, a barrier, a timeout). */
  wake(vcpu: EmuVcpu, at: bigint): void {
    if (vcpu.state === "runnable" || vcpu.state === "done") return;
    vcpu.state = "runnable";
    vcpu.clock = max(vcpu.clock, at);
    vcpu.needsEntry = true;
    for (const hook of vcpu.vm.hooks.lifecycle) hook.onRunnable?.(vcpu);
    this.enqueue(vcpu, vcpu.clock);
  }

  /** The vCPU blocks (or finishes): it leaves its host CPU, which runs the next in line. */
  release(vcpu: EmuVcpu): void {
    const cpu = this.#cpuOf(vcpu);
    if (cpu.current !== vcpu) return;
    cpu.current = undefined;
    vcpu.put(false);
    this.#switchNext(cpu, vcpu.clock);
  }

  /** The host keeps a runnable vCPU off its CPU for `ns` (another task runs there). */
  preempt(vcpu: EmuVcpu, ns: bigint): void {
    vcpu.exit(); // a host interrupt takes the vCPU out of guest mode first
    vcpu.put(true);
    vcpu.runDelay += ns;
    vcpu.clock += ns;
    vcpu.load();
    this.#cpuOf(vcpu).sliceEnd = vcpu.clock + this.#slice;
  }

  /** At a scheduling point: switch if the slice is used up and another vCPU waits. */
  maybeSwitch(vcpu: EmuVcpu): void {
    const cpu = this.#cpuOf(vcpu);
    if (cpu.current !== vcpu || cpu.queue.length === 0 || vcpu.clock < cpu.sliceEnd) return;
    cpu.current = undefined;
    vcpu.exit(); // the timer interrupt that ends the slice is an exit
    vcpu.put(true);
    cpu.queue.push(vcpu);
    this.#waitingSince.set(vcpu, vcpu.clock);
    this.#switchNext(cpu, vcpu.clock);
  }

  #switchNext(cpu: HostCpu, at: bigint): void {
    const next = cpu.queue.shift();
    if (!next) return;
    const since = this.#waitingSince.get(next) ?? at;
    this.#waitingSince.delete(next);
    const start = max(at, since);
    next.runDelay += start - since;
    next.clock = max(next.clock, start);
    this.#run(cpu, next);
    next.load();
  }

  /** Makes `vcpu` the one running on `cpu`. */
  #run(cpu: HostCpu, vcpu: EmuVcpu): void {
    cpu.current = vcpu;
    cpu.sliceEnd = vcpu.clock + this.#slice;
    // The CPU's key still sorts it correctly unless the new vCPU's clock is behind it.
    if (this.#busy.has(cpu.index) && this.#busy.key(cpu.index) <= vcpu.clock) return;
    this.#busy.set(cpu.index, vcpu.clock);
  }

  /**
   * The running vCPU with the earliest clock (the next to execute; the lowest host CPU on a
   * tie), if any.
   */
  next(): EmuVcpu | undefined {
    for (;;) {
      const index = this.#busy.top();
      if (index < 0) return undefined;
      const vcpu = this.#cpus[index].current;
      if (!vcpu) this.#busy.pop(); // the CPU went idle
      else if (vcpu.clock !== this.#busy.key(index)) this.#busy.set(index, vcpu.clock);
      else return vcpu;
    }
  }

  /**
   * Takes every vCPU off its host CPU and out of the run queues, without the put hooks (a run
   * that stopped at its step limit or on an exception leaves the scheduler clean for the next).
   */
  descheduleAll(): void {
    for (const cpu of this.#cpus) {
      if (cpu.current) cpu.current.needsEntry = true;
      cpu.current = undefined;
      while (cpu.queue.shift()) { /* drain */ }
    }
    this.#waitingSince.clear();
  }

  /** True when other tasks wait on `vcpu`'s host CPU. */
  runqueueBusy(vcpu: EmuVcpu): boolean {
    return this.#cpuOf(vcpu).queue.length > 0;
  }

  /** Directed yield from `from` to `to`: `to` takes `from`'s place if they share a CPU. */
  yieldTo(from: EmuVcpu, to: EmuVcpu): boolean {
    const cpu = this.#cpuOf(from);
    if (!cpu.queue.moveToFront(to)) return false;
    this.yields++;
    cpu.sliceEnd = from.clock; // the next scheduling point switches to `to`
    return true;
  }
}
