// The Linux guest-decision table: for a grid of KVM CPUID bits, hints, vCPU counts, MWAIT,
// x2APIC and kernel command-line switches, KvmGuest must decide what Linux 6.1's functions
// decide, print the lines they print and write the MSRs they write on the boot CPU.
//
// The reference below is written from Linux's source on its own (it shares no code with the
// package): each rule names the function it comes from.

import { assertEquals } from "@std/assert";
import { ArrayGuestMemory } from "@pvkit/machine";
import { KvmGuest, type KvmGuestConfig } from "./kvm_guest.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";

// include/uapi/linux/kvm_para.h and arch/x86/include/uapi/asm/kvm_para.h.
const CLOCKSOURCE = 0, NOP_IO_DELAY = 1, CLOCKSOURCE2 = 3, STEAL_TIME = 5, PV_EOI = 6;
const PV_UNHALT = 7, PV_TLB_FLUSH = 9, ASYNC_PF_VMEXIT = 10, PV_SEND_IPI = 11;
const POLL_CONTROL = 12, PV_SCHED_YIELD = 13, ASYNC_PF_INT = 14, MSI_EXT_DEST_ID = 15;
const STABLE_BIT = 24, HINTS_REALTIME = 0;
const GRID_BITS = [
  CLOCKSOURCE,
  NOP_IO_DELAY,
  CLOCKSOURCE2,
  STEAL_TIME,
  PV_EOI,
  PV_UNHALT,
  PV_TLB_FLUSH,
  ASYNC_PF_VMEXIT,
  PV_SEND_IPI,
  POLL_CONTROL,
  PV_SCHED_YIELD,
  ASYNC_PF_INT,
  MSI_EXT_DEST_ID,
  STABLE_BIT,
];

interface Row {
  features: number;
  realtime: boolean;
  onKvm: boolean;
  cpus: number;
  mwait: boolean;
  x2apic: boolean;
  x2apicByFirmware: boolean;
  interruptRemapping: boolean;
  nopv: boolean;
  nopvspin: boolean;
  noKvmclock: boolean;
  noKvmapf: boolean;
  noStealAcc: boolean;
  haltpollForce: boolean;
  idleOverride: boolean;
  nox2apic: boolean;
}

interface Expected {
  used: Record<string, boolean>;
  log: string[];
  msrs: number[];
}

