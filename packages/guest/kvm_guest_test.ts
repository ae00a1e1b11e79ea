import { assertEquals, assertThrows } from "@std/assert";
import { publishPvclockVcpuTimeInfo } from "@pvkit/abi";
import { ArrayGuestMemory, PvkitError } from "@pvkit/machine";
import { KvmGuest, type KvmGuestConfig } from "./kvm_guest.ts";
import type { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, fakeCpu, type FakeCpuOptions, KVM_SUPPORTED_FEATURES } from "./_fake_cpu.ts";

function machine(
  n: number,
  config: Partial<KvmGuestConfig> = {},
  cpuOptions: FakeCpuOptions = {},
): { guest: KvmGuest; cpus: ScriptedGuestCpu[] } {
  const memory = new ArrayGuestMemory(0x10000);
  const cpus = Array.from({ length: n }, (_, i) => fakeCpu({ ...cpuOptions, index: i, memory }));
  const guest = new KvmGuest({ possibleCpus: n, ...config });
  guest.boot(cpus[0]);
  for (const c of cpus.slice(1)) guest.onlineCpu(c);
  return { guest, cpus };
}

Deno.test("KvmGuest.boot: the boot CPU's MSR writes, in Linux's order, with exact values", () => {
  const { guest, cpus } = machine(2);
  const a = guest.layout(0);
  assertEquals(a, { pvclock: 0x1040n, stealTime: 0x1080n, asyncPf: 0x10c0n, pvEoi: 0x1100n });
  assertEquals(cpus[0].msrWrites, [
    { msr: 0x4b564d01, value: a.pvclock | 1n }, // kvmclock_init
    { msr: 0x4b564d06, value: 0xf3n }, // kvm_guest_cpu_init: async PF vector
    { msr: 0x4b564d02, value: a.asyncPf | 0b1101n }, // ENABLED | AS_PF_VMEXIT | AS_INT
    { msr: 0x4b564d04, value: a.pvEoi | 1n },
    { msr: 0x4b564d03, value: a.stealTime | 1n },
    { msr: 0x4b564d00, value: guest.wallClockGpa }, // timekeeping_init → kvm_get_wallclock
  ]);
  const b = guest.layout(1);
  assertEquals(cpus[1].msrWrites.map((w) => w.value), [
    b.pvclock | 1n,
    0xf3n,
    b.asyncPf | 0b1101n,
    b.pvEoi | 1n,
    b.stealTime | 1n,
  ]);
  assertEquals(guest.warnings, []);
});

Deno.test("KvmGuest.decisions: what KVM supports, 2 CPUs", () => {
  const { guest } = machine(2);
  assertEquals(guest.decisions.map((d) => [d.feature, d.used]), [
    ["kvmclock", true],
    ["kvmclock-stable-bit", true],
    ["nop-io-delay", true],
    ["steal-time", true],
    ["pv-eoi", true],
    ["async-pf", true],
    ["pv-tlb-flush", true],
    ["pv-sched-yield", true],
    ["pv-ipi", true],
    ["pv-spinlock", true],
    ["haltpoll", false],
    ["msi-ext-dest-id", false],
  ]);
  assertEquals(
    guest.decision("kvmclock")?.reason,
    "using MSRs 0x4b564d01 and 0x4b564d00 (KVM_FEATURE_CLOCKSOURCE2)",
  );
});

Deno.test("KvmGuest: REALTIME + bit 12 + MWAIT: no PV spinlock/TLB flush/yield, haltpoll on", () => {
  const { guest, cpus } = machine(2, {}, {
    features: KVM_SUPPORTED_FEATURES | bits(15),
    hints: 1,
    mwait: true,
    x2apic: true,
  });
  assertEquals(guest.uses("pv-spinlock"), false);
  assertEquals(
    guest.decision("pv-spinlock")?.reason,
    "PV spinlocks disabled with KVM_HINTS_REALTIME hints",
  );
  assertEquals(guest.uses("pv-tlb-flush"), false);
  assertEquals(guest.uses("pv-sched-yield"), false);
  assertEquals(guest.uses("pv-ipi"), true);
  assertEquals(guest.uses("haltpoll"), true);
  assertEquals(guest.uses("msi-ext-dest-id"), true);
  // haltpoll's online callback comes after kvm_guest_cpu_init.
  assertEquals(cpus[1].msrWrites.at(-1), { msr: 0x4b564d05, value: 0n });
});

