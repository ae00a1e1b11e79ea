// The PV-feature report from fixture consoles (Linux 6.1's words) and observed MSR writes:
// rows, the prediction from @pvkit/guest, the kernel-log comparison and the rendering.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  allFeatureWrites,
  consoleText,
  KVM_DEFAULT_EAX,
  kvmDmesg,
  LEAF1_ECX,
  noKvmDmesg,
} from "./_linux_console_fixtures.ts";
import { parseGuestConsole } from "./boot_console.ts";
import { guestSwitchesFromCmdline } from "./kernel_cmdline.ts";
import {
  buildPvReport,
  msrWritesFromSummaries,
  type PvFeatureRow,
  type PvReport,
  type PvTaken,
} from "./pv_report.ts";
import { pvReportJson, renderPvReport } from "./pv_report_text.ts";

type Triple = [offered: boolean, taken: PvTaken, predicted: boolean];

function table(report: PvReport): Record<string, Triple> {
  return Object.fromEntries(report.rows.map((r) => [r.feature, [r.offered, r.taken, r.predicted]]));
}

function row(report: PvReport, feature: PvFeatureRow["feature"]): PvFeatureRow {
  return report.rows.find((r) => r.feature === feature)!;
}

Deno.test("all features on 2 vCPUs: every row taken as predicted, with its evidence", () => {
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: { msrWrites: [allFeatureWrites(0), allFeatureWrites(1)], hypercalls: [31, 17] },
    console: parseGuestConsole(consoleText({
      dmesg: kvmDmesg({ cpus: 2 }),
      statAfterLoad: [
        "cpu  90 0 95 510 2 0 3 12 0 0",
        "cpu0 45 0 50 245 1 0 2 7 0 0",
        "cpu1 45 0 45 265 1 0 1 5 0 0",
      ],
    })),
    cmdline: "console=ttyS0 reboot=k panic=-1",
  });
  assertEquals(table(report), {
    "kvmclock": [true, true, true],
    "kvmclock-stable-bit": [true, true, true],
    "nop-io-delay": [true, true, true],
    "steal-time": [true, true, true],
    "pv-eoi": [true, true, true],
    "async-pf": [true, true, true],
    "pv-tlb-flush": [true, true, true],
    "pv-sched-yield": [true, true, true],
    "pv-ipi": [true, true, true],
    "pv-spinlock": [true, true, true],
    "haltpoll": [true, false, false],
    "msi-ext-dest-id": [false, false, false],
  });
  assert(report.rows.every((r) => r.agree === true));
  assertEquals(row(report, "kvmclock").evidence, [
    "WRMSR MSR_KVM_SYSTEM_TIME_NEW (0x4b564d01) (0x3ffd3001, 0x3ffd4001) on vCPUs 0 and 1",
    "kernel: kvm-clock: Using msrs 4b564d01 and 4b564d00",
    "current clocksource: kvm-clock",
  ]);
  assertEquals(row(report, "steal-time").evidence, [
    "WRMSR MSR_KVM_STEAL_TIME (0x4b564d03) (0x3ffd30c1, 0x3ffd40c1) on vCPUs 0 and 1",
    "/proc/stat steal 12 ticks (cpu0 7, cpu1 5)",
  ]);
  assertEquals(row(report, "pv-ipi").evidence, [
    "kernel: kvm-guest: setup PV IPIs",
    "hypercalls: 48 (vCPU 0 31, vCPU 1 17)",
  ]);
  assertEquals(row(report, "async-pf").evidence, [
    "WRMSR MSR_KVM_ASYNC_PF_EN (0x4b564d02) (0x3ffd3049, 0x3ffd4049) on vCPUs 0 and 1",
    "WRMSR MSR_KVM_ASYNC_PF_INT (0x4b564d06) = 0xf3 on vCPUs 0 and 1",
  ]);
  assertEquals(row(report, "haltpoll").evidence, ["cpuidle driver: none"]);
  assertEquals(report.kernelLog.modelOnly, []);
  assertEquals(report.kernelLog.kernelOnly, []);
  assertEquals(report.kernelLog.model.length, 8);
  assertEquals(report.kernelLinesFrom, "dmesg");
});

