import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  buildPvReport,
  compareVmmBoots,
  parseGuestConsole,
  type PvReport,
  renderVmmComparison,
  vmmComparisonVerdict,
} from "./mod.ts";
import {
  allFeatureWrites,
  type ConsoleFixture,
  consoleText,
  KVM_DEFAULT_EAX,
  kvmDmesg,
  LEAF1_ECX,
} from "./_linux_console_fixtures.ts";

const CMDLINE = "console=ttyS0 reboot=k panic=-1";
const OFFER = { leaf40000001: { eax: KVM_DEFAULT_EAX, edx: 0 }, leaf1Ecx: LEAF1_ECX, vcpus: 2 };

/** pvkit's report: the VMM saw every PV MSR write. */
function pvkitReport(f: ConsoleFixture, offered = OFFER, pollControl = false): PvReport {
  return buildPvReport({
    offered,
    observed: {
      msrWrites: Array.from(
        { length: offered.vcpus },
        (_, i) => allFeatureWrites(i, { pollControl }),
      ),
      hypercalls: Array(offered.vcpus).fill(3),
    },
    console: parseGuestConsole(consoleText(f)),
    cmdline: CMDLINE,
  });
}

/** QEMU's report: the console only. */
function qemuReport(f: ConsoleFixture, offered = OFFER): PvReport {
  return buildPvReport({
    offered,
    observed: {},
    console: parseGuestConsole(consoleText(f)),
    cmdline: CMDLINE,
  });
}

const STEAL = [
  "cpu  40 0 90 500 2 0 3 70 0 0",
  "cpu0 20 0 50 240 1 0 2 30 0 0",
  "cpu1 20 0 40 260 1 0 1 40 0 0",
];

Deno.test("compareVmmBoots: the same kernel lines under both are the same features", () => {
  const f: ConsoleFixture = { dmesg: kvmDmesg({ cpus: 2 }), stat: STEAL };
  const c = compareVmmBoots(pvkitReport(f), qemuReport(f));
  assert(c.same, renderVmmComparison(c));
  assertEquals(c.different, []);
  // QEMU shows no MSR writes: PV EOI and async PF cannot be judged there.
  assertEquals(c.notCompared, ["pv-eoi", "async-pf"]);
  const eoi = c.rows.find((r) => r.feature === "pv-eoi")!;
  assertEquals([eoi.pvkit, eoi.qemu], [true, "unknown"]);
  assertStringIncludes(eoi.explanation, "QEMU cannot tell (");
  assertEquals(c.rows.find((r) => r.feature === "steal-time")?.verdict, "same");
  assertEquals(c.platform, { pvkitOnly: [], qemuOnly: [] });
});

Deno.test("compareVmmBoots: no steal ticks under QEMU leaves steal time uncompared", () => {
  const f: ConsoleFixture = { dmesg: kvmDmesg({ cpus: 2 }) };
  const c = compareVmmBoots(pvkitReport(f), qemuReport(f));
  assertEquals(c.notCompared, ["steal-time", "pv-eoi", "async-pf"]);
  assert(c.same);
});

Deno.test("compareVmmBoots: a difference names the feature and what explains it", () => {
  const pv: ConsoleFixture = { dmesg: kvmDmesg({ cpus: 2 }), stat: STEAL };
  const qemu: ConsoleFixture = {
    dmesg: [
      "ACPI: APIC 0x000000001FFE19F8 000080 (v01 BOCHS  BXPC     00000001 BXPC 00000001)",
      "clocksource: hpet: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 19112604467 ns",
      ...kvmDmesg({ cpus: 2, pvIpi: false }),
    ],
    stat: STEAL,
  };
  const c = compareVmmBoots(pvkitReport(pv), qemuReport(qemu));
  assertEquals(c.same, false);
  assertEquals(c.different, ["pv-ipi"]);
  const row = c.rows.find((r) => r.feature === "pv-ipi")!;
  assertEquals([row.pvkit, row.qemu, row.verdict], [true, false, "different"]);
  assertStringIncludes(row.explanation, "only under QEMU: ACPI: APIC");
  assertStringIncludes(row.explanation, "clocksource: hpet");
  assertEquals(c.platform.qemuOnly.length, 2);
  const text = renderVmmComparison(c);
  assertStringIncludes(text, "pv-ipi               taken  not      DIFFERENT");
  assertStringIncludes(
    text.split("\n").at(-1)!,
    "the kernel took different PV features under pvkit and QEMU: pv-ipi",
  );
});

Deno.test("compareVmmBoots: different CPUs, cpuidle drivers and offers are named", () => {
  const one = { ...OFFER, vcpus: 1 };
  const pv: ConsoleFixture = { dmesg: kvmDmesg({ cpus: 2 }), cpuidle: "haltpoll" };
  const qemu: ConsoleFixture = {
    dmesg: kvmDmesg({
      cpus: 1,
      pvIpi: false,
      tlbFlush: false,
      schedYield: false,
      spinlocks: "PV spinlocks disabled, single CPU",
    }),
    online: "0",
    cpuidle: "none",
  };
  const c = compareVmmBoots(
    pvkitReport(pv, OFFER, true),
    qemuReport(qemu, { ...one, leaf40000001: { eax: KVM_DEFAULT_EAX & ~(1 << 11), edx: 0 } }),
  );
  const why = (f: string) => c.rows.find((r) => r.feature === f)!.explanation;
  assertStringIncludes(
    why("pv-spinlock"),
    "the guest saw 2 possible CPUs under pvkit and 1 under QEMU",
  );
  assertStringIncludes(why("pv-ipi"), "CPUID offers it under pvkit only (PV_SEND_IPI (11))");
  assertStringIncludes(why("haltpoll"), "cpuidle driver haltpoll under pvkit, none under QEMU");
});

Deno.test("vmmComparisonVerdict: nothing compared is said so", () => {
  const r = buildPvReport({
    offered: OFFER,
    observed: {},
    console: parseGuestConsole(""),
    cmdline: CMDLINE,
  });
  const c = compareVmmBoots(r, r);
  assertEquals(c.same, false);
  assertEquals(c.compared, []);
  assertStringIncludes(vmmComparisonVerdict(c), "no feature could be compared");
});