/** What Linux 6.1 does for one row. */
function linux(r: Row): Expected {
  const has = (b: number) => r.onKvm && ((r.features >>> b) & 1) === 1;
  const realtime = r.onKvm && r.realtime;
  // hypervisor.c detect_hypervisor_vendor: nopv skips KVM (no ignore_nopv), so none of
  // x86_hyper_kvm's init hooks run; kvm_para_available() still answers from CPUID.
  const platform = r.onKvm && !r.nopv;
  // kvmclock.c kvmclock_init: !kvm_para_available() || !kvmclock → return; bit 3, else bit 0.
  const kvmclock = platform && !r.noKvmclock && (has(CLOCKSOURCE2) || has(CLOCKSOURCE));
  const [sysMsr, wallMsr] = has(CLOCKSOURCE2) ? [0x4b564d01, 0x4b564d00] : [0x12, 0x11];
  // kvm.c kvm_guest_init: steal time, PV EOI, async PF (bit 14 && kvmapf).
  const steal = platform && has(STEAL_TIME);
  const pvEoi = platform && has(PV_EOI);
  const asyncPf = platform && has(ASYNC_PF_INT) && !r.noKvmapf;
  // kvm.c pv_tlb_flush_supported / pv_sched_yield_supported.
  const preemptionAware = (bit: number) =>
    platform && has(bit) && !realtime && has(STEAL_TIME) && !r.mwait && r.cpus !== 1;
  const tlb = preemptionAware(PV_TLB_FLUSH);
  const schedYield = preemptionAware(PV_SCHED_YIELD);
  // kvm.c pv_ipi_supported (kvm_apic_init, installed by kvm_init_platform).
  const ipi = platform && has(PV_SEND_IPI) && r.cpus !== 1;
  // kvm.c kvm_spinlock_init (kvm_smp_prepare_boot_cpu), checks in this order.
  const spin = !platform
    ? undefined
    : !has(PV_UNHALT)
    ? "PV spinlocks disabled, no host support"
    : realtime
    ? "PV spinlocks disabled with KVM_HINTS_REALTIME hints"
    : r.cpus === 1
    ? "PV spinlocks disabled, single CPU"
    : r.nopvspin
    ? 'PV spinlocks disabled, forced by "nopvspin" parameter'
    : "PV spinlocks enabled";
  // cpuidle-haltpoll.c haltpoll_init: idle= → -ENODEV; kvm_para_available() && haltpoll_want().
  const haltpollLoaded = !r.idleOverride && r.onKvm && (realtime || r.haltpollForce);
  // kvm.c arch_haltpoll_enable: poll control only with bit 12.
  const haltpoll = haltpollLoaded && has(POLL_CONTROL);
  // apic.c setup_nox2apic (boot APIC ID 0 < 255), check_x2apic, try_to_enable_x2apic.
  const nox2apicUndo = r.nox2apic && r.x2apicByFirmware;
  const firmwareOn = r.x2apicByFirmware && !r.nox2apic;
  const disabled = !firmwareOn && (r.nox2apic || !r.x2apic);
  const x2apicAvailable = platform; // kvm.c .init.x2apic_available = kvm_para_available
  const needsHypervisor = !disabled && !r.interruptRemapping;
  const msiExt = needsHypervisor && x2apicAvailable && has(MSI_EXT_DEST_ID);

  const log: string[] = [];
  if (nox2apicUndo) log.push("x2apic already enabled.", "x2apic disabled");
  if (platform) log.push("Hypervisor detected: KVM");
  if (kvmclock) {
    log.push(`kvm-clock: Using msrs ${sysMsr.toString(16)} and ${wallMsr.toString(16)}`);
  }
  if (firmwareOn) log.push("x2apic: enabled by BIOS, switching to x2apic ops");
  if (tlb) log.push("kvm-guest: KVM setup pv remote TLB flush");
  if (schedYield) log.push("kvm-guest: setup PV sched yield");
  if (spin) log.push(`kvm-guest: ${spin}`);
  if (needsHypervisor && !x2apicAvailable) {
    log.push("x2apic: IRQ remapping doesn't support X2APIC mode");
    if (firmwareOn) log.push("x2apic disabled");
  } else if (!disabled && !firmwareOn) {
    log.push("x2apic enabled");
  }
  if (ipi) log.push("kvm-guest: setup PV IPIs");
  if (kvmclock) log.push("clocksource: Switched to clocksource kvm-clock");
  if (haltpollLoaded && !has(POLL_CONTROL)) {
    log.push(
      "kvm-guest: host does not support poll control",
      "kvm-guest: host upgrade recommended",
    );
  }

  // The boot CPU's WRMSRs: kvm_register_clock; kvm_guest_cpu_init (async PF INT then EN, PV
  // EOI, steal time); kvm_get_wallclock; arch_haltpoll_enable.
  const msrs: number[] = [];
  if (kvmclock) msrs.push(sysMsr);
  if (asyncPf) msrs.push(0x4b564d06, 0x4b564d02);
  if (pvEoi) msrs.push(0x4b564d04);
  if (steal) msrs.push(0x4b564d03);
  if (kvmclock) msrs.push(wallMsr);
  if (haltpoll) msrs.push(0x4b564d05);

  return {
    used: {
      "kvmclock": kvmclock,
      "kvmclock-stable-bit": kvmclock && has(STABLE_BIT), // pvclock_set_flags
      "nop-io-delay": platform && has(NOP_IO_DELAY), // paravirt_ops_setup
      "steal-time": steal,
      "pv-eoi": pvEoi,
      "async-pf": asyncPf,
      "pv-tlb-flush": tlb,
      "pv-sched-yield": schedYield,
      "pv-ipi": ipi,
      "pv-spinlock": spin === "PV spinlocks enabled",
      "haltpoll": haltpoll,
      "msi-ext-dest-id": msiExt,
    },
    log,
    msrs,
  };
}

