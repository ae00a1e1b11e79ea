import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  bootWithQemu,
  DEFAULT_BOOT_CMDLINE,
  describeQemuStop,
  qemuBootArgs,
  qemuBootReport,
  qemuMachineOption,
} from "./mod.ts";
import { syntheticBzImage } from "./_test_bzimage.ts";
import { runConsoleProcess } from "./_console_process.ts";

Deno.test("qemuBootArgs: KVM, pc with the in-kernel irqchip, -cpu host by default, no devices", () => {
  assertEquals(qemuBootArgs({ kernel: "/k/bzImage" }), [
    "-accel",
    "kvm",
    "-machine",
    "pc,kernel-irqchip=on",
    "-cpu",
    "host",
    "-smp",
    "1",
    "-m",
    "512M",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-monitor",
    "none",
    "-no-reboot",
    "-kernel",
    "/k/bzImage",
    "-append",
    DEFAULT_BOOT_CMDLINE,
  ]);
});

Deno.test("qemuBootArgs: -cpu, -smp, -m, -initrd and -append are passed as given", () => {
  const args = qemuBootArgs({
    kernel: "/k/bz,Image",
    initrd: "/k/initrd.cpio",
    append: "console=ttyS0 quiet",
    cpu: "host,kvm-pv-ipi=off,kvm-hint-dedicated=on",
    smp: "2,sockets=1",
    memoryBytes: 1024 * 1024 * 1024,
    machine: "pc,kernel-irqchip=split",
  });
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  assertEquals(value("-cpu"), "host,kvm-pv-ipi=off,kvm-hint-dedicated=on");
  assertEquals(value("-smp"), "2,sockets=1");
  assertEquals(value("-m"), "1024M");
  assertEquals(value("-machine"), "pc,kernel-irqchip=split");
  assertEquals(value("-kernel"), "/k/bz,Image"); // -kernel is not a comma-separated option
  assertEquals(value("-initrd"), "/k/initrd.cpio");
  assertEquals(value("-append"), "console=ttyS0 quiet");
  assertEquals(qemuBootArgs({ kernel: "k", cpu: "qemu64" })[5], "qemu64");
});

Deno.test("qemuBootArgs: a memory size that is not whole MiB is a PvkitError", () => {
  for (const memoryBytes of [0, -1, 1000, 1.5 * 1024 * 1024]) {
    let err: unknown;
    try {
      qemuBootArgs({ kernel: "k", memoryBytes });
    } catch (e) {
      err = e;
    }
    assert(err instanceof PvkitError && err.hint?.includes("MiB"), String(memoryBytes));
  }
});

Deno.test("qemuMachineOption: the type first (pc by default), kernel-irqchip=on unless set", () => {
  assertEquals(qemuMachineOption(undefined), "pc,kernel-irqchip=on");
  assertEquals(qemuMachineOption(""), "pc,kernel-irqchip=on");
  assertEquals(qemuMachineOption("pc"), "pc,kernel-irqchip=on");
  assertEquals(qemuMachineOption("q35"), "q35,kernel-irqchip=on");
  assertEquals(qemuMachineOption("kernel-irqchip=off"), "pc,kernel-irqchip=off");
  assertEquals(qemuMachineOption("pc,kernel-irqchip=on"), "pc,kernel-irqchip=on");
});

const RESTART = "pvkit-boot: reboot 9.10\r\n[   9.2] reboot: Restarting system\r\n";

Deno.test("describeQemuStop: exit 0 after the kernel's restart is a clean reset", () => {
  const stop = describeQemuStop({ code: 0, console: RESTART, stderr: "" }, { timeoutMs: 1000 });
  assertEquals([stop.kind, stop.clean, stop.vcpu], ["reset", true, -1]);
  assertStringIncludes(stop.message, "QEMU exited (-no-reboot)");
});

Deno.test("describeQemuStop: a panic before the reset is a panic", () => {
  const console =
    "pvkit-boot: init 3.1\n[ 3.2] Kernel panic - not syncing: sysrq triggered crash\n";
  const stop = describeQemuStop({ code: 0, console, stderr: "" }, { timeoutMs: 1000 });
  assertEquals([stop.kind, stop.clean], ["panic", false]);
  assertStringIncludes(stop.message, "sysrq triggered crash");
});

