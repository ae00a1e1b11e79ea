import { assertEquals } from "@std/assert";
import { pvUnhaltState } from "@pvkit/abi";
import type { InterruptRequest } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { APIC_BROADCAST, EmuMachine, type EmuOptions, X2APIC_BROADCAST } from "./mod.ts";

function machine(smp: number, x2apic: boolean, options: EmuOptions = {}): EmuMachine {
  const cpu = x2apic ? "host" : "host,x2apic=off";
  return EmuMachine.create(
    compose({ cpu, machine: "q35,kernel-irqchip=split", smp, host: "linux-6.12" }),
    options,
  );
}

const remoteRead = (destination: number): InterruptRequest => ({
  destination,
  vector: 0,
  deliveryMode: "remote-read",
  level: true,
  levelTriggered: false,
});
const fixed = (destination: number, vector = 0x40): InterruptRequest => ({
  destination,
  vector,
  deliveryMode: "fixed",
  level: true,
  levelTriggered: false,
});
const unhalted = (vm: EmuMachine) => vm.vcpus.map((v) => pvUnhaltState(v).pvUnhalted);

Deno.test("the emulated machine's APICs follow the CPU model's x2apic bit", () => {
  assertEquals(machine(2, false).vcpus.map((v) => v.apic!.x2apic), [false, false]);
  assertEquals(machine(2, true).vcpus.map((v) => v.apic!.x2apic), [true, true]);
});

Deno.test("kvm_apic_is_broadcast_dest: 0xff from the host is a broadcast to every present APIC (xAPIC)", () => {
  const vm = machine(4, false);
  assertEquals(vm.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), 4);
  assertEquals(unhalted(vm), [true, true, true, true]);
  // 0xffffffff is no broadcast with the quirk, and above max_apic_id: nobody.
  const vm2 = machine(4, false);
  assertEquals(vm2.deliverToApic(undefined, remoteRead(X2APIC_BROADCAST)), 0);
  assertEquals(unhalted(vm2), [false, false, false, false]);
});

Deno.test("broadcast quirk: a host 0xff reaches x2APIC-mode APICs too (kvm_apic_mda → X2APIC_BROADCAST)", () => {
  const vm = machine(3, true);
  assertEquals(vm.apicMap.x2apicApi, false);
  assertEquals(vm.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), 3);
  // A native IPI from an x2APIC-mode sender: 0xff is a plain ID, 0xffffffff the broadcast.
  assertEquals(vm.deliverToApic(vm.vcpu(0), fixed(APIC_BROADCAST)), 0);
  assertEquals(vm.deliverToApic(vm.vcpu(0), fixed(X2APIC_BROADCAST)), 3);
  // From an xAPIC-mode sender, 0xff is the broadcast.
  const x = machine(3, false);
  assertEquals(x.deliverToApic(x.vcpu(0), fixed(APIC_BROADCAST)), 3);
});

Deno.test("KVM_CAP_X2APIC_API: 0xffffffff always broadcasts; 0xff only unless every enabled APIC is x2APIC", () => {
  const x2 = machine(3, true, { x2apicApi: true });
  assertEquals(x2.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), 0); // logical_mode X2APIC
  assertEquals(x2.deliverToApic(undefined, remoteRead(X2APIC_BROADCAST)), 3);
  // Every APIC software-disabled: KVM_APIC_MODE_SW_DISABLED, so 0xff is a broadcast again,
  // and x2APIC-mode APICs match only 0xffffffff (no quirk): none accepts it.
  for (const v of x2.vcpus) v.apic!.softwareEnabled = false;
  assertEquals(x2.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), -1);
  const xapic = machine(3, false, { x2apicApi: true });
  assertEquals(xapic.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), 3);
  // xAPIC-mode APICs never match 0xffffffff (kvm_apic_match_physical_addr).
  assertEquals(xapic.deliverToApic(undefined, remoteRead(X2APIC_BROADCAST)), -1);
  // QEMU turns it on for APIC IDs above 254, and so does the emulated backend.
  assertEquals(machine(2, true).apicMap.x2apicApi, false);
  assertEquals(
    EmuMachine.create(compose({ cpu: "host", machine: "q35,kernel-irqchip=split", smp: 300 }))
      .apicMap.x2apicApi,
    true,
  );
});