Deno.test("KvmGuest: boot parameters nopvspin, no-kvmclock, no-kvmapf, no-steal-acc", () => {
  const { guest, cpus } = machine(2, {
    nopvspin: true,
    noKvmclock: true,
    noKvmapf: true,
    noStealAcc: true,
  });
  assertEquals(
    guest.decision("pv-spinlock")?.reason,
    'PV spinlocks disabled, forced by "nopvspin" parameter',
  );
  assertEquals(guest.uses("kvmclock"), false);
  assertEquals(guest.uses("kvmclock-stable-bit"), false);
  assertEquals(guest.uses("async-pf"), false);
  assertEquals(guest.uses("steal-time"), true); // only runqueue accounting is off
  assertEquals(cpus[0].msrWrites.map((w) => w.msr), [0x4b564d04, 0x4b564d03]);
  assertEquals(guest.kick(cpus[0], 1), undefined);
});

Deno.test("KvmGuest: old host with CLOCKSOURCE only uses 0x12, and never trusts STABLE", () => {
  const { guest, cpus } = machine(1, {}, { features: bits(0, 1) });
  // kvm_register_clock, then kvm_get_wallclock on the old wall-clock MSR 0x11.
  assertEquals(cpus[0].msrWrites, [{ msr: 0x12, value: 0x1041n }, { msr: 0x11, value: 0x1000n }]);
  assertEquals(guest.decision("kvmclock-stable-bit")?.used, false);
  assertEquals(guest.decision("pv-ipi")?.reason, "no KVM_FEATURE_PV_SEND_IPI (bit 11)");
});

Deno.test("KvmGuest.offline: STEAL, PV_EOI, MIGRATION_CONTROL (bit 17), ASYNC_PF_EN, kvmclock", () => {
  const { guest, cpus } = machine(2, {}, {
    features: KVM_SUPPORTED_FEATURES | bits(17),
    gpMsrs: [0x4b564d08],
  });
  cpus[1].clearLog();
  guest.offline(cpus[1]);
  assertEquals(
    cpus[1].log.flatMap((e) => e.kind === "wrmsr" ? [[e.msr, e.value, e.faulted]] : []),
    [
      [0x4b564d03, 0n, false],
      [0x4b564d04, 0n, false],
      [0x4b564d08, 0n, true], // KVM does not emulate it: #GP, fixed up with a warning
      [0x4b564d02, 0n, false],
      [0x4b564d01, 0n, false],
    ],
  );
  assertEquals(guest.warnings.length, 1);
  assertEquals(guest.onlineCpus.has(1), false);
});

Deno.test("KvmGuest.offline without bits 6/17 and without kvmclock writes only what was set up", () => {
  const { guest, cpus } = machine(1, { noKvmclock: true }, { features: bits(5, 14) });
  cpus[0].clearLog();
  guest.offline(cpus[0]);
  assertEquals(cpus[0].msrWrites, [{ msr: 0x4b564d03, value: 0n }, { msr: 0x4b564d02, value: 0n }]);
});

Deno.test("KvmGuest.offline: hotplug wakes this vCPU's async-PF sleepers, shutdown does not", () => {
  for (const shutdown of [false, true]) {
    const { guest, cpus } = machine(1);
    const apf = guest.layout(0).asyncPf;
    cpus[0].memory.writeU32(apf, 1);
    assertEquals(guest.onPageFault(cpus[0], 0x1000).kind, "sleep");
    guest.offline(cpus[0], { shutdown });
    assertEquals(guest.asyncPf.sleepers.length, shutdown ? 1 : 0);
  }
});

Deno.test("KvmGuest.offline: hotplug tears haltpoll down first (WRMSR POLL_CONTROL = 1)", () => {
  const { guest, cpus } = machine(2, { haltpollForce: true });
  cpus[1].clearLog();
  guest.offline(cpus[1]);
  assertEquals(cpus[1].msrWrites[0], { msr: 0x4b564d05, value: 1n });
  cpus[0].clearLog();
  guest.offline(cpus[0], { shutdown: true });
  assertEquals(cpus[0].msrWrites.some((w) => w.msr === 0x4b564d05), false);
});

