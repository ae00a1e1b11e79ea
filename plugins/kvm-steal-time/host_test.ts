import { assert, assertEquals } from "@std/assert";
import {
  KVM_FEATURE_PV_TLB_FLUSH,
  KVM_FEATURE_STEAL_TIME,
  KVM_STEAL_TIME_OFFSETS,
  KVM_VCPU_FLUSH_TLB,
  KVM_VCPU_PREEMPTED,
  type KvmStealTime,
  MSR_KVM_STEAL_TIME,
  readKvmStealTime,
} from "@pvkit/abi";
import {
  EmuMachine,
  type EmuOptions,
  type EmuVcpu,
  kvmFeaturesWithout,
  readMsrAs,
  writeMsrAs,
} from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12" };

function machine(options: EmuOptions = {}, smp = 1): EmuMachine {
  return EmuMachine.create(compose({ ...MACHINE, smp }), options);
}

/** Where vCPU i keeps its record in these tests (64-byte aligned, zeroed RAM). */
const recordGpa = (i: number): bigint => 0x10000n + 64n * BigInt(i);
const RAM = 16 * 1024 * 1024; // EmuMachine's default

/** The guest reads its record as memory (no exit), after the entry that may update it. */
function guestRecord(cpu: EmuVcpu, gpa: bigint): KvmStealTime {
  cpu.load64(gpa, 8); // any instruction: runs KVM's entry work first
  return readKvmStealTime(cpu.memory, gpa);
}

const ENFORCEMENT: { name: string; options: EmuOptions }[] = [
  { name: "enforcement off", options: {} },
  { name: "enforcement on, bit 5 advertised", options: { enforcePvCpuid: true } },
];

// spec §2 STEAL_TIME: b0 enable, b5:1 reserved (0x3e) → #GP, b63:6 GPA (not validated).
const WRITES: { what: string; value: bigint; result: "ok" | "gp" }[] = [
  { what: "0 (disable)", value: 0n, result: "ok" },
  { what: "GPA | enable", value: recordGpa(0) | 1n, result: "ok" },
  { what: "GPA without enable", value: recordGpa(0), result: "ok" },
  { what: "GPA outside RAM | enable", value: BigInt(RAM) * 4n | 1n, result: "ok" },
  { what: "b63 set | enable", value: 1n << 63n | 1n, result: "ok" },
  ...[1, 2, 3, 4, 5].map((b) => ({
    what: `reserved bit ${b}`,
    value: recordGpa(0) | 1n | (1n << BigInt(b)),
    result: "gp" as const,
  })),
  { what: "all of b5:1 (0x3e), no enable", value: recordGpa(0) | 0x3en, result: "gp" },
];

Deno.test("STEAL_TIME writes: b5:1 set is #GP, anything else is stored raw (spec §2)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      for (const { what, value, result } of WRITES) {
        await t.step(`${name}, ${by}: ${what} → ${result}`, () => {
          const vm = machine(options);
          assertEquals(writeMsrAs(vm, by, MSR_KVM_STEAL_TIME, 0x40n), "ok"); // a previous value
          assertEquals(writeMsrAs(vm, by, MSR_KVM_STEAL_TIME, value), result);
          assertEquals(readMsrAs(vm, by, MSR_KVM_STEAL_TIME), result === "ok" ? value : 0x40n);
          assertEquals(
            readMsrAs(vm, by === "guest" ? "host" : "guest", MSR_KVM_STEAL_TIME),
            result === "ok" ? value : 0x40n,
          );
        });
      }
    }
  }
});

Deno.test("STEAL_TIME with enforcement on and bit 5 absent (spec §2 gate failure, §7)", async (t) => {
  const options = {
    enforcePvCpuid: true,
    cpuid: [kvmFeaturesWithout(compose(MACHINE), KVM_FEATURE_STEAL_TIME)],
  };
  await t.step("guest RDMSR and WRMSR #GP, even a write of 0", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "guest", MSR_KVM_STEAL_TIME), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_STEAL_TIME, 0n), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_STEAL_TIME, recordGpa(0) | 1n), "gp");
  });
  await t.step("host read returns 0; only a host write of 0 succeeds", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "host", MSR_KVM_STEAL_TIME), 0n);
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_STEAL_TIME, 0n), "ok");
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_STEAL_TIME, recordGpa(0) | 1n), "gp");
    // Nothing was enabled: the record stays untouched.
    vm.runOn(0, (cpu) => cpu.out(0x80, 1, 0));
    assertEquals(readKvmStealTime(vm.memory, recordGpa(0)).version, 0);
  });
});

