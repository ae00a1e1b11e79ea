import { assertEquals } from "@std/assert";
import { KVM_FEATURE_PV_EOI, MSR_KVM_PV_EOI_EN } from "@pvkit/abi";
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

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12" };

function machine(options: EmuOptions = {}, smp = 1, irqchip = "split"): EmuMachine {
  const m = `q35,kernel-irqchip=${irqchip}`;
  return EmuMachine.create(compose({ ...MACHINE, machine: m, smp }), options);
}

const RAM = 16 * 1024 * 1024; // EmuMachine's default
const WORD = 0x3000n; // the guest's PV EOI word (zeroed RAM)

const ENFORCEMENT: { name: string; options: EmuOptions }[] = [
  { name: "enforcement off", options: {} },
  { name: "enforcement on, bit 6 advertised", options: { enforcePvCpuid: true } },
];

// spec §2 PV_EOI_EN: (data & ~1) must be 4-byte aligned (b1 clear); with b0 the byte must map.
const WRITES: { what: string; value: bigint; result: "ok" | "gp" }[] = [
  { what: "0 (disable)", value: 0n, result: "ok" },
  { what: "GPA | enable", value: WORD | 1n, result: "ok" },
  { what: "4-byte (not 8-byte) aligned GPA | enable", value: WORD | 4n | 1n, result: "ok" },
  { what: "GPA without enable", value: WORD, result: "ok" },
  { what: "last word of RAM | enable", value: BigInt(RAM - 4) | 1n, result: "ok" },
  { what: "b1 alone", value: 2n, result: "gp" },
  { what: "GPA | b1 | enable", value: WORD | 3n, result: "gp" },
  { what: "GPA | b1, disabled", value: WORD | 2n, result: "gp" },
  { what: "GPA outside RAM | enable", value: BigInt(RAM) | 1n, result: "gp" },
  { what: "b63 | enable (outside RAM)", value: 1n << 63n | 1n, result: "gp" },
  { what: "GPA outside RAM, disabled (not mapped)", value: BigInt(RAM), result: "ok" },
];

Deno.test("PV_EOI_EN writes: b1 and an unmappable enabled GPA are #GP (spec §2)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      for (const { what, value, result } of WRITES) {
        await t.step(`${name}, ${by}: ${what} → ${result}`, () => {
          const vm = machine(options);
          assertEquals(writeMsrAs(vm, by, MSR_KVM_PV_EOI_EN, 0x40n), "ok"); // a previous value
          assertEquals(writeMsrAs(vm, by, MSR_KVM_PV_EOI_EN, value), result);
          assertEquals(readMsrAs(vm, by, MSR_KVM_PV_EOI_EN), result === "ok" ? value : 0x40n);
        });
      }
    }
  }
});

Deno.test("PV_EOI_EN with enforcement on and bit 6 absent (spec §2 gate failure, §7)", async (t) => {
  const options = {
    enforcePvCpuid: true,
    cpuid: [kvmFeaturesWithout(compose(MACHINE), KVM_FEATURE_PV_EOI)],
  };
  await t.step("guest RDMSR and WRMSR #GP, even a write of 0", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "guest", MSR_KVM_PV_EOI_EN), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_PV_EOI_EN, 0n), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_PV_EOI_EN, WORD | 1n), "gp");
  });
  await t.step("host read returns 0; only a host write of 0 succeeds", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "host", MSR_KVM_PV_EOI_EN), 0n);
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_PV_EOI_EN, 0n), "ok");
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_PV_EOI_EN, WORD | 1n), "gp");
  });
});

Deno.test("without an in-kernel LAPIC the MSR stores its value and never arms", () => {
  const vm = machine({}, 1, "off");
  assertEquals(vm.vcpus[0].apic, undefined);
  assertEquals(writeMsrAs(vm, "guest", MSR_KVM_PV_EOI_EN, WORD | 1n), "ok");
  assertEquals(readMsrAs(vm, "guest", MSR_KVM_PV_EOI_EN), WORD | 1n);
  vm.runOn(0, (cpu) => cpu.out(0x80, 1, 0));
  assertEquals(vm.memory.readU8(WORD), 0);
  // kvm_lapic_reset does not run without a LAPIC, so RESET keeps the value (spec §2 reset).
  vm.resetVcpu(0, "reset");
  assertEquals(readMsrAs(vm, "host", MSR_KVM_PV_EOI_EN), WORD | 1n);
});

/** The Linux guest's PV EOI (kvm_guest_apic_eoi_write): test_and_clear bit 0, else a real EOI. */
function guestEoi(cpu: EmuVcpu): "pv" | "apic" {
  const byte = cpu.load64(WORD, 1); // entry work (injection, arming) runs first
  if ((byte & 1n) !== 0n) {
    cpu.store64(WORD, 1, byte & ~1n);
    return "pv";
  }
  cpu.apicEoi();
  return "apic";
}

