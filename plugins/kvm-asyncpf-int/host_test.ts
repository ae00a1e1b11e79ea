import { assertEquals } from "@std/assert";
import {
  KVM_ASYNC_PF_DELIVERY_AS_INT,
  KVM_ASYNC_PF_ENABLED,
  KVM_ASYNC_PF_WAKE_ALL_TOKEN,
  KVM_FEATURE_ASYNC_PF_INT,
  MSR_KVM_ASYNC_PF_ACK,
  MSR_KVM_ASYNC_PF_EN,
  MSR_KVM_ASYNC_PF_INT,
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
import { asyncPfState } from "@pvkit/abi";

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12" };

function machine(options: EmuOptions = {}, irqchip = "split"): EmuMachine {
  const m = `q35,kernel-irqchip=${irqchip}`;
  return EmuMachine.create(compose({ ...MACHINE, machine: m, smp: 1 }), options);
}

const AREA = 0x5000n; // the guest's kvm_vcpu_pv_apf_data
const ENABLE = AREA | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT;

const ENFORCEMENT: { name: string; options: EmuOptions }[] = [
  { name: "enforcement off", options: {} },
  { name: "enforcement on, bit 14 advertised", options: { enforcePvCpuid: true } },
];

// spec §2 ASYNC_PF_INT: b7:0 the vector (not validated), b63:8 reserved → #GP.
const INT_WRITES: { value: bigint; result: "ok" | "gp" }[] = [
  { value: 0n, result: "ok" },
  { value: 0x0fn, result: "ok" }, // an exception vector: KVM does not check
  { value: 0xf3n, result: "ok" },
  { value: 0xffn, result: "ok" },
  { value: 0x100n, result: "gp" },
  { value: 0x1f3n, result: "gp" },
  { value: 1n << 63n | 0xf3n, result: "gp" },
];

Deno.test("ASYNC_PF_INT writes: b63:8 set is #GP, the vector is stored raw (spec §2)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      for (const { value, result } of INT_WRITES) {
        await t.step(`${name}, ${by} writes 0x${value.toString(16)} → ${result}`, () => {
          const vm = machine(options);
          assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_INT, 0x40n), "ok");
          assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_INT, value), result);
          assertEquals(readMsrAs(vm, by, MSR_KVM_ASYNC_PF_INT), result === "ok" ? value : 0x40n);
          assertEquals(asyncPfState(vm.vcpus[0]).vec, result === "ok" ? Number(value) : 0x40);
        });
      }
    }
  }
});

Deno.test("ASYNC_PF_INT without an in-kernel LAPIC: #GP even for 0 (spec §2)", async (t) => {
  for (const by of ["guest", "host"] as const) {
    await t.step(by, () => {
      const vm = machine({}, "off");
      assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_INT, 0n), "gp");
      assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_INT, 0xf3n), "gp");
      assertEquals(readMsrAs(vm, by, MSR_KVM_ASYNC_PF_INT), 0n);
      // ACK has no LAPIC check.
      assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_ACK, 1n), "ok");
    });
  }
});

// spec §2 ASYNC_PF_ACK: never #GP, b0 acts, other bits are ignored; it always reads 0.
const ACK_WRITES = [0n, 1n, 2n, 0xffff_ffff_ffff_fffen, 0xffff_ffff_ffff_ffffn];

Deno.test("ASYNC_PF_ACK: any value is accepted and it always reads 0 (spec §2)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      await t.step(`${name}, ${by}`, () => {
        const vm = machine(options);
        for (const value of ACK_WRITES) {
          assertEquals(writeMsrAs(vm, by, MSR_KVM_ASYNC_PF_ACK, value), "ok");
          assertEquals(readMsrAs(vm, by, MSR_KVM_ASYNC_PF_ACK), 0n);
        }
      });
    }
  }
});

Deno.test("MSRs 0x4b564d06/07 with enforcement on and bit 14 absent (spec §2, §7)", async (t) => {
  const options = {
    enforcePvCpuid: true,
    cpuid: [kvmFeaturesWithout(compose(MACHINE), KVM_FEATURE_ASYNC_PF_INT)],
  };
  for (const msr of [MSR_KVM_ASYNC_PF_INT, MSR_KVM_ASYNC_PF_ACK]) {
    await t.step(`0x${msr.toString(16)}: guest RDMSR and WRMSR #GP`, () => {
      const vm = machine(options);
      assertEquals(readMsrAs(vm, "guest", msr), "gp");
      assertEquals(writeMsrAs(vm, "guest", msr, 0n), "gp");
      assertEquals(writeMsrAs(vm, "guest", msr, 1n), "gp");
    });
    await t.step(`0x${msr.toString(16)}: host read 0, only a host write of 0 succeeds`, () => {
      const vm = machine(options);
      assertEquals(readMsrAs(vm, "host", msr), 0n);
      assertEquals(writeMsrAs(vm, "host", msr, 0n), "ok");
      assertEquals(writeMsrAs(vm, "host", msr, 1n), "gp");
    });
  }
});