Deno.test("KvmGuest: not on KVM: no MSR writes, every operation native", () => {
  const { guest, cpus } = machine(2, {}, { hypervisor: false });
  assertEquals(guest.info, undefined);
  assertEquals(guest.decisions.every((d) => !d.used && d.reason === "not running on KVM"), true);
  assertEquals(cpus[0].msrWrites, []);
  assertEquals(guest.eoi(cpus[0]), false);
  guest.ioDelay(cpus[0]);
  assertEquals(guest.sendIpiMask(cpus[0], [1], 0xfd), { via: "native", ipis: 1 });
  assertEquals(guest.flushTlbMulti(cpus[0], [0, 1]).ipis, [1]);
  assertEquals(cpus[0].log.filter((e) => e.kind !== "cpuid").map((e) => e.kind), [
    "eoi",
    "io-delay",
    "ipi",
    "ipi",
  ]);
});

Deno.test("KvmGuest: one possible CPU turns off PV IPI, TLB flush, sched yield and spinlocks", () => {
  const { guest } = machine(1);
  for (const f of ["pv-ipi", "pv-tlb-flush", "pv-sched-yield", "pv-spinlock"] as const) {
    assertEquals(guest.uses(f), false, f);
  }
});

Deno.test("KvmGuest: PV TLB flush skips the preempted vCPU, the rest goes by SEND_IPI", () => {
  const { guest, cpus } = machine(3);
  cpus[0].memory.writeU8(guest.layout(1).stealTime + 16n, 1); // vCPU 1 preempted
  assertEquals(guest.vcpuIsPreempted(cpus[0], 1), true);
  cpus[0].clearLog();
  const r = guest.flushTlbMulti(cpus[0], [0, 1, 2]);
  assertEquals(r, { ipis: [2], skipped: [1], localFlush: true });
  assertEquals(cpus[0].hypercalls.map((h) => [h.nr, ...h.args]), [[10, 0b1n, 0n, 2n, 0xfcn]]);
  assertEquals(cpus[0].memory.readU8(guest.layout(1).stealTime + 16n), 3);
});

Deno.test("KvmGuest: call-function IPIs then SCHED_YIELD to the busy preempted target", () => {
  const { guest, cpus } = machine(3);
  cpus[0].memory.writeU8(guest.layout(2).stealTime + 16n, 1);
  cpus[0].clearLog();
  const r = guest.sendCallFunctionIpi(cpus[0], [1, 2]);
  assertEquals(r.yieldedTo, 2);
  assertEquals(cpus[0].hypercalls.map((h) => h.nr), [10, 11]);
});

Deno.test("KvmGuest: the async-PF interrupt's EOI goes through PV EOI", () => {
  const { guest, cpus } = machine(1);
  const cpu = cpus[0];
  const areas = guest.layout(0);
  cpu.memory.writeU8(areas.pvEoi, 1); // the host armed PV EOI
  cpu.memory.writeU32(areas.asyncPf + 4n, 0xffffffff);
  cpu.clearLog();
  guest.onPageReadyInterrupt(cpu);
  assertEquals(cpu.eoiCount, 0);
  assertEquals(guest.pvEoi.fastPathEois, 1);
  assertEquals(cpu.msrWrites, [{ msr: 0x4b564d07, value: 1n }]);
});

Deno.test("KvmGuest: kick, wait, I/O delay and the clock use the chosen paths", () => {
  const { guest, cpus } = machine(2);
  cpus[0].clearLog();
  guest.ioDelay(cpus[0]); // NOP_IO_DELAY: nothing
  assertEquals(guest.kick(cpus[0], 1), 0n);
  assertEquals(cpus[0].hypercalls[0].args.slice(0, 2), [0n, 1n]);
  cpus[0].memory.writeU8(0x8000n, 1);
  assertEquals(guest.wait(cpus[1], 0x8000n, 1).next().value, { kind: "hlt" });
  publishPvclockVcpuTimeInfo(cpus[1].memory, guest.layout(1).pvclock, {
    tscTimestamp: 0n,
    systemTime: 123n,
    tscToSystemMul: 0x80000000,
    tscShift: 1,
    flags: 0,
  });
  assertEquals(guest.clockRead(cpus[1]), 123n);
  assertEquals(cpus[0].log.some((e) => e.kind === "io-delay"), false);
});

Deno.test("KvmGuest: sendIpiMaskAllButSelf leaves the sender out", () => {
  const { guest, cpus } = machine(3);
  const r = guest.sendIpiMaskAllButSelf(cpus[1], [0, 1, 2], 0xfd);
  assertEquals(r.via === "hypercall" && r.result.calls.map((c) => c.low), [0b101n]);
});