Deno.test("kvm=off: nothing offered, nothing taken, no KVM line in either log", () => {
  const report = buildPvReport({
    offered: { leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: { msrWrites: [[], []], hypercalls: [0, 0] },
    console: parseGuestConsole(consoleText({ dmesg: noKvmDmesg(2), clocksource: "tsc" })),
    cmdline: "console=ttyS0 reboot=k panic=-1",
  });
  for (const r of report.rows) {
    assertEquals([r.feature, r.offered, r.taken, r.predicted, r.agree], [
      r.feature,
      false,
      false,
      false,
      true,
    ]);
  }
  assertEquals(row(report, "kvmclock").evidence, [
    "no enabling WRMSR of MSR_KVM_SYSTEM_TIME_NEW (0x4b564d01) or MSR_KVM_SYSTEM_TIME (0x12) on any vCPU",
    "current clocksource: tsc",
  ]);
  assertEquals(row(report, "nop-io-delay").evidence, ["not: KVM is the hypervisor platform"]);
  assertEquals(report.kernelLog.model, ["x2apic: IRQ remapping doesn't support X2APIC mode"]);
  assertEquals(report.kernelLog.modelOnly, []);
  assertEquals(report.kernelLog.kernelOnly, []);
});

Deno.test("PV IPIs off: the row is neither offered nor taken, and agrees", () => {
  const eax = KVM_DEFAULT_EAX & ~(1 << 11);
  const report = buildPvReport({
    offered: { leaf40000001: { eax, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: { msrWrites: [allFeatureWrites(0), allFeatureWrites(1)] },
    console: parseGuestConsole(consoleText({ dmesg: kvmDmesg({ cpus: 2, pvIpi: false }) })),
    cmdline: "console=ttyS0",
  });
  assertEquals(table(report)["pv-ipi"], [false, false, false]);
  assertEquals(row(report, "pv-ipi").evidence, [
    `the kernel log has no "kvm-guest: setup PV IPIs"`,
  ]);
  assertEquals(row(report, "pv-ipi").reason, "no KVM_FEATURE_PV_SEND_IPI (bit 11)");
  assert(report.rows.every((r) => r.agree === true));
});

Deno.test("haltpoll: kvm-hint-dedicated with poll control loads cpuidle-haltpoll, PV spinlocks off", () => {
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 1 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: {
      msrWrites: [
        allFeatureWrites(0, { pollControl: true }),
        allFeatureWrites(1, { pollControl: true }),
      ],
    },
    console: parseGuestConsole(consoleText({
      dmesg: kvmDmesg({
        cpus: 2,
        tlbFlush: false,
        schedYield: false,
        spinlocks: "PV spinlocks disabled with KVM_HINTS_REALTIME hints",
      }),
      cpuidle: "haltpoll",
    })),
    cmdline: "console=ttyS0",
  });
  assertEquals(table(report)["haltpoll"], [true, true, true]);
  assertEquals(table(report)["pv-spinlock"], [true, false, false]);
  assertEquals(table(report)["pv-tlb-flush"], [true, false, false]);
  assertEquals(row(report, "haltpoll").evidence, [
    "cpuidle driver: haltpoll",
    "WRMSR MSR_KVM_POLL_CONTROL (0x4b564d05) = 0x0 on vCPUs 0 and 1",
  ]);
  assertEquals(row(report, "pv-spinlock").evidence, [
    "kernel: kvm-guest: PV spinlocks disabled with KVM_HINTS_REALTIME hints",
  ]);
  assert(report.rows.every((r) => r.agree === true));
  assertEquals(report.kernelLog.kernelOnly, []);
});

Deno.test("haltpoll forced without poll control: the driver loads but the host keeps polling", () => {
  const eax = KVM_DEFAULT_EAX & ~(1 << 12);
  const report = buildPvReport({
    offered: { leaf40000001: { eax, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: { msrWrites: [allFeatureWrites(0), allFeatureWrites(1)] },
    console: parseGuestConsole(consoleText({
      dmesg: [
        ...kvmDmesg({ cpus: 2 }),
        "kvm-guest: host does not support poll control",
        "kvm-guest: host upgrade recommended",
      ],
      cpuidle: "haltpoll",
    })),
    cmdline: "console=ttyS0 cpuidle_haltpoll.force=1",
  });
  assertEquals(table(report)["haltpoll"], [false, false, false]);
  assertEquals(row(report, "haltpoll").reason, "host does not support poll control");
  assertEquals(report.kernelLog.kernelOnly, []);
  assertEquals(report.switches, { haltpollForce: true });
});

Deno.test("a disagreement is shown as NO with the model's reason, and kernel-only lines are listed", () => {
  // Offered PV IPIs on 2 vCPUs, but the kernel did not set them up (a VMM without an in-kernel
  // LAPIC would do this).
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: { msrWrites: [allFeatureWrites(0), allFeatureWrites(1)] },
    console: parseGuestConsole(consoleText({
      dmesg: [...kvmDmesg({ cpus: 2, pvIpi: false }), "kvm-guest: setup async PF for cpu 0"],
    })),
    cmdline: "console=ttyS0",
  });
  const ipi = row(report, "pv-ipi");
  assertEquals([ipi.taken, ipi.predicted, ipi.agree], [false, true, false]);
  assertEquals(report.kernelLog.modelOnly, ["kvm-guest: setup PV IPIs"]);
  assertEquals(report.kernelLog.kernelOnly, ["kvm-guest: setup async PF for cpu 0"]);
  const text = renderPvReport(report, {
    ended: "reboot (i8042 reset)",
    wallToInitSeconds: 4.5,
    exitsByReason: { KVM_EXIT_IO: 5120, KVM_EXIT_MMIO: 12 },
  });
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("pv-ipi "));
  assertEquals(lines[at].split(/\s{2,}/).slice(0, 5), ["pv-ipi", "yes", "no", "yes", "NO"]);
  assertStringIncludes(
    lines[at + 1],
    "model: KVM_FEATURE_PV_SEND_IPI: send_IPI_mask and send_IPI_mask_allbutself use SEND_IPI",
  );
  assertStringIncludes(text, "agree: 11 of 12 features");
  assertStringIncludes(text, "  model only:  kvm-guest: setup PV IPIs");
  assertStringIncludes(text, "  kernel only: kvm-guest: setup async PF for cpu 0");
  assertStringIncludes(text, "guest ended: reboot (i8042 reset)");
  assertStringIncludes(text, "boot time to /init: 0.63 s guest uptime, 4.50 s wall");
  assertStringIncludes(text, "exits by reason: 5132 (KVM_EXIT_IO 5120, KVM_EXIT_MMIO 12)");
  const json = pvReportJson(report);
  assertEquals(json.agreeAll, false);
  assertEquals(Object.keys(json.features[0]), [
    "feature",
    "cpuid",
    "offered",
    "taken",
    "predicted",
    "agree",
    "evidence",
    "reason",
  ]);
  assertEquals(JSON.parse(JSON.stringify(json)).summary.exitsByReason, null);
});

