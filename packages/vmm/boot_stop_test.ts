import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { BootShared, STOP_REASON, type StopReasonCode } from "./boot_shared.ts";
import { describeStop, kernelPanicLine } from "./boot_stop.ts";

const RESTART = "[ 9.1] reboot: Restarting system\n[ 9.2] reboot: machine restart\n";

function stopped(reason: StopReasonCode, vcpu: number, detail = 0, detail2 = 0) {
  const shared = BootShared.create(2);
  shared.requestStop(reason, vcpu, detail, detail2);
  return shared;
}
const ctx = (console: string, extra: { idleTimeoutMs?: number; errors?: string[] } = {}) => ({
  timeoutMs: 30_000,
  errors: extra.errors ?? [],
  console,
  ...(extra.idleTimeoutMs ? { idleTimeoutMs: extra.idleTimeoutMs } : {}),
});

Deno.test("boot stop: the guest's own reboot is the clean end", () => {
  const s = describeStop(stopped(STOP_REASON.reset, 0), ctx(`Linux version 6.1\n${RESTART}`));
  assertEquals([s.kind, s.clean, s.vcpu], ["reset", true, 0]);
});

Deno.test("boot stop: a panic before the reset (panic=N reboots) is a panic, not clean", () => {
  const text =
    "[ 5.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n[ 6.0] Rebooting in 1 seconds..\n";
  const s = describeStop(stopped(STOP_REASON.reset, 1), ctx(text));
  assertEquals([s.kind, s.clean], ["panic", false]);
  assertStringIncludes(s.message, "Kernel panic - not syncing: VFS: Unable to mount root fs");
  assertEquals(kernelPanicLine(text), "Kernel panic - not syncing: VFS: Unable to mount root fs");
});

Deno.test("boot stop: a reset without kernel_restart's line is an emergency restart, not clean", () => {
  const s = describeStop(
    stopped(STOP_REASON.reset, 1),
    ctx("[ 3.0] something\n[ 3.1] last words\n"),
  );
  assertEquals([s.kind, s.clean], ["reset", false]);
  assertStringIncludes(s.message, 'without the kernel\'s "reboot: Restarting system"');
  assertStringIncludes(s.message, "last words");
});

Deno.test("boot stop: triple fault, system events, fatal exits, run errors", () => {
  assertEquals(describeStop(stopped(STOP_REASON.tripleFault, 0), ctx("")).kind, "triple-fault");
  const reset = describeStop(stopped(STOP_REASON.systemEvent, 0, 2), ctx(RESTART));
  assertEquals([reset.kind, reset.clean], ["system-event", true]);
  assertStringIncludes(reset.message, "reset");
  const fail = describeStop(stopped(STOP_REASON.fatalExit, 1, 9, 0x80000021), ctx(""));
  assertStringIncludes(
    fail.message,
    "KVM_EXIT_FAIL_ENTRY (hardware_entry_failure_reason 0x80000021) on vCPU 1",
  );
  const internal = describeStop(stopped(STOP_REASON.fatalExit, 0, 17, 1), ctx(""));
  assertStringIncludes(internal.message, "KVM_EXIT_INTERNAL_ERROR (suberror 1)");
  const worker = describeStop(
    stopped(STOP_REASON.fatalExit, 0, -1),
    ctx("", { errors: ["vCPU 0: boom"] }),
  );
  assertStringIncludes(worker.message, "vCPU 0: boom");
  assertStringIncludes(
    describeStop(stopped(STOP_REASON.runError, 0, 14), ctx("")).message,
    "errno 14",
  );
});

Deno.test("boot stop: timeout and hang carry the limits and the last console lines", () => {
  const t = describeStop(stopped(STOP_REASON.timeout, -1), ctx("a\nb\nc\n"));
  assertEquals([t.kind, t.clean, t.vcpu], ["timeout", false, -1]);
  assertStringIncludes(t.message, "did not end within 30 s (last console lines: b | c)");
  const h = describeStop(stopped(STOP_REASON.hang, -1), ctx("x\ny\n", { idleTimeoutMs: 45_000 }));
  assertEquals(h.kind, "hang");
  assertStringIncludes(h.message, "no console output for 45 s");
  assert(describeStop(stopped(STOP_REASON.interrupted, -1), ctx("")).kind === "interrupted");
});
