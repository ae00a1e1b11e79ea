// The guest console parser, the /init script's markers and the initramfs members (no guest runs).

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { consoleText, kvmDmesg } from "./_linux_console_fixtures.ts";
import { parseCpuList, parseGuestConsole, stealTicks } from "./boot_console.ts";
import { BOOT_MARK, bootInitScript, REPORT_MARK } from "./boot_init.ts";
import { bootInitramfsEntries, isStaticElf, vmmCacheDir } from "./linux_guest_image.ts";

Deno.test("a full console: init time, the block, steal after the load, the reboot", () => {
  const r = parseGuestConsole(consoleText({
    dmesg: kvmDmesg({ cpus: 2 }),
    statAfterLoad: [
      "cpu  9 0 9 9 0 0 0 12 0 0",
      "cpu0 5 0 5 5 0 0 0 7 0 0",
      "cpu1 4 0 4 4 0 0 0 5 0 0",
    ],
  }));
  assertEquals(r.initUptimeSeconds, 0.63);
  assertEquals(r.reportComplete, true);
  assertEquals(r.reportEndUptimeSeconds, 0.71);
  assertEquals(r.dmesg.length, kvmDmesg({ cpus: 2 }).length);
  assertEquals(r.dmesg.includes("kvm-guest: setup PV IPIs"), true);
  assertEquals(r.cpuStat.map((s) => [s.cpu, s.steal]), [["all", 0], [0, 0], [1, 0]]);
  assertEquals(stealTicks(r), [{ cpu: 0, steal: 7 }, { cpu: 1, steal: 5 }]);
  assertEquals([r.cpuidleDriver, r.clocksource, r.nproc], ["none", "kvm-clock", 2]);
  assertEquals([r.onlineCpus, r.possibleCpus], [[0, 1], [0, 1]]);
  assertEquals(r.cmdline, "console=ttyS0 reboot=k panic=-1");
  assertEquals([r.loadSeconds, r.rebootUptimeSeconds], [1, 1.74]);
  assertEquals(r.consoleKernelLines, [
    "Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)",
    "Run /init as init process",
    "reboot: Restarting system",
  ]);
  assertEquals(r.panic, undefined);
  assertEquals(r.missing, []);
});

Deno.test("markers after kernel text on the same line, timestamps inside dmesg lines, CRs", () => {
  const r = parseGuestConsole(
    "[    1.0] random: crng init donepvkit-boot: init 1.50\r\n" +
      "pvkit-report: begin\r\n" +
      "pvkit-report: dmesg [    0.123456] kvm-guest: setup PV IPIs\r\n" +
      "pvkit-report: cpuidle \r\n" +
      "pvkit-report: end 1.6\r\n",
  );
  assertEquals(r.initUptimeSeconds, 1.5);
  assertEquals(r.dmesg, ["kvm-guest: setup PV IPIs"]);
  assertEquals(r.cpuidleDriver, undefined);
  assertEquals(r.missing, [
    "cpuidle driver",
    "current clocksource",
    "online CPUs",
    "possible CPUs",
    "nproc",
    "kernel command line",
    "/proc/stat cpu lines",
  ]);
});

Deno.test("a panic, a hang, an empty console: what is missing is said", () => {
  const panic = parseGuestConsole(consoleText({ dmesg: [], panic: "sysrq triggered crash" }));
  assertEquals([panic.test, panic.panic, panic.reportComplete], [
    "panic",
    "sysrq triggered crash",
    false,
  ]);
  assertEquals(panic.missing, ["report block (pvkit-report: begin)"]);
  const early = parseGuestConsole(
    "[    0.9] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n",
  );
  assertEquals(early.panic, "VFS: Unable to mount root fs on unknown-block(0,0)");
  assertEquals(early.missing, [
    "init line (pvkit-boot: init)",
    "report block (pvkit-report: begin)",
  ]);
  const hang = parseGuestConsole("pvkit-boot: init 0.5\npvkit-boot: test hang\n");
  assertEquals(hang.test, "hang");
  const cut = parseGuestConsole(
    "pvkit-boot: init 0.5\npvkit-report: begin\npvkit-report: dmesg x\n",
  );
  assertEquals(cut.missing, ["end of the report block (pvkit-report: end)"]);
  assertEquals(cut.dmesg, ["x"]);
  assertEquals(parseGuestConsole("").missing.length, 2);
});

Deno.test("parseCpuList expands ranges and lists", () => {
  assertEquals(parseCpuList("0"), [0]);
  assertEquals(parseCpuList("0-3,6,8-9\n"), [0, 1, 2, 3, 6, 8, 9]);
  assertEquals(parseCpuList(""), []);
});

Deno.test("the /init script prints the markers the parser reads, and handles the test switches", () => {
  const s = bootInitScript();
  assertEquals([BOOT_MARK, REPORT_MARK], ["pvkit-boot:", "pvkit-report:"]);
  for (
    const needle of [
      'echo "pvkit-boot: init $up"',
      "r begin",
      'r "dmesg $l"',
      'r "stat $l"',
      "/sys/devices/system/cpu/cpuidle/current_driver",
      "/sys/devices/system/clocksource/clocksource0/current_clocksource",
      'r "end $up"',
      'r "stat-after-load $l"',
      "pvkit.test=*",
      "echo c > /proc/sysrq-trigger",
      "while :; do :; done",
      "$B reboot -f",
    ]
  ) assertStringIncludes(s, needle);
  // The init line comes right after /proc is mounted, before sysfs and devtmpfs.
  const lines = s.split("\n");
  const init = lines.findIndex((l) => l.includes("pvkit-boot: init"));
  assert(init < lines.findIndex((l) => l.includes("mount -t sysfs")));
  assert(init > lines.findIndex((l) => l.includes("mount -t proc")));
  // Deterministic: the initramfs is content-hashed.
  assertEquals(s, bootInitScript());
});

Deno.test("the initramfs: busybox, sh, mount points and /init; a static busybox is recognized", () => {
  const entries = bootInitramfsEntries(new Uint8Array([1, 2, 3]));
  const init = entries.find((e) => e.path === "init");
  if (init?.kind !== "file") throw new Error("no /init file");
  assertEquals(init.mode, 0o755);
  assertEquals(new TextDecoder().decode(init.data), bootInitScript());
  assertEquals(entries.find((e) => e.path === "bin/sh"), {
    kind: "symlink",
    path: "bin/sh",
    target: "busybox",
  });
  assertEquals(isStaticElf(Deno.readFileSync(Deno.execPath())), false); // deno is dynamic
  try {
    const busybox = Deno.readFileSync("/bin/busybox");
    // Debian's busybox-static is static; the plain busybox package is not.
    assertEquals(
      isStaticElf(busybox),
      !/ld-linux/.test(new TextDecoder().decode(busybox.subarray(0, 4096))),
    );
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
});

Deno.test("vmmCacheDir sits next to the nested runner's cache", () => {
  const old = Deno.env.get("PVKIT_CACHE_DIR");
  try {
    Deno.env.set("PVKIT_CACHE_DIR", "/srv/cache/pvkit");
    assertEquals(vmmCacheDir(), "/srv/cache/pvkit/vmm");
  } finally {
    if (old === undefined) Deno.env.delete("PVKIT_CACHE_DIR");
    else Deno.env.set("PVKIT_CACHE_DIR", old);
  }
});
