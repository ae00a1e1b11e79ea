import { assertEquals, assertThrows } from "@std/assert";
import { MAX_GUEST_TSC_KHZ } from "@pvkit/abi";
import { PvkitError } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { EmuMachine } from "./emu_machine.ts";
import type { EmuVcpu } from "./emu_vcpu.ts";

function machine(smp = 1, options = {}) {
  return EmuMachine.create(
    compose({ cpu: "host", machine: "q35", smp, host: "linux-6.12" }),
    options,
  );
}

/** Runs `fn` on vCPU 0 of a fresh machine and returns what it returned. */
function onVcpu0<T>(fn: (cpu: EmuVcpu) => T, options = {}): T {
  const vm = machine(1, options);
  let out: T | undefined;
  vm.run([function* (cpu) {
    out = fn(cpu);
    yield { kind: "yield" };
  }]);
  return out!;
}

Deno.test("hypercall dispatch: CPL != 0 gets -KVM_EPERM whatever the number (kvm-pv-abi.md §5)", () => {
  const rets = onVcpu0((cpu) => {
    cpu.cpl = 3;
    return [1n, 5n, 10n, 999n].map((nr) => cpu.hypercall(nr));
  });
  assertEquals(rets, [
    0xffffffffffffffffn,
    0xffffffffffffffffn,
    0xffffffffffffffffn,
    0xffffffffffffffffn,
  ]);
});

Deno.test("hypercall dispatch: VAPIC_POLL_IRQ returns 0; unknown numbers -KVM_ENOSYS", () => {
  const rets = onVcpu0((
    cpu,
  ) => [cpu.hypercall(1n), cpu.hypercall(3n), cpu.hypercall(13n), cpu.hypercall(1n << 32n)]);
  const enosys = (1n << 64n) - 1000n;
  assertEquals(rets, [0n, enosys, enosys, enosys]);
});

Deno.test("a 32-bit caller gets a u32 result and 32-bit arguments (-1000 -> 0xfffffc18)", () => {
  const rets = onVcpu0((cpu) => {
    cpu.longMode = false;
    return [cpu.hypercall(0xdead_0000_0000_0003n), cpu.hypercall((1n << 32n) | 1n)];
  });
  assertEquals(rets, [0xfffffc18n, 0n]); // the upper half of RAX is ignored: nr 1 is VAPIC_POLL_IRQ
});

Deno.test("an MSR no plugin handles raises #GP (KVM: unknown MSR)", () => {
  const results = onVcpu0((cpu) => [cpu.rdmsr(0x4b564dff).kind, cpu.wrmsr(0x4b564dff, 0n).kind]);
  assertEquals(results, ["gp", "gp"]);
});

Deno.test("exits are counted by reason, and CPUID serves the composed KVM leaves", () => {
  const vm = machine();
  vm.run([function* (cpu) {
    const sig = cpu.cpuid(0x40000000);
    assertEquals([sig.eax, sig.ebx, sig.ecx, sig.edx], [0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d]);
    assertEquals(cpu.cpuid(0x40000001).eax, 0x01007efb);
    assertEquals((cpu.cpuid(1).ecx >>> 31) & 1, 1); // hypervisor bit
    cpu.rdmsr(0x4b564d01);
    cpu.out(0x80, 1, 0);
    cpu.hypercall(1n);
    yield { kind: "yield" };
  }]);
  const exits = vm.vcpus[0].exits;
  assertEquals([exits.cpuid, exits["msr-read"], exits.io, exits.hypercall], [3, 1, 1, 1]);
});

Deno.test("cpuid overrides and enforcement: an empty KVM leaf makes every PV MSR #GP", () => {
  const kinds = onVcpu0(
    (cpu) => [0x11, 0x12, 0x4b564d00, 0x4b564d01].map((msr) => cpu.rdmsr(msr).kind),
    { enforcePvCpuid: true, cpuid: [{ leaf: 0x40000001, eax: 0 }] },
  );
  assertEquals(kinds, ["gp", "gp", "gp", "gp"]);
});

Deno.test("virtual time: the TSC follows the clock at the configured frequency", () => {
  const [a, b] = onVcpu0((cpu) => {
    const first = cpu.rdtsc();
    cpu.advance(1_000_000n);
    return [first, cpu.rdtsc()];
  }, { tscKhz: 1_000_000 });
  assertEquals(b - a, 1_000_000n + 1n); // 1 ms at 1 GHz, plus the second RDTSC's own 1 ns
});

Deno.test("tscKhz beyond KVM_SET_TSC_KHZ's limit is refused; RDTSC never exceeds 64 bits", () => {
  const composed = compose({ cpu: "host", machine: "q35", smp: 1, host: "linux-6.12" });
  assertThrows(
    () => EmuMachine.create(composed, { tscKhz: 0xffffffff }),
    PvkitError,
    "a guest TSC of 4294967295 kHz is outside what KVM_SET_TSC_KHZ accepts",
  );
  const vm = EmuMachine.create(composed, { tscKhz: MAX_GUEST_TSC_KHZ });
  const tsc = vm.runOn(0, (cpu) => {
    cpu.advance(10n ** 19n);
    return cpu.rdtsc();
  });
  assertEquals(tsc < 2n ** 64n, true);
});
