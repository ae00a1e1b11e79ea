import { assertEquals } from "@std/assert";
import { BootShared, MSR_LOG, STOP_REASON } from "./boot_shared.ts";
import { type ExitLoopPorts, type ExitLoopVcpu, runExitLoop } from "./vcpu_exit_loop.ts";
import { watchedMsrSlot } from "./pv_msr_watch.ts";

type Step = (view: DataView) => number; // fills kvm_run, returns the exit reason (or -errno)

class ScriptedVcpu implements ExitLoopVcpu {
  readonly view = new DataView(new ArrayBuffer(4096));
  exitReason = 0;
  lastErrno = 0;
  readonly msrWrites: [number, bigint][] = [];
  constructor(readonly steps: Step[], readonly refuse = new Set<number>()) {}
  get interrupted(): boolean {
    return this.lastErrno === 4;
  }
  run(): number {
    const step = this.steps.shift();
    if (!step) throw new Error("ran past the script");
    const r = step(this.view);
    if (r < 0) {
      this.lastErrno = -r;
      return -1;
    }
    this.lastErrno = 0;
    this.view.setUint32(8, r, true);
    this.exitReason = r;
    return 0;
  }
  setMsr(index: number, value: bigint): boolean {
    this.msrWrites.push([index, value]);
    return !this.refuse.has(index);
  }
}

class RecordingPorts implements ExitLoopPorts {
  readonly log: string[] = [];
  read(port: number, size: number): number {
    this.log.push(`in ${port.toString(16)}/${size}`);
    return 0x60;
  }
  write(port: number, size: number, value: number): void {
    this.log.push(`out ${port.toString(16)}/${size}=${value.toString(16)}`);
  }
}

const io =
  (out: boolean, port: number, size: number, count: number, data: number[]) => (v: DataView) => {
    v.setUint8(32, out ? 1 : 0);
    v.setUint8(33, size);
    v.setUint16(34, port, true);
    v.setUint32(36, count, true);
    v.setBigUint64(40, 0x800n, true);
    data.forEach((b, i) => v.setUint8(0x800 + i, b));
    return 2;
  };
const wrmsr = (msr: number, value: bigint) => (v: DataView) => {
  v.setUint8(32, 0);
  v.setUint32(44, msr, true);
  v.setBigUint64(48, value, true);
  return 30;
};
const exit = (reason: number, word = 0) => (v: DataView) => {
  v.setUint32(32, word, true);
  return reason;
};

Deno.test("exit loop: port I/O goes to the devices, in and out, strings included", () => {
  const shared = BootShared.create(1);
  const ports = new RecordingPorts();
  let inValue = -1;
  const vcpu = new ScriptedVcpu([
    io(true, 0x3f8, 1, 1, [0x41]),
    io(false, 0x3fd, 1, 1, []),
    (v) => {
      inValue = v.getUint8(0x800); // what the in left in kvm_run
      return io(true, 0x3f8, 1, 3, [0x61, 0x62, 0x63])(v); // rep outsb
    },
    io(true, 0x70, 2, 1, [0x34, 0x12]),
    exit(8),
  ]);
  runExitLoop(vcpu, 0, shared, ports);
  assertEquals(ports.log, [
    "out 3f8/1=41",
    "in 3fd/1",
    "out 3f8/1=61",
    "out 3f8/1=62",
    "out 3f8/1=63",
    "out 70/2=1234",
  ]);
  assertEquals(inValue, 0x60, "the in's value lands in kvm_run's data");
  assertEquals(shared.stopReason, STOP_REASON.tripleFault);
  assertEquals(shared.exitCount(0, 2), 4);
  assertEquals(shared.exitCount(0, 8), 1);
});