/** vCPU 0 enables PV EOI and halts; vCPU 1 sends it `vectors`; vCPU 0 then runs `handler`. */
function interrupted(
  vectors: number[],
  handler: (cpu: EmuVcpu) => Generator<GuestBlock, void, void>,
  options: EmuOptions = {},
): EmuMachine {
  const vm = machine(options, 2);
  vm.run([
    function* (cpu) {
      cpu.wrmsr(MSR_KVM_PV_EOI_EN, WORD | 1n);
      cpu.sti();
      yield { kind: "hlt" };
      yield* handler(cpu);
    },
    function* (cpu) {
      yield { kind: "spin", ns: 10_000 };
      for (const v of vectors) cpu.sendIpi(0, v);
    },
  ]);
  return vm;
}

Deno.test("PV EOI: an armed byte the guest clears saves the EOI exit (spec §6)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    await t.step(name, () => {
      const kinds: string[] = [];
      const vm = interrupted([0x40], function* (cpu) {
        kinds.push(guestEoi(cpu));
        cpu.out(0x80, 1, 0); // the next exit: the host sees byte 0 and does the EOI
        yield { kind: "yield" };
      }, options);
      const vcpu = vm.vcpus[0];
      assertEquals(vcpu.delivered, [0x40]);
      assertEquals(kinds, ["pv"]);
      assertEquals(vcpu.exits.eoi, 0);
      assertEquals(vcpu.apic!.eois, 1);
      assertEquals(vcpu.apic!.highestIsr(), -1);
      assertEquals(vm.memory.readU8(WORD), 0);
    });
  }
});

Deno.test("PV EOI is not armed while another vector waits in the IRR", () => {
  const kinds: string[] = [];
  const vm = interrupted([0x40, 0x50], function* (cpu) {
    kinds.push(guestEoi(cpu)); // 0x50 in service, 0x40 pending: a real EOI (an exit)
    kinds.push(guestEoi(cpu)); // 0x40 in service, IRR empty: armed
    cpu.out(0x80, 1, 0);
    yield { kind: "yield" };
  });
  const vcpu = vm.vcpus[0];
  assertEquals(vcpu.delivered, [0x50, 0x40]);
  assertEquals(kinds, ["apic", "pv"]);
  assertEquals(vcpu.exits.eoi, 1);
  assertEquals(vcpu.apic!.eois, 2);
  assertEquals(vcpu.apic!.highestIsr(), -1);
});

Deno.test("a byte still 1 after the exit: the host clears it and does no EOI, then re-arms", () => {
  const bytes: number[] = [];
  const vm = interrupted([0x40], function* (cpu) {
    bytes.push(Number(cpu.load64(WORD, 1))); // armed, but the handler has not EOI'd yet
    cpu.out(0x80, 1, 0); // an exit in the middle of the handler
    bytes.push(cpu.memory.readU8(WORD)); // what the host left after that exit
    bytes.push(Number(cpu.load64(WORD, 1))); // the next entry armed it again
    yield { kind: "yield" };
  });
  const vcpu = vm.vcpus[0];
  assertEquals(bytes, [1, 0, 1]);
  assertEquals(vcpu.apic!.eois, 0);
  assertEquals(vcpu.apic!.highestIsr(), 0x40);
});

Deno.test("a deschedule with no exit reported still settles the armed byte first", () => {
  const kinds: string[] = [];
  const vm = interrupted([0x40], function* (cpu) {
    kinds.push(guestEoi(cpu)); // PV EOI, no exit
    yield { kind: "preempt", ns: 5_000 }; // the emulated host deschedules without an exit
    cpu.load64(WORD, 1); // the next entry settles the EOI before it could re-arm
  });
  assertEquals(kinds, ["pv"]);
  assertEquals(vm.vcpus[0].apic!.eois, 1);
  assertEquals(vm.vcpus[0].apic!.highestIsr(), -1);
  assertEquals(vm.memory.readU8(WORD), 0);
});

Deno.test("with PV EOI disabled the byte is never armed: every EOI exits", () => {
  const kinds: string[] = [];
  const vm = interrupted([0x40], function* (cpu) {
    cpu.wrmsr(MSR_KVM_PV_EOI_EN, WORD); // b0 clear
    kinds.push(guestEoi(cpu));
    yield { kind: "yield" };
  });
  assertEquals(kinds, ["apic"]);
  assertEquals(vm.vcpus[0].exits.eoi, 1);
});

Deno.test("RESET and INIT zero PV_EOI_EN with an in-kernel LAPIC (kvm_lapic_reset)", async (t) => {
  for (const kind of ["reset", "init"] as const) {
    await t.step(kind, () => {
      const vm = machine();
      assertEquals(writeMsrAs(vm, "guest", MSR_KVM_PV_EOI_EN, WORD | 1n), "ok");
      vm.resetVcpu(0, kind);
      assertEquals(readMsrAs(vm, "guest", MSR_KVM_PV_EOI_EN), 0n);
      assertEquals(readMsrAs(vm, "host", MSR_KVM_PV_EOI_EN), 0n);
    });
  }
});
