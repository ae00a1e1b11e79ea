/**
 * The host scheduler: vCPUs pinned round-robin to host CPUs, time slices where they share one,
 * run_delay for the time a runnable vCPU waits, and vcpu_load/vcpu_put at every switch (so the
 * steal-time record and its preempted byte change exactly when KVM would change them).
 *
 * @module
 */

import type { EmuVcpu } from "./emu_vcpu.ts";

interface HostCpu {
  current: EmuVcpu | undefined;
  readonly queue: EmuVcpu[];
  sliceEnd: bigint;
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** Schedules emulated vCPUs on emulated host CPUs. */
export class Scheduler {
  readonly #cpus: HostCpu[];
  readonly #slice: bigint;
  readonly #waitingSince = new Map<EmuVcpu, bigint>();
  /** Directed yields that happened (KVM_HC_SCHED_YIELD, PV spinlock kicks). */
  yields = 0;

  /** Creates `hostCpus` host CPUs with the given time slice. */
  constructor(hostCpus: number, sliceNs: bigint) {
    this.#cpus = Array.from(
      { length: hostCpus },
      () => ({ current: undefined, queue: [], sliceEnd: 0n }),
    );
    this.#slice = sliceNs;
  }

  #cpuOf(vcpu: EmuVcpu): HostCpu {
    return this.#cpus[vcpu.index % this.#cpus.length];
  }

  /** Puts a runnable vCPU on its host CPU, or in its queue if the CPU is busy. */
  enqueue(vcpu: EmuVcpu, at: bigint): void {
    const cpu = this.#cpuOf(vcpu);
    if (cpu.current === vcpu || cpu.queue.includes(vcpu)) return;
    if (!cpu.current) {
      vcpu.clock = max(vcpu.clock, at);
      cpu.current = vcpu;
      cpu.sliceEnd = vcpu.clock + this.#slice;
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
    cpu.current = next;
    cpu.sliceEnd = next.clock + this.#slice;
    next.load();
  }

  /** The running vCPU with the earliest clock (the next to execute), if any. */
  next(): EmuVcpu | undefined {
    let best: EmuVcpu | undefined;
    for (const cpu of this.#cpus) {
      const c = cpu.current;
      if (c && (!best || c.clock < best.clock)) best = c;
    }
    return best;
  }

  /** True when other tasks wait on `vcpu`'s host CPU. */
  runqueueBusy(vcpu: EmuVcpu): boolean {
    return this.#cpuOf(vcpu).queue.length > 0;
  }

  /** Directed yield from `from` to `to`: `to` takes `from`'s place if they share a CPU. */
  yieldTo(from: EmuVcpu, to: EmuVcpu): boolean {
    const cpu = this.#cpuOf(from);
    const at = cpu.queue.indexOf(to);
    if (at < 0) return false;
    this.yields++;
    cpu.queue.splice(at, 1);
    cpu.queue.unshift(to);
    cpu.sliceEnd = from.clock; // the next scheduling point switches to `to`
    return true;
  }
}