Deno.test("KvmGuest.suspend/resume: offline, save polling; re-register clock, init, restore", () => {
  const { guest, cpus } = machine(1, { haltpollForce: true }, { features: KVM_SUPPORTED_FEATURES });
  const cpu = cpus[0];
  cpu.clearLog();
  guest.suspend(cpu);
  assertEquals(cpu.msrWrites.map((w) => w.msr), [0x4b564d03, 0x4b564d04, 0x4b564d02, 0x4b564d01]);
  assertEquals(cpu.log.at(-1), { kind: "rdmsr", msr: 0x4b564d05, faulted: false });
  cpu.clearLog();
  guest.resume(cpu);
  assertEquals(cpu.msrWrites.map((w) => w.msr), [
    0x4b564d01,
    0x4b564d06,
    0x4b564d02,
    0x4b564d04,
    0x4b564d03,
    0x4b564d05, // guest polling was on (MSR 0): host polling stays off
  ]);
});

Deno.test("KvmGuest: a 32-bit guest zeroes a 4-byte PV EOI word and uses 64-wide IPI windows", () => {
  const { guest, cpus } = machine(2, {}, { longMode: false });
  const r = guest.sendIpiMask(cpus[0], [1], 0xfd);
  assertEquals(r.via, "hypercall");
  assertEquals(cpus[0].memory.readU32(guest.layout(0).pvEoi), 0);
});

Deno.test("KvmGuest: misuse is reported with codes", () => {
  const g = new KvmGuest({ possibleCpus: 2 });
  assertEquals(assertThrows(() => g.eoi(fakeCpu()), PvkitError).code, "not-booted");
  assertEquals(
    assertThrows(() => new KvmGuest({ possibleCpus: 1, areaBase: 0x1010n }), PvkitError).code,
    "invalid-area-base",
  );
  const small = new KvmGuest({ possibleCpus: 1000 });
  assertEquals(assertThrows(() => small.boot(fakeCpu()), PvkitError).code, "area-out-of-ram");
  const { guest, cpus } = machine(2);
  assertEquals(assertThrows(() => guest.boot(cpus[0]), PvkitError).code, "already-booted");
  assertEquals(assertThrows(() => guest.layout(2), PvkitError).code, "invalid-cpu-index");
  guest.offline(cpus[1]);
  assertEquals(
    assertThrows(() => guest.sendIpiMask(cpus[0], [1], 0xfd), PvkitError).code,
    "cpu-not-online",
  );
});

Deno.test("KvmGuest.kernelLog: Linux 6.1's lines for what KVM supports, in dmesg order", () => {
  // The lines a Debian 6.1 guest printed on KVM (nested-kvm.md), plus the ones around them.
  const { guest } = machine(2, {}, { x2apic: true });
  assertEquals(guest.kernelLog, [
    "Hypervisor detected: KVM", // detect_hypervisor_vendor
    "kvm-clock: Using msrs 4b564d01 and 4b564d00", // kvmclock_init
    "kvm-guest: KVM setup pv remote TLB flush", // kvm_guest_init
    "kvm-guest: setup PV sched yield", // kvm_guest_init
    "kvm-guest: PV spinlocks enabled", // kvm_spinlock_init
    "x2apic enabled", // try_to_enable_x2apic → __x2apic_enable
    "kvm-guest: setup PV IPIs", // kvm_apic_init → kvm_setup_pv_ipi
    "clocksource: Switched to clocksource kvm-clock", // clocksource_select
  ]);
});

Deno.test("KvmGuest.kernelLog: old MSRs, no spinlock support, haltpoll without poll control", () => {
  const { guest } = machine(1, { haltpollForce: true }, { features: bits(0) });
  assertEquals(guest.kernelLog, [
    "Hypervisor detected: KVM",
    "kvm-clock: Using msrs 12 and 11", // %x of MSR_KVM_SYSTEM_TIME / MSR_KVM_WALL_CLOCK
    "kvm-guest: PV spinlocks disabled, no host support", // kvm_spinlock_init
    // No X86_FEATURE_X2APIC: check_x2apic set X2APIC_DISABLED, apic.c prints nothing.
    "clocksource: Switched to clocksource kvm-clock",
    "kvm-guest: host does not support poll control", // arch_haltpoll_enable, pr_err_once
    "kvm-guest: host upgrade recommended",
  ]);
});

