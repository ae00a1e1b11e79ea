import { assert, assertEquals } from "@std/assert";
import {
  asyncPfState,
  KVM_ASYNC_PF_DELIVERY_AS_INT,
  KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT,
  KVM_ASYNC_PF_ENABLED,
  KVM_ASYNC_PF_SEND_ALWAYS,
  KVM_ASYNC_PF_WAKE_ALL_TOKEN,
  KVM_FEATURE_ASYNC_PF,
  KVM_FEATURE_ASYNC_PF_INT,
  KVM_FEATURE_ASYNC_PF_VMEXIT,
  KVM_PV_REASON_PAGE_NOT_PRESENT,
  MSR_KVM_ASYNC_PF_ACK,
  MSR_KVM_ASYNC_PF_EN,
  MSR_KVM_ASYNC_PF_INT,
} from "@pvkit/abi";
import {
  EmuMachine,
  type EmuOptions,
  type EmuVcpu,
  type GuestBlock,
  kvmFeaturesWithout,
  readMsrAs,
  writeMsrAs,
} from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import {
  asyncPageFault,
  asyncPageFaultToken,
  asyncPfHalted,
  completeAsyncPageFault,
} from "./mod.ts";

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12" };

function machine(options: EmuOptions = {}, smp = 1, irqchip = "split"): EmuMachine {
  const m = `q35,kernel-irqchip=${irqchip}`;
  return EmuMachine.create(compose({ ...MACHINE, machine: m, smp }), options);
}

const RAM = 16 * 1024 * 1024; // EmuMachine's default
const AREA = 0x5000n; // the guest's kvm_vcpu_pv_apf_data (64-byte aligned, zeroed RAM)
const VECTOR = 0xf3; // HYPERVISOR_CALLBACK_VECTOR
const EN = KVM_ASYNC_PF_ENABLED;
const INT = KVM_ASYNC_PF_DELIVERY_AS_INT;
const LINUX_ENABLE = AREA | EN | INT; // what a Linux guest writes (spec §6), without bit 10

const ENFORCEMENT: { name: string; options: EmuOptions }[] = [
  { name: "enforcement off", options: {} },
  { name: "enforcement on, bits 4, 10, 14 advertised", options: { enforcePvCpuid: true } },
];

// spec §2 ASYNC_PF_EN, checks in order: b5:4; b2 without bit 10; b3 without bit 14; no LAPIC
// and data ≠ 0; b0&b3 with the 8-byte area outside guest memory (stored anyway).
const WRITES: { what: string; value: bigint; result: "ok" | "gp"; stored: boolean }[] = [
  { what: "0", value: 0n, result: "ok", stored: true },
  { what: "GPA | ENABLED | AS_INT", value: LINUX_ENABLE, result: "ok", stored: true },
  { what: "GPA | ENABLED alone (disabled)", value: AREA | EN, result: "ok", stored: true },
  { what: "GPA | AS_INT alone", value: AREA | INT, result: "ok", stored: true },
  {
    what: "GPA | ENABLED | SEND_ALWAYS | AS_PF_VMEXIT | AS_INT",
    value: LINUX_ENABLE | KVM_ASYNC_PF_SEND_ALWAYS | KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT,
    result: "ok",
    stored: true,
  },
  {
    what: "last 64 bytes of RAM | ENABLED | AS_INT",
    value: BigInt(RAM - 64) | EN | INT,
    result: "ok",
    stored: true,
  },
  { what: "reserved bit 4", value: LINUX_ENABLE | 0x10n, result: "gp", stored: false },
  { what: "reserved bit 5", value: LINUX_ENABLE | 0x20n, result: "gp", stored: false },
  { what: "reserved bits 5:4 alone", value: 0x30n, result: "gp", stored: false },
  {
    what: "GPA outside RAM | ENABLED | AS_INT",
    value: BigInt(RAM) | EN | INT,
    result: "gp",
    stored: true, // KVM stores msr_en_val before it maps the area
  },
  {
    what: "GPA outside RAM | ENABLED (disabled)",
    value: BigInt(RAM) | EN,
    result: "ok",
    stored: true,
  },
];

