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
import { TimeSlots } from "./_time_slots.ts";

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** Schedules emulated vCPUs on emulated host CPUs. */
export class Scheduler {
  /*
   * Host CPU i's state lives at index i of dense arrays rather than in an object per CPU: a
   * step reads one slot of each, and a 32768-CPU machine holds three arrays instead of 32768
   * objects, each with a queue and a Set, that every scavenge and cache line had to visit.
   */
  /** The vCPU running on each host CPU. */
  readonly #current: (EmuVcpu | undefined)[];
  /** Each host CPU's run queue, created when a vCPU first waits there. */
  readonly #queues: (RunQueue<EmuVcpu> | undefined)[];
  /** When each host CPU's time slice ends. */
  readonly #sliceEnd: TimeSlots;
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
    this.#current = Array.from({ length: hostCpus }, () => undefined);
    this.#queues = Array.from({ length: hostCpus }, () => undefined);
    this.#sliceEnd = new TimeSlots(hostCpus);
    this.#busy = new ClockHeap(hostCpus);
    this.#slice = sliceNs;
  }

  /** The host CPU `vcpu` is pinned to. */
  #cpuOf(vcpu: EmuVcpu): number {
    return vcpu.index % this.#current.length;
  }

  /** Host CPU `cpu`'s run queue, created on first use. */
  #queue(cpu: number): RunQueue<EmuVcpu> {
    return this.#queues[cpu] ??= new RunQueue<EmuVcpu>();
  }

  /** The number of vCPUs waiting on host CPU `cpu`. */
  #waiting(cpu: number): number {
    return this.#queues[cpu]?.length ?? 0;
  }

  /** Puts a runnable vCPU on its host CPU, or in its queue if the CPU is busy. */
  enqueue(vcpu: EmuVcpu, at: bigint): void {
    const cpu = this.#cpuOf(vcpu);
    const current = this.#current[cpu];
    if (current === vcpu || this.#queues[cpu]?.has(vcpu)) return;
    if (!current) {
      vcpu.clock = max(vcpu.clock, at);
      this.#run(cpu, vcpu);
      vcpu.load();
    } else {
      this.#queue(cpu).push(vcpu);
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
    if (this.#current[cpu] !== vcpu) return;
    this.#current[cpu] = undefined;
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
    this.#sliceEnd.set(this.#cpuOf(vcpu), vcpu.clock + this.#slice);
  }

  /** At a scheduling point: switch if the slice is used up and another vCPU waits. */
  maybeSwitch(vcpu: EmuVcpu): void {
    const cpu = this.#cpuOf(vcpu);
    if (
      this.#current[cpu] !== vcpu || this.#waiting(cpu) === 0 ||
      this.#sliceEnd.compareTo(cpu, vcpu.clock) > 0
    ) return;
    this.#current[cpu] = undefined;
    vcpu.exit(); // the timer interrupt that ends the slice is an exit
    vcpu.put(true);
    this.#queue(cpu).push(vcpu);
    this.#waitingSince.set(vcpu, vcpu.clock);
    this.#switchNext(cpu, vcpu.clock);
  }

  #switchNext(cpu: number, at: bigint): void {
    const next = this.#queues[cpu]?.shift();
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
  #run(cpu: number, vcpu: EmuVcpu): void {
    this.#current[cpu] = vcpu;
    this.#sliceEnd.set(cpu, vcpu.clock + this.#slice);
    // The CPU's key still sorts it correctly unless the new vCPU's clock is behind it.
    if (this.#busy.has(cpu) && this.#busy.compareKey(cpu, vcpu.clock) <= 0) return;
    this.#busy.set(cpu, vcpu.clock);
  }

  /**
   * The running vCPU with the earliest clock (the next to execute; the lowest host CPU on a
   * tie), if any.
   */
  next(): EmuVcpu | undefined {
    for (;;) {
      const index = this.#busy.top();
      if (index < 0) return undefined;
      const vcpu = this.#current[index];
      if (!vcpu) this.#busy.pop(); // the CPU went idle
      else if (this.#busy.compareKey(index, vcpu.clock) !== 0) this.#busy.set(index, vcpu.clock);
      else return vcpu;
    }
  }

  /**
   * Takes every vCPU off its host CPU and out of the run queues, without the put hooks (a run
   * that stopped at its step limit or on an exception leaves the scheduler clean for the next).
   */
  descheduleAll(): void {
    const current = this.#current;
    for (let cpu = 0; cpu < current.length; cpu++) {
      const vcpu = current[cpu];
      if (vcpu) {
        vcpu.needsEntry = true;
        current[cpu] = undefined;
      }
      this.#queues[cpu]?.clear();
    }
    this.#waitingSince.clear();
  }

  /** True when other tasks wait on `vcpu`'s host CPU. */
  runqueueBusy(vcpu: EmuVcpu): boolean {
    return this.#waiting(this.#cpuOf(vcpu)) > 0;
  }

  /** Directed yield from `from` to `to`: `to` takes `from`'s place if they share a CPU. */
  yieldTo(from: EmuVcpu, to: EmuVcpu): boolean {
    const cpu = this.#cpuOf(from);
    if (!this.#queues[cpu]?.moveToFront(to)) return false;
    this.yields++;
    this.#sliceEnd.set(cpu, from.clock); // the next scheduling point switches to `to`
    return true;
  }
}
