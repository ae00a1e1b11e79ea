// Console fixtures for the report tests: what a Debian 6.1 guest (6.1.0-57-amd64) prints on
// pvkit's VMM through the /init of boot_init.ts, in Linux 6.1's words (arch/x86/kernel/kvm.c,
// kvmclock.c, apic/apic.c, smpboot.c, kernel/time/clocksource.c). Not exported from mod.ts.

import type { MsrWrite } from "./pv_report.ts";

/** CPUID 0x40000001 EAX as KVM reports it (bits 0,1,3-7,9-14,24), and as QEMU's default. */
export const KVM_DEFAULT_EAX = 0x01007efb;
/** CPUID 1 ECX: hypervisor (31) and x2APIC (21). */
export const LEAF1_ECX = (1 << 31) | (1 << 21);

/** What one fixture boot printed. */
export interface ConsoleFixture {
  dmesg: string[];
  cpuidle?: string;
  clocksource?: string;
  online?: string;
  cmdline?: string;
  stat?: string[];
  statAfterLoad?: string[];
  /** Stop after the init line with this panic (no block). */
  panic?: string;
}

const CMDLINE = "console=ttyS0 reboot=k panic=-1";

/** The kernel's early lines, the same with or without KVM. */
function early(cmdline: string): string[] {
  return [
    "Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (2025-11-09)",
    `Command line: ${cmdline}`,
  ];
}

function smp(cpus: number): string[] {
  return [
    `smpboot: Allowing ${cpus} CPUs, 0 hotplug CPUs`,
    "smpboot: CPU0: AMD EPYC Processor (family: 0x17, model: 0x1, stepping: 0x2)",
    "smp: Bringing up secondary CPUs ...",
    `smp: Brought up 1 node, ${cpus} CPU${cpus > 1 ? "s" : ""}`,
    "smpboot: Max logical packages: 1",
    `smpboot: Total of ${cpus} processors activated (${(4192.12 * cpus).toFixed(2)} BogoMIPS)`,
  ];
}

/**
 * The dmesg of a KVM guest. `lines` picks the kvm-guest lines; the rest is what every KVM boot
 * prints.
 */
export function kvmDmesg(options: {
  cpus: number;
  cmdline?: string;
  tlbFlush?: boolean;
  schedYield?: boolean;
  spinlocks?: string;
  pvIpi?: boolean;
  x2apic?: boolean;
}): string[] {
  const cmdline = options.cmdline ?? CMDLINE;
  return [
    ...early(cmdline),
    "Hypervisor detected: KVM",
    "kvm-clock: Using msrs 4b564d01 and 4b564d00",
    "kvm-clock: using sched offset of 1830281810 cycles",
    "clocksource: kvm-clock: mask: 0xffffffffffffffff max_cycles: 0x1cd42e4dffb, max_idle_ns: 881590591483 ns",
    "tsc: Detected 2096.060 MHz processor",
    `smpboot: Allowing ${options.cpus} CPUs, 0 hotplug CPUs`,
    ...(options.tlbFlush ?? true ? ["kvm-guest: KVM setup pv remote TLB flush"] : []),
    ...(options.schedYield ?? true ? ["kvm-guest: setup PV sched yield"] : []),
    `Kernel command line: ${cmdline}`,
    `kvm-guest: ${options.spinlocks ?? "PV spinlocks enabled"}`,
    ...(options.x2apic ?? true
      ? ["x2apic enabled", "Switched APIC routing to physical x2apic."]
      : []),
    ...(options.pvIpi ?? true ? ["kvm-guest: setup PV IPIs"] : []),
    ...smp(options.cpus).slice(1),
    "clocksource: jiffies: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 7645041785100000 ns",
    "cpuidle: using governor ladder",
    "cpuidle: using governor menu",
    "clocksource: Switched to clocksource kvm-clock",
  ];
}