Deno.test("ASYNC_PF_EN writes: the checks of kvm_pv_enable_async_pf (spec §2)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      for (const { what, value, result, stored } of WRITES) {
        await t.step(`${name}, ${by}: ${what} → ${result}`, () => {
          const vm = machine(options);
          assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, AREA), "ok"); // a previous value
          assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, value), result);
          assertEquals(readMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN), stored ? value : AREA);
        });
      }
    }
  }
});

Deno.test("ASYNC_PF_EN with enforcement on: bits 2 and 3 need CPUID bits 10 and 14 (§7)", async (t) => {
  const cases = [
    { absent: KVM_FEATURE_ASYNC_PF_VMEXIT, bad: KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT, good: INT },
    { absent: KVM_FEATURE_ASYNC_PF_INT, bad: INT, good: KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT },
  ];
  for (const { absent, bad, good } of cases) {
    for (const by of ["guest", "host"] as const) {
      await t.step(`bit ${absent} absent, ${by}`, () => {
        const options = {
          enforcePvCpuid: true,
          cpuid: [kvmFeaturesWithout(compose(MACHINE), absent)],
        };
        const vm = machine(options);
        assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, AREA | EN | bad), "gp");
        assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, AREA | EN | good), "ok");
        assertEquals(readMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN), AREA | EN | good);
      });
    }
  }
  await t.step("enforcement off: bits 2 and 3 pass whatever the CPUID says", () => {
    const cpuid = [
      kvmFeaturesWithout(compose(MACHINE), KVM_FEATURE_ASYNC_PF_VMEXIT, KVM_FEATURE_ASYNC_PF_INT),
    ];
    const vm = machine({ cpuid });
    const value = LINUX_ENABLE | KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT;
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_ASYNC_PF_EN, value), "ok");
    assertEquals(readMsrAs(vm, "host", MSR_KVM_ASYNC_PF_EN), value);
  });
});

Deno.test("ASYNC_PF_EN with enforcement on and bit 4 absent (spec §2 gate failure)", async (t) => {
  const options = {
    enforcePvCpuid: true,
    cpuid: [kvmFeaturesWithout(compose(MACHINE), KVM_FEATURE_ASYNC_PF)],
  };
  await t.step("guest RDMSR and WRMSR #GP, even a write of 0", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "guest", MSR_KVM_ASYNC_PF_EN), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_ASYNC_PF_EN, 0n), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE), "gp");
  });
  await t.step("host read returns 0; only a host write of 0 succeeds", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "host", MSR_KVM_ASYNC_PF_EN), 0n);
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_ASYNC_PF_EN, 0n), "ok");
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE), "gp");
  });
});

Deno.test("without an in-kernel LAPIC: 0 is accepted, anything else #GPs, nothing is stored", async (t) => {
  for (const by of ["guest", "host"] as const) {
    await t.step(by, () => {
      const vm = machine({}, 1, "off");
      assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, 0n), "ok");
      assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, AREA | EN), "gp");
      assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE), "gp");
      assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN, 0x30n), "gp"); // the reserved-bit check comes first anyway
      assertEquals(readMsrAs(vm, by, MSR_KVM_ASYNC_PF_EN), 0n);
    });
  }
});

// ---- behaviour through a machine ----

/** Any exit, then the entry that injects what the host queued (with IF = 1). */
function exitAndEnter(cpu: EmuVcpu): void {
  cpu.out(0x80, 1, 0);
  cpu.enter();
}

/** The Linux guest's 'page ready' handler: EOI, take the token, free the slot, ACK. */
function guestPageReady(cpu: EmuVcpu): number {
  cpu.apicEoi();
  const token = Number(cpu.load64(AREA + 4n, 4));
  cpu.store64(AREA + 4n, 4, 0n);
  cpu.wrmsr(MSR_KVM_ASYNC_PF_ACK, 1n);
  return token;
}

