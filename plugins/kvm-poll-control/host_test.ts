import { assertEquals } from "@std/assert";
import { KVM_FEATURE_POLL_CONTROL, MSR_KVM_POLL_CONTROL } from "@pvkit/abi";
import { EmuMachine, type EmuOptions, kvmFeaturesWithout, readMsrAs, writeMsrAs } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { hostPollingAllowed } from "./mod.ts";

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12" };

function machine(options: EmuOptions = {}, smp = 1): EmuMachine {
  return EmuMachine.create(compose({ ...MACHINE, smp }), options);
}

const ENFORCEMENT: { name: string; options: EmuOptions }[] = [
  { name: "enforcement off", options: {} },
  { name: "enforcement on, bit 12 advertised", options: { enforcePvCpuid: true } },
];

// spec §2 POLL_CONTROL: b0 is the only valid bit; b63:1 ≠ 0 → #GP.
const WRITES: { value: bigint; result: "ok" | "gp" }[] = [
  { value: 0n, result: "ok" },
  { value: 1n, result: "ok" },
  { value: 2n, result: "gp" },
  { value: 3n, result: "gp" },
  { value: 1n << 32n, result: "gp" },
  { value: 1n << 63n | 1n, result: "gp" },
  { value: 0xffff_ffff_ffff_ffffn, result: "gp" },
];

Deno.test("POLL_CONTROL reads 1 after vCPU creation (kvm_arch_vcpu_postcreate)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      await t.step(
        `${name}, ${by}`,
        () => assertEquals(readMsrAs(machine(options), by, MSR_KVM_POLL_CONTROL), 1n),
      );
    }
  }
});

Deno.test("POLL_CONTROL writes: b0 only, anything in b63:1 is #GP (spec §2)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      for (const { value, result } of WRITES) {
        await t.step(`${name}, ${by} writes 0x${value.toString(16)} → ${result}`, () => {
          const vm = machine(options);
          assertEquals(writeMsrAs(vm, by, MSR_KVM_POLL_CONTROL, 0n), "ok");
          assertEquals(writeMsrAs(vm, by, MSR_KVM_POLL_CONTROL, value), result);
          // A refused write leaves the previous value (0) in place.
          assertEquals(readMsrAs(vm, by, MSR_KVM_POLL_CONTROL), result === "ok" ? value : 0n);
        });
      }
    }
  }
});

Deno.test("POLL_CONTROL with enforcement on and bit 12 absent (spec §2 gate failure, §7)", async (t) => {
  const options = {
    enforcePvCpuid: true,
    cpuid: [kvmFeaturesWithout(compose(MACHINE), KVM_FEATURE_POLL_CONTROL)],
  };
  await t.step("guest RDMSR and WRMSR #GP, whatever the value", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "guest", MSR_KVM_POLL_CONTROL), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_POLL_CONTROL, 0n), "gp");
    assertEquals(writeMsrAs(vm, "guest", MSR_KVM_POLL_CONTROL, 1n), "gp");
  });
  await t.step("host read returns 0, host write of 0 succeeds, any other write fails", () => {
    const vm = machine(options);
    assertEquals(readMsrAs(vm, "host", MSR_KVM_POLL_CONTROL), 0n);
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_POLL_CONTROL, 0n), "ok");
    assertEquals(writeMsrAs(vm, "host", MSR_KVM_POLL_CONTROL, 1n), "gp");
    // The host's write of 0 did not reach the MSR: polling is still allowed.
    assertEquals(hostPollingAllowed(vm.vcpus[0]), true);
  });
});

Deno.test("hostPollingAllowed is !kvm_arch_no_poll: it follows the guest's b0, per vCPU", () => {
  const vm = machine({}, 2);
  assertEquals(vm.vcpus.map(hostPollingAllowed), [true, true]);
  vm.runOn(1, (cpu) => cpu.wrmsr(MSR_KVM_POLL_CONTROL, 0n)); // cpuidle-haltpoll enabled on CPU 1
  assertEquals(vm.vcpus.map(hostPollingAllowed), [true, false]);
  vm.runOn(1, (cpu) => cpu.wrmsr(MSR_KVM_POLL_CONTROL, 1n)); // ... and disabled again
  assertEquals(vm.vcpus.map(hostPollingAllowed), [true, true]);
});

Deno.test("POLL_CONTROL survives RESET and INIT (spec §2: not reset)", () => {
  const vm = machine();
  assertEquals(writeMsrAs(vm, "guest", MSR_KVM_POLL_CONTROL, 0n), "ok");
  vm.resetVcpu(0, "init");
  assertEquals(readMsrAs(vm, "guest", MSR_KVM_POLL_CONTROL), 0n);
  vm.resetVcpu(0, "reset");
  assertEquals(readMsrAs(vm, "host", MSR_KVM_POLL_CONTROL), 0n);
  assertEquals(hostPollingAllowed(vm.vcpus[0]), false);
});