Deno.test("KvmGuest.boot writes the wall-clock MSR as timekeeping_init → kvm_get_wallclock does", () => {
  const memory = new ArrayGuestMemory(0x10000);
  const cpu = fakeCpu({ memory });
  const guest = new KvmGuest({ possibleCpus: 1 });
  // Play KVM's kvm_write_wall_clock: fill {version, sec, nsec} during the WRMSR.
  cpu.onWrmsr = (msr, gpa) => {
    if (msr !== 0x4b564d00) return;
    memory.writeU32(gpa, 2);
    memory.writeU32(gpa + 4n, 1_700_000_000);
    memory.writeU32(gpa + 8n, 250);
  };
  guest.boot(cpu);
  const wall = cpu.msrWrites.filter((w) => w.msr === 0x4b564d00);
  assertEquals(wall, [{ msr: 0x4b564d00, value: guest.wallClockGpa }]);
  // pvclock_read_wallclock adds kvmclock (0 here: the record is all zeros).
  assertEquals(guest.bootWallClock, { sec: 1_700_000_000n, nsec: 250 });
  // no-kvmclock: x86_platform.get_wallclock stays the CMOS one, so no MSR write.
  const { guest: g2, cpus } = machine(1, { noKvmclock: true });
  assertEquals(cpus[0].msrWrites.some((w) => w.msr === 0x4b564d00 || w.msr === 0x11), false);
  assertEquals(g2.bootWallClock, undefined);
});

Deno.test("KvmGuest: MSI_EXT_DEST_ID needs x2APIC first (check_x2apic, then try_to_enable_x2apic)", () => {
  const features = KVM_SUPPORTED_FEATURES | bits(15);
  const noX2apic = machine(2, {}, { features }).guest;
  assertEquals(noX2apic.uses("msi-ext-dest-id"), false);
  assertEquals(noX2apic.x2apic.x2apic, false);
  const withX2apic = machine(2, {}, { features, x2apic: true }).guest;
  assertEquals(withX2apic.uses("msi-ext-dest-id"), true);
  assertEquals(withX2apic.x2apic.maxApicId, 32767);
  // The config overrides CPUID, and x2APIC-mode interrupt remapping skips the KVM question.
  assertEquals(machine(2, { x2apic: true }, { features }).guest.uses("msi-ext-dest-id"), true);
  const ir = machine(2, { interruptRemapping: true }, { features, x2apic: true }).guest;
  assertEquals([ir.x2apic.x2apic, ir.uses("msi-ext-dest-id")], [true, false]);
  const nox2apic = machine(2, { nox2apic: true }, { features, x2apic: true }).guest;
  assertEquals(nox2apic.uses("msi-ext-dest-id"), false);
  const fw = machine(2, { x2apicEnabledByFirmware: true }, { features, x2apic: true }).guest;
  assertEquals(fw.kernelLog.includes("x2apic: enabled by BIOS, switching to x2apic ops"), true);
  assertEquals(fw.kernelLog.includes("x2apic enabled"), false);
});

Deno.test("KvmGuest: nopv keeps KVM's platform hooks out; haltpoll still loads (kvm_para_available)", () => {
  const { guest, cpus } = machine(2, { nopv: true, haltpollForce: true }, { x2apic: true });
  assertEquals(guest.info !== undefined, true); // kvm_para_available() is still true
  assertEquals(guest.decisions.filter((d) => d.used).map((d) => d.feature), ["haltpoll"]);
  assertEquals(
    guest.decision("pv-ipi")?.reason,
    "nopv: KVM is not set up as the hypervisor platform",
  );
  // Only arch_haltpoll_enable touches a KVM MSR.
  assertEquals(cpus[0].msrWrites, [{ msr: 0x4b564d05, value: 0n }]);
  // x86_init.hyper.x2apic_available is the default (false): no x2APIC without IR.
  assertEquals(guest.kernelLog, ["x2apic: IRQ remapping doesn't support X2APIC mode"]);
  assertEquals(guest.x2apic.x2apic, false);
  guest.offline(cpus[1]); // kvm_guest_cpu_offline is never hooked up: only haltpoll's write
  assertEquals(cpus[1].msrWrites.slice(-1), [{ msr: 0x4b564d05, value: 1n }]);
});