/** The Linux guest's #PF entry for async PF: read and clear flags. */
function guestTakeFlags(cpu: EmuVcpu): number {
  const flags = Number(cpu.load64(AREA, 4));
  cpu.store64(AREA, 4, 0n);
  return flags;
}

/** kvm_guest_cpu_init's order: the vector first, then ASYNC_PF_EN; IF on; 'wake all' taken. */
function* linuxEnable(cpu: EmuVcpu, value = LINUX_ENABLE): Generator<GuestBlock, void, void> {
  cpu.sti();
  cpu.wrmsr(MSR_KVM_ASYNC_PF_INT, BigInt(VECTOR));
  cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, value);
  exitAndEnter(cpu);
  assertEquals(guestPageReady(cpu), KVM_ASYNC_PF_WAKE_ALL_TOKEN);
  yield { kind: "yield" };
}

Deno.test("enabling queues a 'wake all' completion, delivered as 'page ready' at entry", () => {
  const vm = machine();
  const seen: unknown[] = [];
  vm.run([function* (cpu) {
    cpu.sti();
    cpu.wrmsr(MSR_KVM_ASYNC_PF_INT, BigInt(VECTOR));
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE);
    seen.push(Number(cpu.load64(AREA + 4n, 4))); // the entry wrote the token ...
    seen.push(asyncPfState(cpu).pageReadyPending); // ... set pageready_pending ...
    exitAndEnter(cpu);
    seen.push([...cpu.delivered]); // ... and injected the vector
    seen.push(guestPageReady(cpu));
    seen.push(asyncPfState(cpu).pageReadyPending); // the ACK cleared it
    yield { kind: "yield" };
  }]);
  assertEquals(seen, [
    KVM_ASYNC_PF_WAKE_ALL_TOKEN,
    true,
    [VECTOR],
    KVM_ASYNC_PF_WAKE_ALL_TOKEN,
    false,
  ]);
});

Deno.test("ENABLED alone is 'disabled': no 'wake all', and faults halt (spec §2)", () => {
  const vm = machine();
  const seen: unknown[] = [];
  vm.run([function* (cpu) {
    cpu.sti();
    cpu.cpl = 3;
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, AREA | EN);
    exitAndEnter(cpu);
    seen.push(Number(cpu.load64(AREA + 4n, 4)), [...cpu.delivered]);
    seen.push(asyncPageFault(cpu, 0x1234n), cpu.pageFaults.length);
    yield { kind: "yield" };
  }]);
  assertEquals(seen, [0, [], "halt", 0]);
});

Deno.test("a second enable finds the 'wake all' still queued and adds none", () => {
  const vm = machine();
  assertEquals(vm.setMsr(0, MSR_KVM_ASYNC_PF_INT, BigInt(VECTOR)), 1);
  assertEquals(vm.setMsr(0, MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE), 1);
  assertEquals(vm.setMsr(0, MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE), 1);
  assertEquals(asyncPfState(vm.vcpus[0]).done.length, 1);
  const tokens: number[] = [];
  vm.run([function* (cpu) {
    cpu.sti();
    exitAndEnter(cpu);
    tokens.push(guestPageReady(cpu));
    exitAndEnter(cpu);
    tokens.push(Number(cpu.load64(AREA + 4n, 4)));
    yield { kind: "yield" };
  }]);
  assertEquals(tokens, [KVM_ASYNC_PF_WAKE_ALL_TOKEN, 0]);
  assertEquals(vm.vcpus[0].delivered, [VECTOR]);
});

