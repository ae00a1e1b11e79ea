import { assertEquals, assertThrows } from "@std/assert";
import { KVM_FEATURE_STEAL_TIME, MSR_KVM_POLL_CONTROL, MSR_KVM_STEAL_TIME } from "@pvkit/abi";
import { compose } from "@pvkit/pvkit";
import { EmuMachine, kvmFeaturesWithout, readMsrAs, writeMsrAs } from "./mod.ts";

const composed = () => compose({ cpu: "host", machine: "q35", host: "linux-6.12", smp: 2 });

Deno.test("writeMsrAs/readMsrAs: guest and host see one MSR, per vCPU", () => {
  const vm = EmuMachine.create(composed());
  assertEquals(writeMsrAs(vm, "guest", MSR_KVM_STEAL_TIME, 0x5001n, 1), "ok");
  assertEquals(readMsrAs(vm, "host", MSR_KVM_STEAL_TIME, 1), 0x5001n);
  assertEquals(readMsrAs(vm, "guest", MSR_KVM_STEAL_TIME, 0), 0n);
  // KVM_STEAL_RESERVED_MASK = 0x3e (spec/kvm-pv-abi.md, STEAL_TIME row)
  assertEquals(writeMsrAs(vm, "guest", MSR_KVM_STEAL_TIME, 0x5002n), "gp");
  assertEquals(writeMsrAs(vm, "host", MSR_KVM_POLL_CONTROL, 2n), "gp"); // b63:1 ≠ 0
  assertEquals(readMsrAs(vm, "guest", MSR_KVM_POLL_CONTROL), 1n); // default 1
});

Deno.test("kvmFeaturesWithout clears only the named bits; with enforcement the MSR #GPs", () => {
  const c = composed();
  const full = Number(c.leaves["0x40000001"].eax);
  const o = kvmFeaturesWithout(c, KVM_FEATURE_STEAL_TIME);
  assertEquals(o.leaf, 0x40000001);
  assertEquals(o.eax, (full & ~(1 << KVM_FEATURE_STEAL_TIME)) >>> 0);
  const vm = EmuMachine.create(c, { enforcePvCpuid: true, cpuid: [o] });
  assertEquals(writeMsrAs(vm, "guest", MSR_KVM_STEAL_TIME, 0n), "gp");
  assertEquals(writeMsrAs(vm, "guest", MSR_KVM_POLL_CONTROL, 0n), "ok");
  assertThrows(() => kvmFeaturesWithout(c, 32), RangeError, "0 to 31");
});
