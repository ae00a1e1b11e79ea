import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { decodeVcpuExit, describeVcpuExit, KVM_EXIT, kvmExitName } from "./mod.ts";
import { expectKind } from "./_test_utils.ts";

// A synthetic kvm_run mapping: 3 pages, exit_reason @8, the exit union @32.
function runImage(reason: number, fill: (v: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = new Uint8Array(3 * 4096);
  const v = new DataView(bytes.buffer);
  v.setUint32(8, reason, true);
  fill(v, bytes);
  return bytes;
}

Deno.test("io out: port, size, direction, count and data from the data page", () => {
  const run = runImage(KVM_EXIT.KVM_EXIT_IO, (v, b) => {
    v.setUint8(32, 1); // out
    v.setUint8(33, 2); // size
    v.setUint16(34, 0x3f8, true);
    v.setUint32(36, 1, true);
    v.setBigUint64(40, 4096n, true);
    b[4096] = 0x34;
    b[4097] = 0x12;
  });
  const io = expectKind(decodeVcpuExit(run), "io");
  assertEquals(
    [io.direction, io.port, io.size, io.count, io.value],
    ["out", 0x3f8, 2, 1, 0x1234],
  );
  assertEquals(describeVcpuExit(io), "io out port 0x3f8 size 2 value 0x1234");
});

Deno.test("io in: setInput writes each element little-endian into kvm_run", () => {
  const run = runImage(KVM_EXIT.KVM_EXIT_IO, (v) => {
    v.setUint8(32, 0); // in
    v.setUint8(33, 4);
    v.setUint16(34, 0x71, true);
    v.setUint32(36, 2, true); // rep insd, 2 elements
    v.setBigUint64(40, 4096n, true);
  });
  const io = expectKind(decodeVcpuExit(run), "io");
  io.setInput([0x11223344, 0xaabbccdd]);
  assertEquals([...run.subarray(4096, 4104)], [0x44, 0x33, 0x22, 0x11, 0xdd, 0xcc, 0xbb, 0xaa]);
  io.setInput(0xff);
  assertEquals([...run.subarray(4096, 4104)], [0xff, 0, 0, 0, 0xff, 0, 0, 0]);
  assertThrows(() => io.setInput([1]), PvkitError, "needs 2 value(s)");
  assertThrows(() => io.setInput(2 ** 32), PvkitError, "does not fit");
});

Deno.test("io with data outside the mapping is a decode error, not an out-of-bounds view", () => {
  const run = runImage(KVM_EXIT.KVM_EXIT_IO, (v) => {
    v.setUint8(33, 4);
    v.setUint32(36, 1, true);
    v.setBigUint64(40, 3n * 4096n - 2n, true);
  });
  assertThrows(() => decodeVcpuExit(run), PvkitError, "does not fit");
});

Deno.test("mmio: address, length, direction; setReadData fills len bytes", () => {
  const run = runImage(KVM_EXIT.KVM_EXIT_MMIO, (v) => {
    v.setBigUint64(32, 0xfee00030n, true);
    v.setUint32(48, 4, true);
    v.setUint8(52, 0);
  });
  const mmio = expectKind(decodeVcpuExit(run), "mmio");
  assertEquals([mmio.physAddr, mmio.len, mmio.isWrite], [0xfee00030n, 4, false]);
  mmio.setReadData(0x0005_0014n);
  assertEquals([...run.subarray(40, 48)], [0x14, 0, 5, 0, 0, 0, 0, 0]);
});

Deno.test("hypercall: nr, args, long mode flag; setRet writes ret @88", () => {
  const run = runImage(KVM_EXIT.KVM_EXIT_HYPERCALL, (v) => {
    v.setBigUint64(32, 12n, true); // KVM_HC_MAP_GPA_RANGE
    for (let i = 0; i < 6; i++) v.setBigUint64(40 + 8 * i, BigInt(i + 1), true);
    v.setUint32(96, 1, true);
  });
  const hc = expectKind(decodeVcpuExit(run), "hypercall");
  assertEquals([hc.nr, hc.args, hc.longMode, hc.ret], [12n, [1n, 2n, 3n, 4n, 5n, 6n], true, 0n]);
  hc.setRet(-1000n);
  assertEquals(new DataView(run.buffer).getBigInt64(88, true), -1000n);
  assertEquals(hc.ret, (1n << 64n) - 1000n);
});

Deno.test("userspace MSR exits: index, reason, data; answers set error/data", () => {
  const rd = runImage(KVM_EXIT.KVM_EXIT_X86_RDMSR, (v) => {
    v.setUint32(40, 1, true); // INVAL
    v.setUint32(44, 0x4b564d01, true);
  });
  const rdmsr = expectKind(decodeVcpuExit(rd), "x86-rdmsr");
  assertEquals([rdmsr.index, rdmsr.reason], [0x4b564d01, 1]);
  rdmsr.setData(0x1234_5678_9abcn);
  assertEquals(new DataView(rd.buffer).getBigUint64(48, true), 0x1234_5678_9abcn);
  assertEquals(rd[32], 0);
  rdmsr.injectGp();
  assertEquals(rd[32], 1);

  const wr = runImage(KVM_EXIT.KVM_EXIT_X86_WRMSR, (v) => {
    v.setUint32(40, 4, true); // FILTER
    v.setUint32(44, 0x4b564d00, true);
    v.setBigUint64(48, 0x5001n, true);
  });
  const wrmsr = expectKind(decodeVcpuExit(wr), "x86-wrmsr");
  assertEquals([wrmsr.index, wrmsr.reason, wrmsr.data], [0x4b564d00, 4, 0x5001n]);
  wrmsr.injectGp();
  assertEquals(wr[32], 1);
});

Deno.test("payload-free and error exits", () => {
  assertEquals(decodeVcpuExit(runImage(5, () => {})), { kind: "hlt", exitReason: 5 });
  assertEquals(decodeVcpuExit(runImage(8, () => {})), { kind: "shutdown", exitReason: 8 });
  assertEquals(decodeVcpuExit(runImage(10, () => {})), { kind: "intr", exitReason: 10, errno: 4 });
  const fail = expectKind(
    decodeVcpuExit(runImage(9, (v) => {
      v.setBigUint64(32, 0x80000021n, true);
      v.setUint32(40, 1, true);
    })),
    "fail-entry",
  );
  assertEquals([fail.hardwareEntryFailureReason, fail.cpu], [0x80000021n, 1]);
  const internal = expectKind(
    decodeVcpuExit(runImage(17, (v) => {
      v.setUint32(32, 1, true);
      v.setUint32(36, 2, true);
      v.setBigUint64(40, 0xaan, true);
      v.setBigUint64(48, 0xbbn, true);
    })),
    "internal-error",
  );
  assertEquals([internal.suberrorName, internal.data], ["emulation", [0xaan, 0xbbn]]);
  const debug = expectKind(
    decodeVcpuExit(runImage(4, (v) => {
      v.setUint32(32, 3, true);
      v.setBigUint64(40, 0x100010n, true);
    })),
    "debug",
  );
  assertEquals([debug.exception, debug.pc], [3, 0x100010n]);
  const ev = expectKind(
    decodeVcpuExit(runImage(24, (v) => v.setUint32(32, 2, true))),
    "system-event",
  );
  assertEquals(ev.type, 2);
});

Deno.test("unknown: KVM_EXIT_UNKNOWN carries the hardware reason; other reasons keep their name", () => {
  const unk = expectKind(
    decodeVcpuExit(runImage(0, (v) => v.setBigUint64(32, 0x7bn, true))),
    "unknown",
  );
  assertEquals([unk.name, unk.hardwareExitReason], ["KVM_EXIT_UNKNOWN", 0x7bn]);
  const window = expectKind(decodeVcpuExit(runImage(7, () => {})), "unknown");
  assertEquals([window.name, window.hardwareExitReason], ["KVM_EXIT_IRQ_WINDOW_OPEN", undefined]);
  assertEquals(kvmExitName(99), "KVM_EXIT_99");
  assert(describeVcpuExit(window).includes("IRQ_WINDOW_OPEN"));
});