Deno.test("'page not present' then 'page ready': one full async page fault (spec §6)", () => {
  const vm = machine();
  const seen: Record<string, unknown> = {};
  vm.run([function* (cpu) {
    yield* linuxEnable(cpu);
    cpu.cpl = 3; // a user task touches a page the host swapped out
    seen.outcome = asyncPageFault(cpu, 0x1234n);
    const token = Number(cpu.pageFaults[0].cr2);
    seen.token = token;
    seen.lookup = asyncPageFaultToken(cpu, 0x1234n);
    seen.flags = guestTakeFlags(cpu);
    cpu.cpl = 0; // the guest schedules something else while it waits
    yield { kind: "spin", ns: 50_000 };
    seen.completed = completeAsyncPageFault(cpu, token);
    exitAndEnter(cpu);
    seen.delivered = cpu.delivered.slice(1);
    seen.ready = guestPageReady(cpu);
    seen.again = completeAsyncPageFault(cpu, token); // already completed
    seen.lookupAfter = asyncPageFaultToken(cpu, 0x1234n);
  }]);
  assertEquals(seen, {
    outcome: "async",
    token: 0x1000, // (1 << 12) | vcpu 0
    lookup: 0x1000,
    flags: KVM_PV_REASON_PAGE_NOT_PRESENT,
    completed: true,
    delivered: [VECTOR],
    ready: 0x1000,
    again: false,
    lookupAfter: undefined,
  });
});

Deno.test("'page ready' waits while the token slot is busy, until the guest frees it and ACKs", () => {
  const vm = machine();
  const seen: unknown[] = [];
  vm.run([function* (cpu) {
    yield* linuxEnable(cpu);
    cpu.cpl = 3;
    assertEquals([asyncPageFault(cpu, 1n), asyncPageFault(cpu, 2n)], ["async", "async"]);
    const [a, b] = cpu.pageFaults.map((f) => Number(f.cr2));
    completeAsyncPageFault(cpu, a);
    completeAsyncPageFault(cpu, b);
    exitAndEnter(cpu);
    seen.push(Number(cpu.load64(AREA + 4n, 4)) === a, asyncPfState(cpu).done.length);
    // Freeing the slot without the ACK is not enough: nothing asks the host to rescan.
    cpu.store64(AREA + 4n, 4, 0n);
    exitAndEnter(cpu);
    seen.push(Number(cpu.load64(AREA + 4n, 4)));
    cpu.wrmsr(MSR_KVM_ASYNC_PF_ACK, 1n);
    exitAndEnter(cpu);
    seen.push(Number(cpu.load64(AREA + 4n, 4)) === b, asyncPfState(cpu).done.length);
    yield { kind: "yield" };
  }]);
  assertEquals(seen, [true, 1, 0, true, 0]);
});

Deno.test("'page ready' waits while the LAPIC is disabled; enabling it rescans", () => {
  const vm = machine();
  const seen: number[] = [];
  vm.run([function* (cpu) {
    yield* linuxEnable(cpu);
    cpu.cpl = 3;
    asyncPageFault(cpu, 7n);
    const token = Number(cpu.pageFaults[0].cr2);
    cpu.apic!.enabled = false; // the guest software-disables its APIC
    completeAsyncPageFault(cpu, token);
    exitAndEnter(cpu);
    seen.push(Number(cpu.load64(AREA + 4n, 4)));
    cpu.apic!.enabled = true;
    exitAndEnter(cpu);
    seen.push(Number(cpu.load64(AREA + 4n, 4)));
    yield { kind: "yield" };
  }]);
  assertEquals(seen, [0, 0x1000]);
});