Deno.test("a panic before the block: rows from MSRs alone, log-only rows unknown", () => {
  const console = parseGuestConsole(consoleText({ dmesg: [], panic: "sysrq triggered crash" }));
  assertEquals(console.panic, "sysrq triggered crash");
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: { msrWrites: [allFeatureWrites(0), allFeatureWrites(1)] },
    console,
    cmdline: "console=ttyS0 pvkit.test=panic",
  });
  assertEquals(report.kernelLinesFrom, "console");
  assertEquals(row(report, "kvmclock").taken, true);
  assertEquals(row(report, "pv-eoi").taken, true);
  assertEquals(row(report, "pv-ipi").taken, "unknown");
  assertEquals(row(report, "pv-ipi").agree, "unknown");
  assertEquals(row(report, "haltpoll").taken, "unknown");
  const text = renderPvReport(report);
  assertStringIncludes(text, "kernel panic: sysrq triggered crash");
  assertStringIncludes(text, "missing from the console: report block (pvkit-report: begin)");
  assertEquals(pvReportJson(report).guest.panic, "sysrq triggered crash");
});

Deno.test("without MSR records, MSR-only features are unknown unless steal shows", () => {
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: {},
    console: parseGuestConsole(consoleText({
      dmesg: kvmDmesg({ cpus: 2 }),
      stat: ["cpu  1 0 1 1 0 0 0 3 0 0", "cpu0 1 0 1 1 0 0 0 3 0 0", "cpu1 0 0 0 0 0 0 0 0 0 0"],
    })),
    cmdline: "",
  });
  assertEquals(row(report, "pv-eoi").taken, "unknown");
  assertEquals(row(report, "pv-eoi").evidence, ["MSR writes not recorded"]);
  assertEquals(row(report, "steal-time").taken, true);
  assertEquals(row(report, "kvmclock").taken, true);
  assertEquals(row(report, "haltpoll").taken, false);
});