Deno.test("exit loop: watched PV MSR writes are handed to KVM and recorded; a refusal is a #GP", () => {
  const shared = BootShared.create(2);
  const vcpu = new ScriptedVcpu(
    [
      wrmsr(0x4b564d01, 0x5001n),
      wrmsr(0x4b564d03, 0x6001n),
      wrmsr(0x4b564d03, 0n),
      wrmsr(0x4b564d04, 0x7001n),
      exit(24, 2), // KVM_SYSTEM_EVENT_RESET
    ],
    new Set([0x4b564d04]),
  );
  runExitLoop(vcpu, 1, shared, new RecordingPorts());
  assertEquals(vcpu.msrWrites.length, 4);
  const rec = (msr: number) => shared.msrRecord(1, watchedMsrSlot(msr));
  assertEquals(shared.msrLog[rec(0x4b564d01) + MSR_LOG.writes], 1n);
  assertEquals(shared.msrLog[rec(0x4b564d01) + MSR_LOG.last], 0x5001n);
  assertEquals(shared.msrLog[rec(0x4b564d03) + MSR_LOG.writes], 2n);
  assertEquals(shared.msrLog[rec(0x4b564d03) + MSR_LOG.last], 0n);
  assertEquals(shared.msrLog[rec(0x4b564d03) + MSR_LOG.lastNonZero], 0x6001n);
  assertEquals(shared.msrLog[rec(0x4b564d04) + MSR_LOG.refused], 1n);
  assertEquals(shared.msrLog[rec(0x4b564d04) + MSR_LOG.writes], 0n);
  assertEquals(
    shared.msrLog[shared.msrRecord(0, watchedMsrSlot(0x4b564d01))],
    0n,
    "vCPU 0 untouched",
  );
  assertEquals(shared.stopReason, STOP_REASON.systemEvent);
  assertEquals(shared.stopDetail(0), 2);
  assertEquals(shared.stopVcpu, 1);
});

Deno.test("exit loop: the refused write's exit carries error = 1 (KVM injects #GP)", () => {
  const shared = BootShared.create(1);
  const vcpu = new ScriptedVcpu([wrmsr(0x4b564d04, 1n), exit(8)], new Set([0x4b564d04]));
  let error = -1;
  const run = vcpu.run.bind(vcpu);
  vcpu.run = () => {
    if (vcpu.msrWrites.length === 1 && error < 0) error = vcpu.view.getUint8(32);
    return run();
  };
  runExitLoop(vcpu, 0, shared, new RecordingPorts());
  assertEquals(error, 1);
});

Deno.test("exit loop: a kick (EINTR) re-enters unless a stop was requested; other errors stop the VM", () => {
  const shared = BootShared.create(1);
  const vcpu = new ScriptedVcpu([() => -4, () => -4, () => -14]);
  runExitLoop(vcpu, 0, shared, new RecordingPorts());
  assertEquals(shared.stopReason, STOP_REASON.runError);
  assertEquals(shared.stopDetail(0), 14);

  const stopped = BootShared.create(1);
  const kicked = new ScriptedVcpu([() => {
    stopped.requestStop(STOP_REASON.timeout, -1);
    return -4;
  }]);
  runExitLoop(kicked, 0, stopped, new RecordingPorts());
  assertEquals(stopped.stopReason, STOP_REASON.timeout);
  assertEquals(kicked.steps.length, 0);
});

Deno.test("exit loop: entry failures, internal errors and unexpected exits stop with their codes", () => {
  for (const [reason, word] of [[9, 0x80000021], [17, 1], [5, 0], [40, 0]]) {
    const shared = BootShared.create(1);
    runExitLoop(new ScriptedVcpu([exit(reason, word)]), 0, shared, new RecordingPorts());
    assertEquals(shared.stopReason, STOP_REASON.fatalExit);
    assertEquals([shared.stopDetail(0), shared.stopDetail(1)], [
      reason,
      reason === 5 || reason === 40 ? 0 : word | 0,
    ]);
  }
});

Deno.test("exit loop: MMIO reads nobody claims see zeros and are counted", () => {
  const shared = BootShared.create(1);
  const mmioRead = (v: DataView) => {
    v.setBigUint64(32, 0xfed00000n, true);
    v.setBigUint64(40, 0xffffffffffffffffn, true);
    v.setUint32(48, 4, true);
    v.setUint8(52, 0);
    return 6;
  };
  const vcpu = new ScriptedVcpu([mmioRead, exit(8)]);
  runExitLoop(vcpu, 0, shared, new RecordingPorts());
  assertEquals(vcpu.view.getBigUint64(40, true), 0n);
  assertEquals(shared.unclaimedMmio[0], 1);
});