Deno.test("steal_time selftest, x86 part (peer-tests A2), on 4 vCPUs one after another", () => {
  const vm = machine({}, 4);
  // Case 1: reserved bits through KVM_SET_MSRS write 0 MSRs.
  assertEquals(vm.setMsr(0, MSR_KVM_STEAL_TIME, 0x40000000n | 0x3en), 0);
  for (let i = 0; i < 4; i++) {
    const gpa = recordGpa(i);
    assertEquals(vm.setMsr(i, MSR_KVM_STEAL_TIME, gpa | 1n), 1); // case 2
    let before: KvmStealTime | undefined;
    vm.runOn(i, (cpu) => {
      const msr = cpu.rdmsr(MSR_KVM_STEAL_TIME);
      assertEquals(msr.kind === "value" && msr.value, gpa | 1n); // case 3
      cpu.zero(gpa, 64);
      cpu.out(0xf4, 1, 0); // exit to the host once
      before = guestRecord(cpu, gpa);
    });
    // Case 4: version even, flags 0, preempted 0.
    assertEquals([before!.version % 2, before!.flags, before!.preempted], [0, 0, 0]);
    assert(before!.steal <= vm.vcpus[i].runDelay); // case 5
    // Cases 6 and 7: the host keeps the vCPU off its CPU for ≥ 200 µs.
    const runDelayBefore = vm.vcpus[i].runDelay;
    let after: KvmStealTime | undefined;
    vm.run(vm.vcpus.map((_, j) =>
      j === i
        ? function* (cpu: EmuVcpu) {
          yield { kind: "preempt" as const, ns: 250_000 };
          after = guestRecord(cpu, gpa);
        }
        : undefined
    ));
    const delta = vm.vcpus[i].runDelay - runDelayBefore;
    assert(delta >= 200_000n);
    assert(after!.version > before!.version);
    assertEquals([after!.version % 2, after!.flags, after!.preempted], [0, 0, 0]);
    assert(after!.steal - before!.steal >= delta);
  }
});

Deno.test("record_steal_time runs the version protocol: odd, steal, even (spec §3)", () => {
  const vm = machine();
  const gpa = recordGpa(0);
  const log: string[] = [];
  const mem = vm.memory;
  const inRecord = (at: bigint) => at >= gpa && at < gpa + 64n;
  const writeU8 = mem.writeU8.bind(mem);
  const writeU32 = mem.writeU32.bind(mem);
  const writeU64 = mem.writeU64.bind(mem);
  mem.writeU8 = (at, v) => (inRecord(at) && log.push(`u8@${at - gpa}=${v}`), writeU8(at, v));
  mem.writeU32 = (at, v) => (inRecord(at) && log.push(`u32@${at - gpa}=${v}`), writeU32(at, v));
  mem.writeU64 = (at, v) => (inRecord(at) && log.push(`u64@${at - gpa}`), writeU64(at, v));
  vm.run([function* (cpu) {
    cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n);
    yield { kind: "preempt", ns: 5000 };
    cpu.out(0x80, 1, 0);
  }]);
  // Two updates (after the WRMSR, after the preemption). The preempted byte is handled first;
  // between them the host marked the vCPU preempted (a plain store of 1).
  assertEquals(log, [
    "u8@16=0",
    "u32@8=1",
    "u64@0",
    "u32@8=2",
    "u8@16=1",
    "u8@16=0",
    "u32@8=3",
    "u64@0",
    "u32@8=4",
  ]);
});

Deno.test("a torn (odd) version in guest memory is bumped to even before the update", () => {
  const vm = machine();
  const gpa = recordGpa(0);
  vm.memory.writeU32(gpa + BigInt(KVM_STEAL_TIME_OFFSETS.version), 7);
  vm.memory.writeU64(gpa, 1000n); // the guest did not zero it: accumulation starts from here
  const rec = vm.runOn(0, (cpu) => {
    cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n);
    return guestRecord(cpu, gpa);
  });
  assertEquals(rec.version, 10); // 7 → 8 → 9 (odd) → 10
  assertEquals(rec.steal, 1000n);
});