/** The dmesg of a guest that sees no KVM leaves (kvm=off): TSC calibration, no PV lines. */
export function noKvmDmesg(cpus: number): string[] {
  return [
    ...early(CMDLINE),
    "tsc: Detected 2096.060 MHz processor",
    "clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x1e36e2a3e4b, max_idle_ns: 440795315512 ns",
    `Kernel command line: ${CMDLINE}`,
    "x2apic: IRQ remapping doesn't support X2APIC mode",
    ...smp(cpus),
    "cpuidle: using governor ladder",
    "cpuidle: using governor menu",
    "clocksource: Switched to clocksource tsc-early",
    "clocksource: Switched to clocksource tsc",
  ];
}

/** The console text of a fixture boot, with the kernel's own console lines interleaved. */
export function consoleText(f: ConsoleFixture): string {
  const out = [
    "[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)",
    "[    0.612345] Run /init as init process",
    "pvkit-boot: init 0.63",
  ];
  if (f.panic !== undefined) {
    out.push(
      "pvkit-boot: test panic",
      "[    0.701234] sysrq: Trigger a crash",
      `[    0.701240] Kernel panic - not syncing: ${f.panic}`,
      "[    0.701400] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0-57-amd64 #1  Debian 6.1.158-1",
      `[    0.702000] ---[ end Kernel panic - not syncing: ${f.panic} ]---`,
    );
    return out.join("\r\n") + "\r\n";
  }
  out.push("pvkit-report: begin");
  for (const l of f.dmesg) out.push(`pvkit-report: dmesg ${l}`);
  for (
    const l of f.stat ??
      [
        "cpu  40 0 90 500 2 0 3 0 0 0",
        "cpu0 20 0 50 240 1 0 2 0 0 0",
        "cpu1 20 0 40 260 1 0 1 0 0 0",
      ]
  ) {
    out.push(`pvkit-report: stat ${l}`);
  }
  out.push(
    `pvkit-report: cpuidle ${f.cpuidle ?? "none"}`,
    `pvkit-report: clocksource ${f.clocksource ?? "kvm-clock"}`,
    `pvkit-report: online ${f.online ?? "0-1"}`,
    `pvkit-report: possible ${f.online ?? "0-1"}`,
    `pvkit-report: nproc ${f.online === "0" ? 1 : 2}`,
    `pvkit-report: cmdline ${f.cmdline ?? CMDLINE}`,
    "pvkit-report: end 0.71",
    "pvkit-boot: load 1",
  );
  for (const l of f.statAfterLoad ?? []) out.push(`pvkit-report: stat-after-load ${l}`);
  out.push("pvkit-boot: reboot 1.74", "[    1.745001] reboot: Restarting system");
  return out.join("\r\n") + "\r\n";
}

/** The PV MSR writes Linux 6.1 makes on one vCPU with every KVM feature, at `base` + 0x40 per vCPU. */
export function allFeatureWrites(
  vcpu: number,
  options: { pollControl?: boolean } = {},
): MsrWrite[] {
  const at = (off: number) => BigInt(0x3ffd3000 + vcpu * 0x1000 + off);
  return [
    { msr: 0x4b564d01, value: at(0) | 1n }, // kvm_register_clock
    ...(vcpu === 0 ? [{ msr: 0x4b564d00, value: 0x3ffd2000n }] : []), // kvm_get_wallclock
    { msr: 0x4b564d06, value: 0xf3n }, // ASYNC_PF_INT = HYPERVISOR_CALLBACK_VECTOR
    { msr: 0x4b564d02, value: at(0x40) | 0x9n }, // ASYNC_PF_EN: ENABLED | DELIVERY_AS_INT
    { msr: 0x4b564d04, value: at(0x80) | 1n }, // PV_EOI_EN
    { msr: 0x4b564d03, value: at(0xc0) | 1n }, // STEAL_TIME
    ...(options.pollControl ? [{ msr: 0x4b564d05, value: 0n }] : []), // arch_haltpoll_enable
    // kvm_pv_guest_cpu_reboot → kvm_guest_cpu_offline(true) at reboot
    { msr: 0x4b564d03, value: 0n },
    { msr: 0x4b564d04, value: 0n },
    { msr: 0x4b564d02, value: 0n },
    { msr: 0x4b564d01, value: 0n },
  ];
}