Deno.test("hardware-disabled APICs are absent (kvm_apic_present); software-disabled ones stay mapped", () => {
  const vm = machine(3, false);
  vm.vcpu(1).apic!.hardwareEnabled = false;
  vm.vcpu(2).apic!.softwareEnabled = false;
  assertEquals(vm.vcpuByApicId(1), undefined);
  assertEquals(vm.vcpuByApicId(2), vm.vcpu(2));
  // The broadcast skips the absent APIC; remote read ignores the software enable.
  assertEquals(vm.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), 2);
  assertEquals(unhalted(vm), [true, false, true]);
  // FIXED needs the software enable (__apic_accept_irq).
  assertEquals(vm.deliverToApic(undefined, fixed(2)), 0);
  assertEquals(vm.deliverToApic(undefined, fixed(0)), 1);
});

Deno.test("no in-kernel LAPIC: no APIC, no map, nothing delivered", () => {
  const vm = EmuMachine.create(
    compose({ cpu: "host", machine: "q35,kernel-irqchip=off", smp: 2, host: "linux-6.12" }),
  );
  assertEquals(vm.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), -1);
  assertEquals(vm.deliverToApic(undefined, remoteRead(1)), 0);
  assertEquals(vm.vcpuByApicId(0), undefined);
});

Deno.test("APIC map: without KVM_SET_LAPIC the last-created vCPU is missing, run or not; broadcasts need no map", () => {
  const vm = machine(3, false, { setLapicOnCreate: false });
  assertEquals(vm.vcpus.map((v) => vm.vcpuByApicId(v.apicId)?.index), [0, 1, undefined]);
  vm.runOn(2, () => {}); // running does not rebuild the map
  assertEquals(vm.vcpuByApicId(2), undefined);
  assertEquals(vm.deliverToApic(undefined, remoteRead(2)), 0); // fast path: phys_map[2] empty
  vm.setLapic(2); // KVM_SET_LAPIC → kvm_apic_set_state → kvm_recalculate_apic_map
  assertEquals(vm.vcpuByApicId(2), vm.vcpu(2));
  // The broadcast's slow path walks every present vCPU, mapped or not.
  assertEquals(vm.deliverToApic(undefined, remoteRead(APIC_BROADCAST)), 3);
  // QEMU's machine reset sets every LAPIC (the default).
  assertEquals(machine(2, false).vcpuByApicId(1)?.index, 1);
});

Deno.test("max_apic_id is never below 255 (kvm_recalculate_apic_map: max_id = 255)", () => {
  assertEquals(machine(2, false).maxApicId, 255);
  const big = EmuMachine.create(
    compose({ cpu: "host", machine: "q35,kernel-irqchip=split", smp: 300 }),
  );
  assertEquals(big.maxApicId, 299);
  // It follows the map: without KVM_SET_LAPIC the last-created vCPU (APIC ID 299) is not in it;
  // its APIC ID counts once it is, and while it is present.
  const lazy = EmuMachine.create(
    compose({ cpu: "host", machine: "q35,kernel-irqchip=split", smp: 300 }),
    { setLapicOnCreate: false },
  );
  assertEquals(lazy.maxApicId, 298);
  lazy.setLapic(299);
  assertEquals(lazy.maxApicId, 299);
  lazy.vcpu(299).apic!.hardwareEnabled = false;
  assertEquals(lazy.maxApicId, 298);
});

Deno.test("apicSoftwareEnabledAtReset: false gives KVM's reset SVR (0xff): FIXED refused, NMI taken", () => {
  // nested-kvm.md: SEND_IPI of a fixed vector to APICs still software-disabled returns 0.
  const vm = machine(2, false, { apicSoftwareEnabledAtReset: false });
  assertEquals(vm.vcpus.map((v) => v.apic!.softwareEnabled), [false, false]);
  assertEquals(vm.deliverToApic(undefined, fixed(1)), 0);
  assertEquals(
    vm.deliverToApic(undefined, { ...fixed(1), deliveryMode: "nmi" }),
    1,
  );
  vm.vcpu(1).apic!.softwareEnabled = true; // the guest's SVR write
  assertEquals(vm.deliverToApic(undefined, fixed(1)), 1);
  vm.resetVcpu(1, "init"); // kvm_lapic_reset writes SVR = 0xff again
  assertEquals(vm.vcpu(1).apic!.softwareEnabled, false);
  // The default keeps the booted-Linux state across resets.
  const booted = machine(1, false);
  booted.vcpu(0).apic!.softwareEnabled = false;
  booted.resetVcpu(0, "reset");
  assertEquals(booted.vcpu(0).apic!.softwareEnabled, true);
});