Deno.test("steal equals run_delay at every update, also across time slices", () => {
  const vm = machine({ hostCpus: 1, timeSliceNs: 1_000_000 }, 2);
  const seen: { steal: bigint; runDelay: bigint; version: number }[][] = [[], []];
  const program = function* (cpu: EmuVcpu) {
    const gpa = recordGpa(cpu.index);
    cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n);
    for (let i = 0; i < 10; i++) {
      yield { kind: "spin" as const, ns: 400_000 };
      const rec = guestRecord(cpu, gpa);
      seen[cpu.index].push({ steal: rec.steal, runDelay: cpu.runDelay, version: rec.version });
    }
  };
  vm.run([program, program]);
  for (const samples of seen) {
    for (const s of samples) {
      assertEquals(s.steal, s.runDelay);
      assertEquals(s.version % 2, 0);
    }
    assert(samples.at(-1)!.steal >= 3_000_000n); // each waited while the other ran
  }
});

Deno.test("last_steal is not reset by an enable: the first update counts earlier run_delay", async (t) => {
  // [X] record_steal_time is the only place that moves st.last_steal (0 at vCPU creation); the
  // WRMSR and RESET/INIT leave it alone.
  await t.step("run_delay from before the first enable is reported at once", () => {
    const vm = machine();
    let steal = -1n;
    vm.run([function* (cpu) {
      yield { kind: "preempt", ns: 300_000 };
      cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n);
      steal = guestRecord(cpu, recordGpa(0)).steal;
    }]);
    assertEquals(steal, 300_000n);
  });
  await t.step("run_delay while disabled is reported when re-enabled", () => {
    const vm = machine();
    const gpa = recordGpa(0);
    const steal: bigint[] = [];
    vm.run([function* (cpu) {
      cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n);
      yield { kind: "preempt", ns: 100_000 };
      steal.push(guestRecord(cpu, gpa).steal);
      cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa); // disabled: no updates
      yield { kind: "preempt", ns: 200_000 };
      steal.push(guestRecord(cpu, gpa).steal);
      cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n);
      steal.push(guestRecord(cpu, gpa).steal);
    }]);
    assertEquals(steal, [100_000n, 100_000n, 300_000n]);
  });
});

Deno.test("RESET and INIT zero STEAL_TIME and stop the updates (spec §2 reset)", async (t) => {
  for (const kind of ["reset", "init"] as const) {
    await t.step(kind, () => {
      const vm = machine();
      const gpa = recordGpa(0);
      vm.runOn(0, (cpu) => cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n));
      const version = readKvmStealTime(vm.memory, gpa).version;
      vm.resetVcpu(0, kind);
      assertEquals(readMsrAs(vm, "host", MSR_KVM_STEAL_TIME), 0n);
      vm.run([function* (cpu) {
        yield { kind: "preempt", ns: 100_000 };
        cpu.out(0x80, 1, 0);
      }]);
      const rec = readKvmStealTime(vm.memory, gpa);
      assertEquals([rec.version, rec.preempted], [version, 0]);
      // last_steal survived the reset: re-enabling reports the 100 µs waited meanwhile.
      const steal = vm.runOn(0, (cpu) => {
        cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n);
        return guestRecord(cpu, gpa).steal;
      });
      assertEquals(steal, rec.steal + 100_000n);
    });
  }
});

Deno.test("a record outside RAM is silently never written (spec §2: GPA not validated)", () => {
  const vm = machine();
  const gpa = BigInt(RAM); // the first 64-byte-aligned GPA past the end of RAM
  const tail = vm.memory.readBytes(gpa - 64n, 64);
  vm.run([function* (cpu) {
    assertEquals(cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n).kind, "ok");
    yield { kind: "preempt", ns: 100_000 };
    cpu.out(0x80, 1, 0);
  }]);
  assertEquals(vm.getMsr(0, MSR_KVM_STEAL_TIME), gpa | 1n);
  assertEquals(vm.memory.readBytes(gpa - 64n, 64), tail);
});

