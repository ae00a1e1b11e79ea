import { assertEquals } from "@std/assert";
import { KVM_FEATURE_POLL_CONTROL, MSR_KVM_POLL_CONTROL } from "@pvkit/abi";
import type { MsrInitiator } from "@pvkit/machine";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { hostPollingAllowed } from "./mod.ts";

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12" };

function machine(options: EmuOptions = {}, smp = 1): EmuMachine {
  return EmuMachine.create(compose({ ...MACHINE, smp }), options);
}

/** The KVM leaf EAX of MACHINE with `bit` cleared (for enforcement with the bit absent). */
function featuresWithout(bit: number): number {
  return (Number(compose({ ...MACHINE, smp: 1 }).leaves["0x40000001"].eax) & ~(1 << bit)) >>> 0;
}

/** Runs `fn` as guest code on vCPU `index` and returns what it returned. */
function onGuest<T>(vm: EmuMachine, fn: (cpu: EmuVcpu) => T, index = 0): T {
  return vm.runOn(index, fn);
}

function write(vm: EmuMachine, by: MsrInitiator, value: bigint): "ok" | "gp" {
  if (by === "host") return vm.setMsr(0, MSR_KVM_POLL_CONTROL, value) === 1 ? "ok" : "gp";
  return onGuest(vm, (cpu) => cpu.wrmsr(MSR_KVM_POLL_CONTROL, value).kind);
}

function read(vm: EmuMachine, by: MsrInitiator): bigint | "gp" {
  if (by === "host") return vm.getMsr(0, MSR_KVM_POLL_CONTROL) ?? "gp";
  return onGuest(vm, (cpu) => {
    const r = cpu.rdmsr(MSR_KVM_POLL_CONTROL);
    return r.kind === "value" ? r.value : "gp";
  });
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
      await t.step(`${name}, ${by}`, () => assertEquals(read(machine(options), by), 1n));
    }
  }
});

Deno.test("POLL_CONTROL writes: b0 only, anything in b63:1 is #GP (spec §2)", async (t) => {
  for (const { name, options } of ENFORCEMENT) {
    for (const by of ["guest", "host"] as const) {
      for (const { value, result } of WRITES) {
        await t.step(`${name}, ${by} writes 0x${value.toString(16)} → ${result}`, () => {
          const vm = machine(options);
          assertEquals(write(vm, by, 0n), "ok");
          assertEquals(write(vm, by, value), result);
          // A refused write leaves the previous value (0) in place.
          assertEquals(read(vm, by), result === "ok" ? value : 0n);
        });
      }
    }
  }
});

Deno.test("POLL_CONTROL with enforcement on and bit 12 absent (spec §2 gate failure, §7)", async (t) => {
  const options = {
    enforcePvCpuid: true,
    cpuid: [{ leaf: 0x40000001, eax: featuresWithout(KVM_FEATURE_POLL_CONTROL) }],
  };
  await t.step("guest RDMSR and WRMSR #GP, whatever the value", () => {
    const vm = machine(options);
    assertEquals(read(vm, "guest"), "gp");
    assertEquals(write(vm, "guest", 0n), "gp");
    assertEquals(write(vm, "guest", 1n), "gp");
  });
  await t.step("host read returns 0, host write of 0 succeeds, any other write fails", () => {
    const vm = machine(options);
    assertEquals(read(vm, "host"), 0n);
    assertEquals(write(vm, "host", 0n), "ok");
    assertEquals(write(vm, "host", 1n), "gp");
    // The host's write of 0 did not reach the MSR: polling is still allowed.
    assertEquals(hostPollingAllowed(vm.vcpus[0]), true);
  });
});

Deno.test("hostPollingAllowed is !kvm_arch_no_poll: it follows the guest's b0, per vCPU", () => {
  const vm = machine({}, 2);
  assertEquals(vm.vcpus.map(hostPollingAllowed), [true, true]);
  onGuest(vm, (cpu) => cpu.wrmsr(MSR_KVM_POLL_CONTROL, 0n), 1); // cpuidle-haltpoll enabled on CPU 1
  assertEquals(vm.vcpus.map(hostPollingAllowed), [true, false]);
  onGuest(vm, (cpu) => cpu.wrmsr(MSR_KVM_POLL_CONTROL, 1n), 1); // ... and disabled again
  assertEquals(vm.vcpus.map(hostPollingAllowed), [true, true]);
});

Deno.test("POLL_CONTROL survives RESET and INIT (spec §2: not reset)", () => {
  const vm = machine();
  assertEquals(write(vm, "guest", 0n), "ok");
  vm.resetVcpu(0, "init");
  assertEquals(read(vm, "guest"), 0n);
  vm.resetVcpu(0, "reset");
  assertEquals(read(vm, "host"), 0n);
  assertEquals(hostPollingAllowed(vm.vcpus[0]), false);
});