// ---- behaviour through a machine ----

/** Any exit, then an entry that takes pending interrupts (with IF = 1). */
function exitAndEnter(cpu: EmuVcpu): void {
  cpu.out(0x80, 1, 0);
  cpu.enter();
}

const token = (cpu: EmuVcpu): number => Number(cpu.load64(AREA + 4n, 4));

Deno.test("the 'page ready' interrupt uses the vector of 0x4b564d06", () => {
  const vm = machine();
  vm.run([function* (cpu) {
    cpu.sti();
    cpu.wrmsr(MSR_KVM_ASYNC_PF_INT, 0x40n);
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, ENABLE); // queues the 'wake all'
    exitAndEnter(cpu);
    yield { kind: "yield" };
  }]);
  assertEquals(vm.vcpus[0].delivered, [0x40]);
});

Deno.test("EN written before INT injects vector 0, as the doc warns (spec §2)", () => {
  const vm = machine();
  vm.run([function* (cpu) {
    cpu.sti();
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, ENABLE);
    exitAndEnter(cpu);
    cpu.wrmsr(MSR_KVM_ASYNC_PF_INT, 0xf3n); // too late for the 'wake all'
    yield { kind: "yield" };
  }]);
  assertEquals(vm.vcpus[0].delivered, [0]);
});

Deno.test("ACK with b0 clears pageready_pending and delivers the next queued 'page ready'", () => {
  const vm = machine();
  const seen: unknown[] = [];
  vm.run([function* (cpu) {
    cpu.sti();
    cpu.wrmsr(MSR_KVM_ASYNC_PF_INT, 0xf3n);
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, ENABLE);
    exitAndEnter(cpu);
    cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, ENABLE); // the done queue is empty again: a 2nd 'wake all'
    exitAndEnter(cpu);
    const st = asyncPfState(cpu);
    seen.push(st.pageReadyPending, st.done.length); // the slot is busy: it waits
    cpu.apicEoi();
    cpu.store64(AREA + 4n, 4, 0n); // the guest took the first token
    cpu.wrmsr(MSR_KVM_ASYNC_PF_ACK, 2n); // b0 clear: ignored
    exitAndEnter(cpu);
    seen.push(token(cpu), st.pageReadyPending, st.done.length);
    cpu.wrmsr(MSR_KVM_ASYNC_PF_ACK, 1n); // rescans before the guest runs again
    seen.push(token(cpu), st.pageReadyPending, st.done.length);
    yield { kind: "yield" };
  }]);
  assertEquals(seen, [true, 1, 0, true, 1, KVM_ASYNC_PF_WAKE_ALL_TOKEN, true, 0]);
  assertEquals(vm.vcpus[0].delivered, [0xf3, 0xf3]);
  // A host-initiated ACK (KVM_SET_MSRS) clears the flag; the scan waits for the next entry.
  assertEquals(vm.setMsr(0, MSR_KVM_ASYNC_PF_ACK, 1n), 1);
  const st = asyncPfState(vm.vcpus[0]);
  assertEquals([st.pageReadyPending, st.readyRequested], [false, true]);
});

Deno.test("RESET and INIT zero ASYNC_PF_INT; the vector itself is kept (kvm_vcpu_reset)", async (t) => {
  for (const kind of ["reset", "init"] as const) {
    await t.step(kind, () => {
      const vm = machine();
      assertEquals(writeMsrAs(vm, "guest", MSR_KVM_ASYNC_PF_INT, 0xf3n), "ok");
      vm.resetVcpu(0, kind);
      assertEquals(readMsrAs(vm, "guest", MSR_KVM_ASYNC_PF_INT), 0n);
      assertEquals(readMsrAs(vm, "host", MSR_KVM_ASYNC_PF_INT), 0n);
      // KVM clears msr_int_val only: a guest that enables EN first still gets the old vector.
      vm.run([function* (cpu) {
        cpu.sti();
        cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, ENABLE);
        exitAndEnter(cpu);
        yield { kind: "yield" };
      }]);
      assertEquals(vm.vcpus[0].delivered, [0xf3]);
    });
  }
});