/** What KvmGuest does for the same row. */
function model(r: Row): Expected {
  const ecx1 = (r.onKvm ? 1 << 31 : 0) | (r.mwait ? 1 << 3 : 0) | (r.x2apic ? 1 << 21 : 0);
  const cpu = new ScriptedGuestCpu({
    memory: new ArrayGuestMemory(0x1000 + 64 + 256 * r.cpus + 0x1000),
    cpuid: new Map([
      [1, { eax: 0, ebx: 0, ecx: ecx1 >>> 0, edx: 0 }],
      [0x40000000, { eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d }],
      [0x40000001, {
        eax: r.features >>> 0,
        ebx: 0,
        ecx: 0,
        edx: r.realtime ? 1 << HINTS_REALTIME : 0,
      }],
    ]),
  });
  const config: KvmGuestConfig = {
    possibleCpus: r.cpus,
    x2apicEnabledByFirmware: r.x2apicByFirmware,
    interruptRemapping: r.interruptRemapping,
    nopv: r.nopv,
    nopvspin: r.nopvspin,
    noKvmclock: r.noKvmclock,
    noKvmapf: r.noKvmapf,
    noStealAcc: r.noStealAcc,
    haltpollForce: r.haltpollForce,
    idleOverride: r.idleOverride,
    nox2apic: r.nox2apic,
  };
  const guest = new KvmGuest(config);
  const decisions = guest.boot(cpu);
  return {
    used: Object.fromEntries(decisions.map((d) => [d.feature, d.used])),
    log: guest.kernelLog,
    msrs: cpu.msrWrites.map((w) => w.msr),
  };
}

/** A small deterministic PRNG (xorshift32), so the grid is the same on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const SWITCHES = [
  "nopv",
  "nopvspin",
  "noKvmclock",
  "noKvmapf",
  "noStealAcc",
  "haltpollForce",
  "idleOverride",
  "nox2apic",
] as const;
const CPU_COUNTS = [1, 2, 4, 64, 300];

function rows(): Row[] {
  const out: Row[] = [];
  const base = (features: number): Row => ({
    features,
    realtime: false,
    onKvm: true,
    cpus: 2,
    mwait: false,
    x2apic: true,
    x2apicByFirmware: false,
    interruptRemapping: false,
    nopv: false,
    nopvspin: false,
    noKvmclock: false,
    noKvmapf: false,
    noStealAcc: false,
    haltpollForce: false,
    idleOverride: false,
    nox2apic: false,
  });
  const everything = GRID_BITS.reduce((a, b) => a | (1 << b), 0) >>> 0;
  // Every combination of the eight command-line switches, on every vCPU count, with every
  // grid bit on and with KVM's own supported set (0x01007efb), REALTIME off and on.
  for (const features of [everything, 0x01007efb]) {
    for (const realtime of [false, true]) {
      for (let mask = 0; mask < 1 << SWITCHES.length; mask++) {
        const r = base(features);
        r.realtime = realtime;
        r.cpus = CPU_COUNTS[mask % CPU_COUNTS.length];
        SWITCHES.forEach((s, i) => (r[s] = ((mask >> i) & 1) === 1));
        out.push(r);
      }
    }
  }
  // Random rows over every input, switches included.
  const next = prng(0x9e3779b9);
  for (let i = 0; i < 1500; i++) {
    let features = 0;
    for (const b of GRID_BITS) if (next() & 1) features |= 1 << b;
    const flags = next();
    const r = base(features >>> 0);
    r.realtime = (flags & 1) !== 0;
    r.onKvm = (flags & 0x1e) !== 0; // 1 in 16 rows are not on KVM
    r.cpus = CPU_COUNTS[(flags >>> 5) % CPU_COUNTS.length];
    r.mwait = (flags & (1 << 8)) !== 0;
    r.x2apic = (flags & (1 << 9)) !== 0;
    r.x2apicByFirmware = r.x2apic && (flags & (3 << 10)) === 0;
    r.interruptRemapping = (flags & (7 << 12)) === 0;
    const sw = next();
    SWITCHES.forEach((s, k) => (r[s] = ((sw >>> (3 * k)) & 7) === 0)); // each on 1 in 8
    out.push(r);
  }
  return out;
}

Deno.test("Linux 6.1 decision table: KvmGuest decides, logs and writes what the kernel does", () => {
  const grid = rows();
  let withSwitches = 0;
  for (const r of grid) {
    if (SWITCHES.some((s) => r[s])) withSwitches++;
    const want = linux(r);
    const got = model(r);
    assertEquals(got, want, JSON.stringify(r));
  }
  // The bar: at least 1000 configurations, command-line switches included.
  assertEquals(grid.length >= 1000 && withSwitches >= 1000, true, `${grid.length}/${withSwitches}`);
});

Deno.test("decision table: the reference is not vacuous (every feature is both used and unused)", () => {
  const seen = new Map<string, Set<boolean>>();
  for (const r of rows()) {
    for (const [f, used] of Object.entries(linux(r).used)) {
      seen.set(f, (seen.get(f) ?? new Set()).add(used));
    }
  }
  for (const [f, values] of seen) assertEquals(values.size, 2, f);
});
