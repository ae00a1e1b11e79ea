/**
 * Fuzzing the emulated host: 100 000 seeded random guest MSR writes, hypercalls and memory
 * writes per run. Nothing escapes as an exception (so no host access leaves guest RAM: the RAM
 * model throws on any such access), and every PV record the host updates (pvclock, wall clock,
 * steal time) has an even version afterwards.
 */

import { assertEquals } from "@std/assert";
import { EmuMachine, type EmuVcpu, type GuestBlock } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { SplitMix64 } from "../packages/abi/_test_prng.ts";

const OPERATIONS = 100_000;
const VCPUS = 4;
const RAM = 1 << 20;

const PV_MSRS = [
  0x11,
  0x12,
  0x4b564d00,
  0x4b564d01,
  0x4b564d02,
  0x4b564d03,
  0x4b564d04,
  0x4b564d05,
  0x4b564d06,
  0x4b564d07,
  0x4b564d08,
];

/** Where the records the checks follow live (upper half of RAM; random GPAs stay below it). */
const PVCLOCK_SLOTS = BigInt(RAM / 2);
const STEAL_SLOTS = BigInt(RAM / 2 + 0x1000);
const WALL_CLOCK = BigInt(RAM / 2 + 0x2000);

/** A random GPA: often valid, sometimes at the very end of RAM, sometimes far outside it. */
function gpa(rng: SplitMix64): bigint {
  switch (rng.intIn(0, 5)) {
    case 0:
      return BigInt(RAM - rng.intIn(1, 80));
    case 1:
      return rng.nextU64();
    case 2:
      return BigInt(rng.intIn(0, RAM / 2 - 1)) | 1n;
    default:
      return BigInt(rng.intIn(0, RAM / 128 - 1) * 64);
  }
}

/** The slot of a followed record for this MSR and vCPU, if the MSR has one. */
function slot(msr: number, vcpu: number): bigint | undefined {
  if (msr === 0x12 || msr === 0x4b564d01) return PVCLOCK_SLOTS + BigInt(vcpu * 64);
  if (msr === 0x4b564d03) return STEAL_SLOTS + BigInt(vcpu * 64);
  if (msr === 0x11 || msr === 0x4b564d00) return WALL_CLOCK;
  return undefined;
}

/** The version words of the records the guest has pointed the host at. */
function trackedVersions(vcpu: EmuVcpu, targets: Map<string, bigint>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, at] of targets) {
    if (vcpu.memory.contains(at, 4)) out.set(name, vcpu.memory.readU32(at));
  }
  return out;
}

function checkUpdatedEven(before: Map<string, number>, after: Map<string, number>, what: string) {
  for (const [name, version] of after) {
    // A record the guest has just pointed the host at is checked from its first update on.
    if (!before.has(name)) continue;
    if (before.get(name) !== version && version % 2 !== 0) {
      throw new Error(`${name} version ${before.get(name)} -> ${version} is odd after ${what}`);
    }
  }
}

for (const enforce of [false, true]) {
  Deno.test(`fuzz: ${OPERATIONS} random MSR writes, hypercalls and memory writes (enforcement ${enforce ? "on" : "off"})`, () => {
    const rng = new SplitMix64(enforce ? 0xf00dn : 0xbeefn);
    const composed = compose({
      cpu: "host",
      machine: "q35,kernel-irqchip=split",
      smp: VCPUS,
      host: "linux-6.18",
    });
    const vm = EmuMachine.create(composed, { memory: RAM, enforcePvCpuid: enforce, hostCpus: 2 });
    let done = 0;
    const program = function* (cpu: EmuVcpu): Generator<GuestBlock, void, void> {
      const targets = new Map<string, bigint>();
      for (let i = 0; i < OPERATIONS / VCPUS; i++) {
        const before = trackedVersions(cpu, targets);
        const kind = rng.intIn(0, 9);
        let what = "";
        if (kind < 5) {
          const msr = rng.intIn(0, 9) === 0 ? rng.nextU32() : rng.pick(PV_MSRS);
          const home = slot(msr, cpu.index);
          let value: bigint;
          if (home !== undefined && rng.intIn(0, 1) === 0) value = home | BigInt(rng.intIn(0, 1));
          else if (rng.intIn(0, 3) === 0) value = rng.nextU64();
          else value = gpa(rng) | BigInt(rng.intIn(0, 1));
          what = `wrmsr 0x${msr.toString(16)} 0x${value.toString(16)}`;
          cpu.wrmsr(msr, value);
          // Follow a record only while the MSR points at its home slot.
          const followed = home !== undefined && (value & ~1n) === home;
          const name = msr === 0x4b564d03
            ? `steal(vcpu ${cpu.index})`
            : msr === 0x11 || msr === 0x4b564d00
            ? "wall clock"
            : `pvclock(vcpu ${cpu.index})`;
          if (home !== undefined) {
            if (followed) targets.set(name, msr === 0x4b564d03 ? home + 8n : home);
            else targets.delete(name);
          }
        } else if (kind < 8) {
          cpu.longMode = rng.intIn(0, 4) !== 0;
          cpu.cpl = rng.intIn(0, 9) === 0 ? 3 : 0;
          cpu.hypercall(
            BigInt(rng.intIn(0, 14)),
            rng.nextU64(),
            rng.nextU64(),
            gpa(rng),
            rng.nextU64(),
          );
          cpu.longMode = true;
          cpu.cpl = 0;
        } else {
          const at = BigInt(rng.intIn(0, RAM - 8)); // the guest may write anywhere in its RAM
          cpu.store64(at, rng.pick([1, 2, 4, 8] as const), rng.nextU64());
          // The guest may scribble over its own records: only host updates are checked.
          for (const [name] of targets) before.set(name, NaN);
          for (const [name, v] of trackedVersions(cpu, targets)) before.set(name, v);
        }
        checkUpdatedEven(before, trackedVersions(cpu, targets), what || "a guest store");
        const beforeEntry = trackedVersions(cpu, targets);
        cpu.needsEntry = true;
        cpu.enter();
        checkUpdatedEven(beforeEntry, trackedVersions(cpu, targets), "a vCPU entry");
        if (i % 64 === 0) {
          yield rng.intIn(0, 7) === 0 ? { kind: "preempt", ns: 100_000 } : { kind: "yield" };
        }
        done++;
      }
    };
    vm.run(Array.from({ length: VCPUS }, () => program));
    assertEquals(done, OPERATIONS);
  });
}