Deno.test("kvm_can_deliver_async_pf: CPL 0 needs SEND_ALWAYS; else the vCPU halts", async (t) => {
  const cases: { name: string; enable: bigint; cpl: number; outcome: "async" | "halt" }[] = [
    { name: "CPL 3", enable: LINUX_ENABLE, cpl: 3, outcome: "async" },
    { name: "CPL 0", enable: LINUX_ENABLE, cpl: 0, outcome: "halt" },
    {
      name: "CPL 0 with SEND_ALWAYS",
      enable: LINUX_ENABLE | KVM_ASYNC_PF_SEND_ALWAYS,
      cpl: 0,
      outcome: "async",
    },
    { name: "not enabled", enable: 0n, cpl: 3, outcome: "halt" },
  ];
  for (const { name, enable, cpl, outcome } of cases) {
    await t.step(name, () => {
      const vm = machine();
      const got = vm.runOn(0, (cpu) => {
        cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, enable);
        cpu.cpl = cpl;
        return [asyncPageFault(cpu, 9n), cpu.pageFaults.length, asyncPfHalted(cpu)];
      });
      assertEquals(got, [outcome, outcome === "async" ? 1 : 0, outcome === "halt"]);
      assertEquals(vm.memory.readU32(AREA), outcome === "async" ? 1 : 0); // flags
    });
  }
  await t.step("enabled, but the area failed to map (a #GP'd enable)", () => {
    const vm = machine();
    const got = vm.runOn(0, (cpu) => {
      assertEquals(cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, BigInt(RAM) | EN | INT).kind, "gp");
      cpu.cpl = 3;
      return asyncPageFault(cpu, 9n);
    });
    assertEquals(got, "halt");
  });
});

Deno.test("a second fault on a page in flight halts and keeps the first token", () => {
  const vm = machine();
  const got = vm.runOn(0, (cpu) => {
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE);
    cpu.cpl = 3;
    return [asyncPageFault(cpu, 5n), asyncPageFault(cpu, 5n), asyncPageFaultToken(cpu, 5n)];
  });
  assertEquals(got, ["async", "halt", 0x1000]);
  assertEquals(vm.vcpus[0].pageFaults.length, 1);
});

Deno.test("a halted vCPU is held off its CPU; the completion wakes it without a 'page ready'", () => {
  const vm = machine({}, 2);
  let token = 0;
  const seen: unknown[] = [];
  vm.run([
    function* (cpu) {
      yield* linuxEnable(cpu);
      assertEquals(asyncPageFault(cpu, 0x42n), "halt"); // CPL 0, no SEND_ALWAYS
      token = asyncPageFaultToken(cpu, 0x42n)!;
      seen.push(asyncPfHalted(cpu));
      const faultedAt = cpu.clock;
      yield { kind: "yield" }; // no HLT: the plugin holds the vCPU off (KVM_REQ_APF_HALT)
      seen.push(asyncPfHalted(cpu), cpu.clock >= faultedAt + 50_000n); // held until the completion
      exitAndEnter(cpu);
      seen.push(Number(cpu.load64(AREA + 4n, 4)), asyncPfState(cpu).done.length);
    },
    function* () {
      yield { kind: "spin", ns: 100_000 };
      seen.push(vm.vcpus[0].state);
      seen.push(completeAsyncPageFault(vm.vcpus[0], token)); // the page is in: wake vCPU 0
    },
  ]);
  assertEquals(seen, [true, "held", true, false, true, 0, 0]);
  assertEquals(vm.vcpus[0].delivered, [VECTOR]); // only the 'wake all'
});

Deno.test("tokens: (id++ << 12) | vcpu_id, never 0, id restarts at 1 (alloc_apf_token)", () => {
  const vm = machine({}, 2);
  const tokens: number[] = [];
  vm.run([undefined, function* (cpu) {
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE);
    cpu.cpl = 3;
    for (const gfn of [1n, 2n, 3n]) asyncPageFault(cpu, gfn);
    asyncPfState(cpu).id = 0xfffff; // the last id whose << 12 is not 0 (u32)
    for (const gfn of [4n, 5n]) asyncPageFault(cpu, gfn);
    tokens.push(...cpu.pageFaults.map((f) => Number(f.cr2)));
    yield { kind: "yield" };
  }]);
  assertEquals(tokens, [0x1001, 0x2001, 0x3001, 0xfffff001, 0x1001]);
  // vCPU 0's tokens have 0 in the low bits and are still never 0.
  const st = asyncPfState(vm.vcpus[0]);
  st.id = 0x100000;
  vm.setMsr(0, MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE);
  vm.runOn(0, (cpu) => {
    cpu.cpl = 3;
    asyncPageFault(cpu, 6n);
  });
  assertEquals(vm.vcpus[0].pageFaults.map((f) => f.cr2), [0x1000n]);
});