Deno.test("describeQemuStop: timeout, hang and interrupt read as pvkit boot's", () => {
  const console = "pvkit-boot: init 3.1\npvkit-boot: test hang\n";
  const limits = { timeoutMs: 300_000, idleTimeoutMs: 30_000 };
  const timeout = describeQemuStop(
    { code: 137, killedFor: "timeout", console, stderr: "" },
    limits,
  );
  assertEquals([timeout.kind, timeout.clean], ["timeout", false]);
  assertStringIncludes(timeout.message, "the guest did not end within 300 s");
  const hang = describeQemuStop({ code: 137, killedFor: "hang", console, stderr: "" }, limits);
  assertEquals(hang.kind, "hang");
  assertStringIncludes(hang.message, "no console output for 30 s");
  assertStringIncludes(hang.message, "pvkit-boot: test hang");
  const stopped = describeQemuStop(
    { code: 1, killedFor: "interrupted", console, stderr: "" },
    limits,
  );
  assertEquals(stopped.kind, "interrupted");
});

Deno.test("describeQemuStop: another exit is QEMU failing, with its last stderr line", () => {
  const stop = describeQemuStop(
    { code: 1, console: "[ 0.1] Linux version\n", stderr: "warning: x\nqemu: fatal: oops\n" },
    { timeoutMs: 1000 },
  );
  assertEquals([stop.kind, stop.clean], ["fatal-exit", false]);
  assertEquals(stop.message, "QEMU exited with status 1: qemu: fatal: oops");
  const killed = describeQemuStop(
    { code: 137, signal: "SIGKILL", console: "x", stderr: "" },
    { timeoutMs: 1000 },
  );
  assertEquals(killed.message, "QEMU was killed by SIGKILL");
});

// A stand-in for QEMU: a shell script that prints what its guest would and exits like QEMU.
function fakeQemu(body: string): { path: string; dir: string } {
  const dir = Deno.makeTempDirSync({ prefix: "pvkit-fake-qemu-" });
  const path = `${dir}/qemu-system-x86_64`;
  Deno.writeTextFileSync(path, `#!/bin/sh\n${body}\n`);
  Deno.chmodSync(path, 0o755);
  const kernel = `${dir}/bzImage`;
  Deno.writeFileSync(kernel, syntheticBzImage());
  return { path, dir };
}

Deno.test("bootWithQemu: console, time to /init, clean end, the argv that ran (fake QEMU)", async () => {
  const fake = fakeQemu(
    `echo "args: $*"; echo "pvkit-boot: init 1.50"; printf '${RESTART}'; exit 0`,
  );
  try {
    const seen: Uint8Array[] = [];
    const r = await bootWithQemu({
      kernel: `${fake.dir}/bzImage`,
      qemu: fake.path,
      cpu: "qemu64",
      smp: 2,
      console: (b) => seen.push(b),
    });
    assertEquals([r.stop.kind, r.stop.clean], ["reset", true], r.stop.message);
    assert(r.toInitMs !== undefined && r.toInitMs <= r.runMs);
    assertStringIncludes(r.console, "args: -accel kvm -machine pc,kernel-irqchip=on -cpu qemu64");
    assertEquals(
      new TextDecoder().decode(seen.reduce((a, b) => new Uint8Array([...a, ...b]))),
      r.console,
    );
    assertEquals(r.argv[0], fake.path);
    assertEquals(
      r.argv.slice(1),
      qemuBootArgs({ kernel: `${fake.dir}/bzImage`, cpu: "qemu64", smp: 2 }),
    );
    assertEquals([r.cmdline, r.vcpus], [DEFAULT_BOOT_CMDLINE, 2]);
  } finally {
    Deno.removeSync(fake.dir, { recursive: true });
  }
});

Deno.test("bootWithQemu: a silent guest is killed as hung, and the process is gone", async () => {
  const fake = fakeQemu(
    `echo "pvkit-boot: init 1.0"; echo $$ > "$(dirname "$0")/pid"; exec sleep 60`,
  );
  try {
    const t0 = performance.now();
    const r = await bootWithQemu({
      kernel: `${fake.dir}/bzImage`,
      qemu: fake.path,
      idleTimeoutMs: 300,
      timeoutMs: 30_000,
    });
    assertEquals(r.stop.kind, "hang", r.stop.message);
    assert(performance.now() - t0 < 10_000);
    const pid = Number(Deno.readTextFileSync(`${fake.dir}/pid`));
    const alive = await new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" })
      .output();
    assertEquals(alive.code === 0, false, "the fake QEMU is still running");
  } finally {
    Deno.removeSync(fake.dir, { recursive: true });
  }
});

