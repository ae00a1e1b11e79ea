import { assertEquals } from "@std/assert";
import { MSR_KVM_MIGRATION_CONTROL } from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import type { PvPlugin } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { kvmHcMapGpaRange } from "@pvkit/kvm-hc-map-gpa-range";
import { kvmMigrationControl } from "./mod.ts";

const MSR = MSR_KVM_MIGRATION_CONTROL;
const HIDDEN = {
  enforcePvCpuid: true,
  cpuid: [{ leaf: 0x40000001, eax: 0, ebx: 0, ecx: 0, edx: 0 }],
};

function machine(
  cpu = "host,kvm-migration-control=on",
  options: EmuOptions = {},
  plugins: PvPlugin[] = [kvmMigrationControl],
): EmuMachine {
  return EmuMachine.create(
    compose({ cpu, machine: "q35,kernel-irqchip=split", smp: 2, host: "linux-6.12", plugins }),
    options,
  );
}

/** Runs `body` on vCPU 0 alone and returns what it returned. */
function onVcpu0<T>(vm: EmuMachine, body: (cpu: EmuVcpu) => T): T {
  let out: T | undefined;
  vm.run([function* (cpu) {
    out = body(cpu);
    yield { kind: "yield" };
  }]);
  return out!;
}

Deno.test("MIGRATION_CONTROL reads 1 (KVM_MIGRATION_READY) before the guest writes it", () => {
  const vm = machine();
  assertEquals(vm.composed.leaves["0x40000001"].eax, "0x0102fefb"); // bit 17 advertised
  assertEquals(onVcpu0(vm, (cpu) => cpu.rdmsr(MSR)), { kind: "value", value: 1n });
});

Deno.test("MIGRATION_CONTROL: WRMSR 0/1 work and the value is VM-wide", () => {
  const vm = machine();
  const seen: bigint[] = [];
  vm.run([
    function* (cpu) {
      assertEquals(cpu.wrmsr(MSR, 0n).kind, "ok");
      yield { kind: "barrier", id: "written" };
      yield { kind: "barrier", id: "read" };
      assertEquals(cpu.wrmsr(MSR, 1n).kind, "ok");
    },
    function* (cpu) {
      yield { kind: "barrier", id: "written" };
      const r = cpu.rdmsr(MSR);
      if (r.kind === "value") seen.push(r.value);
      yield { kind: "barrier", id: "read" };
    },
  ]);
  assertEquals(seen, [0n]);
  assertEquals(vm.getMsr(1, MSR), 1n);
});

Deno.test("MIGRATION_CONTROL: a write with a reserved bit (63:1) #GPs and changes nothing", () => {
  const vm = machine();
  const kinds = onVcpu0(
    vm,
    (cpu) => [2n, 3n, 1n << 63n, (1n << 64n) - 1n].map((v) => cpu.wrmsr(MSR, v).kind),
  );
  assertEquals(kinds, ["gp", "gp", "gp", "gp"]);
  assertEquals(vm.getMsr(0, MSR), 1n);
  assertEquals(vm.setMsr(0, MSR, 2n), 0); // the VMM's own KVM_SET_MSRS follows the same rule
});

Deno.test("MIGRATION_CONTROL #GPs when the feature is off or the plugin absent (KVM does not emulate it)", () => {
  for (const vm of [machine("host"), machine("host", {}, [])]) {
    const kinds = onVcpu0(
      vm,
      (cpu) => [cpu.rdmsr(MSR).kind, cpu.wrmsr(MSR, 0n).kind, cpu.wrmsr(MSR, 1n).kind],
    );
    assertEquals(kinds, ["gp", "gp", "gp"]);
    assertEquals([vm.getMsr(0, MSR), vm.setMsr(0, MSR, 0n)], [undefined, 0]);
  }
});

Deno.test("MIGRATION_CONTROL is not gated by PV CPUID enforcement (the VMM traps it)", () => {
  const vm = machine("host,kvm-migration-control=on", HIDDEN);
  const out = onVcpu0(vm, (cpu) => [cpu.wrmsr(MSR, 0n).kind, cpu.rdmsr(MSR)]);
  assertEquals(out, ["ok", { kind: "value", value: 0n }]);
});

Deno.test("MIGRATION_CONTROL: host-initiated access (KVM_GET/SET_MSRS) sees the same value", () => {
  const vm = machine();
  assertEquals(vm.getMsr(0, MSR), 1n);
  assertEquals(vm.setMsr(1, MSR, 0n), 1);
  assertEquals(onVcpu0(vm, (cpu) => cpu.rdmsr(MSR)), { kind: "value", value: 0n });
});

Deno.test("MIGRATION_CONTROL survives vCPU RESET and INIT (the VMM's, VM-wide value)", () => {
  const vm = machine();
  vm.setMsr(0, MSR, 0n);
  vm.resetVcpu(0, "reset");
  vm.resetVcpu(1, "init");
  assertEquals(vm.getMsr(0, MSR), 0n);
});

Deno.test("the Linux SEV flow: boot writes READY, any CPU going offline writes 0 (§6)", () => {
  const vm = machine("host,kvm-migration-control=on,kvm-hc-map-gpa-range=on", {}, [
    kvmMigrationControl,
    kvmHcMapGpaRange,
  ]);
  vm.setMsr(0, MSR, 0n); // say the VMM starts an encrypted guest at 0
  vm.run([
    function* (cpu) {
      assertEquals(cpu.wrmsr(MSR, 1n).kind, "ok"); // setup: wrmsrl(MIGRATION_CONTROL, READY)
      yield { kind: "barrier", id: "booted" };
    },
    function* (cpu) {
      yield { kind: "barrier", id: "booted" };
      assertEquals(cpu.wrmsr(MSR, 0n).kind, "ok"); // kvm_guest_cpu_offline
    },
  ]);
  assertEquals(vm.getMsr(0, MSR), 0n);
  assertEquals(vm.composed.warnings, []);
});