Deno.test("disabling drops every fault in flight and every queued completion", async (t) => {
  for (const value of [0n, AREA | EN]) {
    await t.step(`write 0x${value.toString(16)}`, () => {
      const vm = machine();
      const got = vm.runOn(0, (cpu) => {
        cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE);
        cpu.cpl = 3;
        asyncPageFault(cpu, 1n);
        asyncPageFault(cpu, 2n);
        const [a, b] = cpu.pageFaults.map((f) => Number(f.cr2));
        completeAsyncPageFault(cpu, a);
        cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, value);
        const st = asyncPfState(cpu);
        return [st.queue.size, st.done.length, completeAsyncPageFault(cpu, b)];
      });
      assertEquals(got, [0, 0, false]);
    });
  }
});

Deno.test("RESET and INIT: ASYNC_PF_EN ← 0, queues cleared, halt ended (kvm_vcpu_reset)", async (t) => {
  for (const kind of ["reset", "init"] as const) {
    await t.step(kind, () => {
      const vm = machine();
      vm.runOn(0, (cpu) => {
        cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE);
        assertEquals(asyncPageFault(cpu, 1n), "halt"); // CPL 0
      });
      vm.resetVcpu(0, kind);
      const st = asyncPfState(vm.vcpus[0]);
      assertEquals(readMsrAs(vm, "host", MSR_KVM_ASYNC_PF_EN), 0n);
      assertEquals([st.queue.size, st.done.length, st.halted], [0, 0, false]);
    });
  }
});

Deno.test("several vCPUs keep separate queues and tokens", () => {
  const vm = machine({}, 3);
  const program = function* (cpu: EmuVcpu) {
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, (AREA + 64n * BigInt(cpu.index)) | EN | INT);
    cpu.cpl = 3;
    asyncPageFault(cpu, 0x99n);
    yield { kind: "yield" as const };
  };
  vm.run([program, program, program]);
  assertEquals(vm.vcpus.map((v) => Number(v.pageFaults[0].cr2)), [0x1000, 0x1001, 0x1002]);
  for (const v of vm.vcpus) assert(completeAsyncPageFault(v, Number(v.pageFaults[0].cr2)));
  assertEquals(completeAsyncPageFault(vm.vcpus[0], 0x1001), false);
});

Deno.test("a completion wakes a held vCPU even while a 'page ready' is pending (async_pf_execute)", () => {
  const vm = machine({}, 2);
  const seen: unknown[] = [];
  let tokens: number[] = [];
  vm.run([
    function* (cpu) {
      cpu.sti();
      cpu.wrmsr(MSR_KVM_ASYNC_PF_INT, BigInt(VECTOR));
      cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, LINUX_ENABLE);
      exitAndEnter(cpu); // 'wake all' delivered and not ACKed: pageready_pending stays set
      seen.push(asyncPfState(cpu).pageReadyPending);
      cpu.cpl = 3;
      assertEquals(asyncPageFault(cpu, 0x7n), "async");
      cpu.cpl = 0;
      assertEquals(asyncPageFault(cpu, 0x8n), "halt"); // CPL 0, no SEND_ALWAYS
      tokens = [asyncPageFaultToken(cpu, 0x7n)!, asyncPageFaultToken(cpu, 0x8n)!];
      yield { kind: "yield" };
      seen.push(asyncPfHalted(cpu), asyncPfState(cpu).pageReadyPending, cpu.clock >= 50_000n);
    },
    function* () {
      yield { kind: "spin", ns: 50_000 };
      seen.push(vm.vcpus[0].state);
      completeAsyncPageFault(vm.vcpus[0], tokens[1]); // first on the done queue: no kick, a wake
    },
  ]);
  assertEquals(seen, [true, "held", false, true, true]);
});