Deno.test("bootWithQemu: the time limit kills QEMU even while it prints", async () => {
  const fake = fakeQemu(`while :; do echo tick; sleep 0.05; done`);
  try {
    const r = await bootWithQemu({
      kernel: `${fake.dir}/bzImage`,
      qemu: fake.path,
      timeoutMs: 400,
      idleTimeoutMs: 5000,
    });
    assertEquals(r.stop.kind, "timeout");
    assertEquals(r.toInitMs, undefined);
    assertStringIncludes(r.stop.message, "(last console lines: tick | tick)");
  } finally {
    Deno.removeSync(fake.dir, { recursive: true });
  }
});

Deno.test("bootWithQemu: QEMU refusing the machine before any output is a PvkitError", async () => {
  const fake = fakeQemu(`echo "qemu-system-x86_64: unable to find CPU model 'nope'" >&2; exit 1`);
  try {
    const e = await assertRejects(
      () => bootWithQemu({ kernel: `${fake.dir}/bzImage`, qemu: fake.path, cpu: "nope" }),
      PvkitError,
      "unable to find CPU model 'nope'",
    );
    assertEquals((e as PvkitError).code, "qemu-failed");
  } finally {
    Deno.removeSync(fake.dir, { recursive: true });
  }
});

Deno.test("bootWithQemu: a missing kernel or initrd, or a kernel that is no bzImage, are PvkitErrors", async () => {
  const fake = fakeQemu("exit 0");
  try {
    await assertRejects(
      () => bootWithQemu({ kernel: `${fake.dir}/nope`, qemu: fake.path }),
      PvkitError,
      "no such file",
    );
    await assertRejects(
      () =>
        bootWithQemu({
          kernel: `${fake.dir}/bzImage`,
          initrd: `${fake.dir}/nope`,
          qemu: fake.path,
        }),
      PvkitError,
      "initrd",
    );
    await assertRejects(
      () => bootWithQemu({ kernel: fake.path, qemu: fake.path }),
      PvkitError,
    );
  } finally {
    Deno.removeSync(fake.dir, { recursive: true });
  }
});

Deno.test("runConsoleProcess: stopAtInit kills the process at pvkit's init line", async () => {
  const r = await runConsoleProcess(
    "sh",
    ["-c", 'printf "early\\npvkit-boot: in"; sleep 0.2; printf "it 2.0\\n"; exec sleep 60'],
    { timeoutMs: 20_000, stopAtInit: true },
  );
  assertEquals(r.killedFor, "init");
  assert(r.toInitMs !== undefined && r.toInitMs >= 150, String(r.toInitMs));
  assert(r.runMs < 10_000);
});

Deno.test("runConsoleProcess: an aborted signal kills it", async () => {
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 100);
  const r = await runConsoleProcess("sleep", ["60"], { timeoutMs: 20_000, signal: abort.signal });
  assertEquals(r.killedFor, "interrupted");
});

Deno.test("qemuBootReport: the same report as pvkit boot's, MSR-only rows unknown", () => {
  const console = Deno.readTextFileSync(
    new URL("./testdata/qemu_kvm_debian61_smp2.txt", import.meta.url),
  );
  const e = (fn: number, eax: number, ecx = 0, edx = 0) => ({
    function: fn,
    index: 0,
    flags: 0,
    eax,
    ebx: 0,
    ecx,
    edx,
  });
  const { report, summary } = qemuBootReport({
    cpuid: [e(1, 0, (1 << 31) | (1 << 21)), e(0x40000000, 0x40000001), e(0x40000001, 0x01007efb)],
    vcpus: 2,
    console,
    cmdline: "console=ttyS0 reboot=k panic=-1 quiet",
    stop: { kind: "reset", clean: true, vcpu: -1, message: "reset" },
    runMs: 20_000,
    toInitMs: 9_000,
  });
  assertEquals(report.rows.filter((r) => r.taken === "unknown").map((r) => r.feature), [
    "pv-eoi",
    "async-pf",
  ]);
  assert(report.rows.every((r) => r.agree !== false));
  assertEquals([summary.ended, summary.wallToInitSeconds, summary.wallSeconds], ["reset", 9, 20]);
  let err: unknown;
  try {
    qemuBootReport({
      cpuid: undefined,
      vcpus: 1,
      console: "",
      cmdline: "",
      stop: { kind: "reset", clean: true, vcpu: -1, message: "" },
      runMs: 1,
    });
  } catch (e) {
    err = e;
  }
  assert(err instanceof PvkitError);
});