Deno.test("one vCPU: the single-CPU spinlock line, no TLB flush, sched yield or PV IPIs", () => {
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 1 },
    observed: { msrWrites: [allFeatureWrites(0)] },
    console: parseGuestConsole(consoleText({
      dmesg: kvmDmesg({
        cpus: 1,
        tlbFlush: false,
        schedYield: false,
        pvIpi: false,
        spinlocks: "PV spinlocks disabled, single CPU",
      }),
      online: "0",
    })),
    cmdline: "",
  });
  assert(report.rows.every((r) => r.agree === true));
  assertEquals(row(report, "pv-spinlock").reason, "PV spinlocks disabled, single CPU");
  assertEquals(report.kernelLog.modelOnly, []);
});

Deno.test("the command line's switches reach the model: nopv takes nothing but haltpoll's view", () => {
  assertEquals(
    guestSwitchesFromCmdline(
      "nopv nopvspin no-kvmclock no-steal-acc no-kvmapf nox2apic idle=poll cpuidle_haltpoll.force=Y",
    ),
    {
      nopv: true,
      nopvspin: true,
      noKvmclock: true,
      noStealAcc: true,
      noKvmapf: true,
      nox2apic: true,
      idleOverride: true,
      haltpollForce: true,
    },
  );
  assertEquals(guestSwitchesFromCmdline("idle=bogus cpuidle_haltpoll.force=0"), {});
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: { msrWrites: [[], []] },
    console: parseGuestConsole(consoleText({ dmesg: noKvmDmesg(2) })),
    cmdline: "console=ttyS0 nopv",
  });
  assert(report.rows.every((r) => r.predicted === false && r.agree === true));
  assertEquals(
    row(report, "kvmclock").reason,
    "nopv: KVM is not set up as the hypervisor platform",
  );
});

Deno.test("msrWritesFromSummaries keeps enabling and final values, and leaves refusals out", () => {
  assertEquals(
    msrWritesFromSummaries([
      [
        { msr: 0x4b564d01, writes: 2, last: 0n, lastNonZero: 0x3001n, refused: 0 },
        { msr: 0x4b564d05, writes: 1, last: 0n, lastNonZero: 0n, refused: 0 },
        { msr: 0x4b564d04, writes: 0, last: 0n, lastNonZero: 0n, refused: 1 },
      ],
    ]),
    [[
      { msr: 0x4b564d01, value: 0x3001n },
      { msr: 0x4b564d01, value: 0n },
      { msr: 0x4b564d05, value: 0n },
    ]],
  );
});

Deno.test("a real console: Debian 6.1 under QEMU -accel kvm -cpu host,-xsave -smp 2 on the nested KVM", () => {
  // Captured with this package's initramfs inside pvkit nested (QEMU 7.2, kernel 6.1.0-57-amd64,
  // -append "console=ttyS0 reboot=k panic=-1 quiet"). QEMU does not report MSR writes, so the
  // MSR-only rows are unknown; everything the kernel says agrees with the model.
  const text = Deno.readTextFileSync(
    new URL("./testdata/qemu_kvm_debian61_smp2.txt", import.meta.url),
  );
  const console = parseGuestConsole(text);
  assertEquals(console.missing, []);
  assertEquals([console.initUptimeSeconds, console.clocksource, console.onlineCpus], [
    6.19,
    "kvm-clock",
    [0, 1],
  ]);
  const report = buildPvReport({
    offered: { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 },
    observed: {},
    console,
    cmdline: "console=ttyS0 reboot=k panic=-1 quiet",
  });
  assertEquals(
    report.rows.filter((r) => r.taken !== "unknown").map((r) => [r.feature, r.taken, r.agree]),
    [
      ["kvmclock", true, true],
      ["kvmclock-stable-bit", true, true],
      ["nop-io-delay", true, true],
      ["steal-time", true, true],
      ["pv-tlb-flush", true, true],
      ["pv-sched-yield", true, true],
      ["pv-ipi", true, true],
      ["pv-spinlock", true, true],
      ["haltpoll", false, true],
      ["msi-ext-dest-id", false, true],
    ],
  );
  assertEquals(report.rows.filter((r) => r.taken === "unknown").map((r) => r.feature), [
    "pv-eoi",
    "async-pf",
  ]);
  assertEquals(
    row(report, "steal-time").evidence.at(-1),
    "/proc/stat steal 660 ticks (cpu0 319, cpu1 341)",
  );
  assertEquals([report.kernelLog.modelOnly, report.kernelLog.kernelOnly], [[], []]);
});