Deno.test("the preempted byte (spec §3, kvm_steal_time_set_preempted)", async (t) => {
  await t.step(
    "set to 1 while a runnable vCPU is kept off its CPU, cleared at its next entry",
    () => {
      const vm = machine({}, 2);
      const seen: number[] = [];
      vm.run([
        function* (cpu) {
          cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n);
          yield { kind: "yield" };
          yield { kind: "preempt", ns: 1_000_000 };
          seen.push(guestRecord(cpu, recordGpa(0)).preempted);
        },
        function* (cpu) {
          yield { kind: "spin", ns: 100_000 }; // vCPU 0 is off its CPU by now
          seen.push(Number(cpu.load64(recordGpa(0) + 16n, 1)));
        },
      ]);
      assertEquals(seen, [KVM_VCPU_PREEMPTED, 0]);
    },
  );
  await t.step("not set when the vCPU blocks (vcpu_put without preemption)", () => {
    const vm = machine({}, 2);
    let seen = -1;
    vm.run([
      function* (cpu) {
        cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n);
        yield { kind: "yield" };
        yield { kind: "hlt" }; // nobody wakes it
      },
      function* (cpu) {
        yield { kind: "spin", ns: 100_000 };
        seen = Number(cpu.load64(recordGpa(0) + 16n, 1));
      },
    ]);
    assertEquals(seen, 0);
  });
  await t.step("not set when steal time is disabled", () => {
    const vm = machine();
    vm.run([function* (cpu) {
      cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n);
      yield { kind: "yield" };
      cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0));
      yield { kind: "preempt", ns: 1000 };
    }]);
    assertEquals(vm.memory.readU8(recordGpa(0) + 16n), 0);
  });
  await t.step("not set before an update has mapped the record (KVM's cache check)", () => {
    const vm = machine();
    assertEquals(vm.setMsr(0, MSR_KVM_STEAL_TIME, recordGpa(0) | 1n), 1);
    vm.vcpus[0].put(true); // descheduled before it ever entered the guest
    assertEquals(vm.memory.readU8(recordGpa(0) + 16n), 0);
  });
  await t.step("written once: the host does not mark it again before the next update", () => {
    const vm = machine();
    vm.runOn(0, (cpu) => cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n));
    const vcpu = vm.vcpus[0];
    vcpu.put(true);
    assertEquals(vm.memory.readU8(recordGpa(0) + 16n), KVM_VCPU_PREEMPTED);
    vm.memory.writeU8(recordGpa(0) + 16n, 0);
    vcpu.load();
    vcpu.put(true); // no entry in between: st.preempted is still set
    assertEquals(vm.memory.readU8(recordGpa(0) + 16n), 0);
    vcpu.enter(); // the update clears st.preempted ...
    vcpu.put(true); // ... so the next preemption marks it again
    assertEquals(vm.memory.readU8(recordGpa(0) + 16n), KVM_VCPU_PREEMPTED);
  });
  await t.step("a plain store of 0x01: a FLUSH_TLB request already there is overwritten", () => {
    const vm = machine();
    vm.runOn(0, (cpu) => cpu.wrmsr(MSR_KVM_STEAL_TIME, recordGpa(0) | 1n));
    vm.memory.writeU8(recordGpa(0) + 16n, KVM_VCPU_FLUSH_TLB);
    vm.vcpus[0].put(true);
    assertEquals(vm.memory.readU8(recordGpa(0) + 16n), KVM_VCPU_PREEMPTED);
  });
});

Deno.test("the entry after a preemption: xchg and flush with bit 9, a plain 0 without", async (t) => {
  const cases: { name: string; options: EmuOptions; flushes: number }[] = [
    { name: "enforcement off", options: {}, flushes: 1 },
    { name: "enforcement on, bit 9 advertised", options: { enforcePvCpuid: true }, flushes: 1 },
    {
      name: "enforcement on, bit 9 absent",
      options: {
        enforcePvCpuid: true,
        cpuid: [kvmFeaturesWithout(compose(MACHINE), KVM_FEATURE_PV_TLB_FLUSH)],
      },
      flushes: 0,
    },
  ];
  for (const { name, options, flushes } of cases) {
    await t.step(name, () => {
      const vm = machine(options, 2);
      const gpa = recordGpa(0);
      let after = -1;
      vm.run([
        function* (cpu) {
          cpu.wrmsr(MSR_KVM_STEAL_TIME, gpa | 1n);
          yield { kind: "yield" };
          yield { kind: "preempt", ns: 1_000_000 };
          after = Number(cpu.load64(gpa + 16n, 1));
        },
        function* (cpu) {
          yield { kind: "spin", ns: 100_000 };
          // kvm_flush_tlb_multi: a preempted target gets FLUSH_TLB instead of an IPI.
          const s = Number(cpu.load64(gpa + 16n, 1));
          if (s & KVM_VCPU_PREEMPTED) cpu.store64(gpa + 16n, 1, BigInt(s | KVM_VCPU_FLUSH_TLB));
        },
      ]);
      assertEquals(vm.vcpus[0].tlbFlushes, flushes);
      assertEquals(after, 0);
    });
  }
});
