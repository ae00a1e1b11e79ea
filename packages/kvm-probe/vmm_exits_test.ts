// Tests of the KVM backend's VMM side: the MSR filter codec, KvmVcpuContext, KvmVmmExits on
// synthetic exits, and (where /dev/kvm is usable) plugin MSRs and PV MSR observers on real KVM.
// Every guest runs under the backend's watchdog.

import { hostTimeScale } from "@pvkit/kvm";
import { kvmTest } from "@pvkit/kvm/testing";
import { assert, assertEquals, assertThrows } from "@std/assert";
import { EmuProbeBackend } from "@pvkit/emu";
import {
  denyMsrs,
  encodeKvmMsrFilter,
  KVM_CAP,
  KVM_MSR_FILTER_DEFAULT_ALLOW,
  KVM_MSR_FILTER_DEFAULT_DENY,
  KVM_MSR_FILTER_READ,
  KVM_MSR_FILTER_WRITE,
  KvmError,
  KvmSystem,
  type VcpuExit,
} from "@pvkit/kvm";
import { ArrayGuestMemory, PvkitError, sharedKey } from "@pvkit/machine";
import { checkExpectations, parseProbe, type StepResult } from "@pvkit/probe";
import { optionalPlugins } from "@pvkit/pvkit";
import {
  diffProbeRuns,
  formatDifferences,
  HYPERCALLS_UNAVAILABLE,
  KvmProbeBackend,
  KvmVmContext,
  type KvmVmContextOptions,
  KvmVmmExits,
  nativeHypercallInsn,
  OBSERVED_PV_MSRS,
} from "./mod.ts";

const MC = 0x4b564d08;
const MIGRATION = optionalPlugins.get("kvm-migration-control")!;
const MAP_GPA = optionalPlugins.get("kvm-hc-map-gpa-range")!;

function context(over: Partial<KvmVmContextOptions> = {}): KvmVmContext {
  return new KvmVmContext({
    memory: new ArrayGuestMemory(new Uint8Array(0x4000)),
    vcpuCount: 2,
    tscKhz: 2_600_000,
    inKernelLapic: true,
    enforcePvCpuid: false,
    pvFeatures: 0,
    exitHypercall: [],
    onUserHypercall: () => 0n,
    ...over,
  });
}

/** What a synthetic exit was answered with. */
interface Answer {
  data?: bigint;
  gp?: boolean;
  ret?: bigint;
}

function rdmsr(index: number, answer: Answer): VcpuExit {
  return {
    kind: "x86-rdmsr",
    exitReason: 29,
    index,
    reason: 4,
    setData: (v: bigint) => void (answer.data = v),
    injectGp: () => void (answer.gp = true),
  };
}

function wrmsr(index: number, data: bigint, answer: Answer): VcpuExit {
  return {
    kind: "x86-wrmsr",
    exitReason: 30,
    index,
    reason: 4,
    data,
    injectGp: () => void (answer.gp = true),
  };
}

function hypercall(nr: bigint, args: bigint[], longMode: boolean, answer: Answer): VcpuExit {
  return {
    kind: "hypercall",
    exitReason: 3,
    nr,
    args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
    longMode,
    ret: 0n,
    setRet: (v: bigint) => void (answer.ret = v),
  };
}

const NO_HOST_WRITE = (): boolean => {
  throw new Error("unexpected KVM_SET_MSRS");
};

// --- without KVM -----------------------------------------------------------------------------

Deno.test("denyMsrs and encodeKvmMsrFilter lay out kvm_msr_filter as the uapi header does", () => {
  const r = denyMsrs(KVM_MSR_FILTER_WRITE, [0x4b564d07, 0x4b564d00, 0x4b564d03]);
  assertEquals([r.base, r.nmsrs, r.bitmap.length], [0x4b564d00, 8, 8]);
  assertEquals(r.bitmap[0], 0b0111_0110); // bits 0, 3, 7 clear = denied
  assertEquals([...r.bitmap.subarray(1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const buf = encodeKvmMsrFilter(
    { flags: KVM_MSR_FILTER_DEFAULT_ALLOW, ranges: [denyMsrs(3, [MC]), r] },
    [0x1000n, 0x2008n],
  );
  const v = new DataView(buf.buffer);
  assertEquals(buf.length, 392);
  assertEquals(v.getUint32(0, true), 0);
  assertEquals([v.getUint32(8, true), v.getUint32(12, true), v.getUint32(16, true)], [3, 1, MC]);
  assertEquals(v.getBigUint64(24, true), 0x1000n);
  assertEquals([v.getUint32(32, true), v.getUint32(36, true)], [2, 8]);
  assertEquals(v.getBigUint64(48, true), 0x2008n);
  assertEquals(v.getUint32(56, true), 0); // range 2: unused
  const bad = (flags: number, nmsrs: number) =>
    assertThrows(
      () =>
        encodeKvmMsrFilter({
          flags: 0,
          ranges: [{ flags, base: 0, nmsrs, bitmap: new Uint8Array(0x700) }],
        }, [0n]),
      PvkitError,
      "invalid MSR filter",
    );
  bad(0, 1);
  bad(4, 1);
  bad(1, 0);
  bad(1, 0x601 * 8);
  assertThrows(() => denyMsrs(1, []), PvkitError);
  assertThrows(() => encodeKvmMsrFilter({ flags: 0, ranges: [] }, [1n]), PvkitError);
});

Deno.test("KvmVcpuContext: index, APIC ID, pvHas, shared state; the rest throws kvm-context-unavailable", () => {
  const vm = context({ enforcePvCpuid: true, pvFeatures: (1 << 3) | (1 << 17) });
  const v = vm.vcpu(1);
  assertEquals([v.index, v.apicId, v.longMode, v.cpl, vm.maxApicId], [1, 1, true, 0, 1]);
  assertEquals([v.pvHas(3), v.pvHas(17), v.pvHas(4)], [true, true, false]);
  assertEquals(context().vcpu(0).pvHas(4), true); // enforcement off
  assert(v.memory === vm.memory && vm.vcpuByApicId(0) === vm.vcpu(0));
  assertEquals(context({ inKernelLapic: false }).vcpu(0).apic, undefined);
  const key = sharedKey("test.counter", () => ({ n: 0 }));
  v.shared(key).n++;
  assertEquals(v.shared(key).n, 1);
  assertEquals(vm.vcpu(0).shared(key).n, 0);
  assertEquals(v.shared("by-name", () => 7), 7);
  assertThrows(() => v.shared("missing"), PvkitError);
  assertThrows(() => vm.vcpu(2), PvkitError);
  for (
    const f of [
      () => v.guestTsc(),
      () => v.kick(),
      () => v.flushTlb(),
      () => v.isHalted(),
      () => v.apic,
      () => vm.schedInfo,
      () => vm.kvmclockNs(),
      () => vm.yieldTo(v, v),
    ]
  ) {
    const e = assertThrows(f, PvkitError, "not available on the KVM backend");
    assertEquals(e.code, "kvm-context-unavailable");
  }
});

Deno.test("KvmVmmExits: kvm-migration-control's hook answers synthetic RDMSR/WRMSR exits", () => {
  const exits = new KvmVmmExits({
    context: context(),
    plugins: [...optionalPlugins.values()],
    isEnabled: () => true,
  });
  assertEquals(exits.trappedMsrs, [MC]);
  assertEquals(exits.hypercalls, []); // KVM_CAP_EXIT_HYPERCALL not enabled
  assertEquals(exits.observedMsrs, []);
  const f = exits.msrFilter();
  assertEquals(f?.flags, KVM_MSR_FILTER_DEFAULT_ALLOW);
  assertEquals(f?.ranges.map((r) => [r.flags, r.base, r.nmsrs, r.bitmap[0]]), [
    [KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, MC, 1, 0xfe],
  ]);
  const a: Answer[] = [{}, {}, {}, {}, {}, {}];
  assert(exits.handle(rdmsr(MC, a[0]), 0, NO_HOST_WRITE));
  assert(exits.handle(wrmsr(MC, 0n, a[1]), 1, NO_HOST_WRITE));
  assert(exits.handle(rdmsr(MC, a[2]), 0, NO_HOST_WRITE)); // VM-wide: vCPU 1 wrote it
  assert(exits.handle(wrmsr(MC, 2n, a[3]), 0, NO_HOST_WRITE)); // reserved bit
  assert(exits.handle(rdmsr(0x4b564d01, a[4]), 0, NO_HOST_WRITE)); // no hook: #GP
  assert(exits.handle(wrmsr(0x12, 1n, a[5]), 0, NO_HOST_WRITE)); // not observed: #GP
  assertEquals(a, [{ data: 1n }, {}, { data: 0n }, { gp: true }, { gp: true }, { gp: true }]);
  // The feature off in the composition: the plugin's hook #GPs, as KVM would.
  const off = new KvmVmmExits({ context: context(), plugins: [MIGRATION], isEnabled: () => false });
  const b: Answer = {};
  off.handle(rdmsr(MC, b), 0, NO_HOST_WRITE);
  assertEquals(b, { gp: true });
  // Other exits are the caller's.
  assertEquals(exits.handle({ kind: "hlt", exitReason: 5 }, 0, NO_HOST_WRITE), false);
});

Deno.test("KvmVmmExits: KVM_EXIT_HYPERCALL 12 goes through kvm-hc-map-gpa-range's hook to the VMM", () => {
  const seen: { vcpu: number; args: readonly bigint[]; longMode: boolean }[] = [];
  let answer = 0n;
  const ctx = context({
    exitHypercall: [12],
    onUserHypercall: (vcpu, exit) => {
      seen.push({ vcpu: vcpu.index, args: exit.args, longMode: exit.longMode });
      return answer;
    },
  });
  const exits = new KvmVmmExits({ context: ctx, plugins: [MAP_GPA], isEnabled: () => true });
  assertEquals(exits.hypercalls, [12]);
  assertEquals(exits.msrFilter(), undefined);
  const a: Answer = {};
  assert(exits.handle(hypercall(12n, [0x1000n, 3n, 0x10n], true, a), 1, NO_HOST_WRITE));
  assertEquals(a, { ret: 0n });
  assertEquals(seen, [{ vcpu: 1, args: [0x1000n, 3n, 0x10n], longMode: true }]);
  answer = -22n;
  const b: Answer = {};
  exits.handle(hypercall(12n, [0x2000n, 1n, 0n], true, b), 0, NO_HOST_WRITE);
  assertEquals(b, { ret: 2n ** 64n - 22n });
  const c: Answer = {};
  exits.handle(hypercall(12n, [0x2000n, 1n, 0n], false, c), 0, NO_HOST_WRITE);
  assertEquals(c, { ret: 2n ** 32n - 22n }); // u32 for a 32-bit caller
  // Another number, or 12 without KVM_CAP_EXIT_HYPERCALL: the caller's default.
  assertEquals(exits.handle(hypercall(5n, [], true, {}), 0, NO_HOST_WRITE), false);
  const disabled = new KvmVmmExits({
    context: context(),
    plugins: [MAP_GPA],
    isEnabled: () => true,
  });
  assertEquals(disabled.handle(hypercall(12n, [0x1000n, 1n], true, {}), 0, NO_HOST_WRITE), false);
});

Deno.test("KvmVmmExits: observed PV MSR writes reach the observer, then KVM; a refusal is #GP", () => {
  const seen: [number, number, bigint][] = [];
  const forwarded: [number, bigint][] = [];
  let accept = true;
  const exits = new KvmVmmExits({
    context: context(),
    plugins: [MIGRATION],
    isEnabled: () => true,
    observePvMsrWrites: (vcpu, msr, value) => seen.push([vcpu, msr, value]),
  });
  assertEquals(exits.observedMsrs, OBSERVED_PV_MSRS);
  assertEquals(exits.msrFilter()?.ranges.map((r) => [r.flags, r.base, r.nmsrs, r.bitmap[0]]), [
    [3, MC, 1, 0xfe],
    [2, 0x11, 2, 0xfc],
    [2, 0x4b564d00, 8, 0x00],
  ]);
  const host = (msr: number, value: bigint): boolean => {
    forwarded.push([msr, value]);
    return accept;
  };
  const a: Answer = {};
  exits.handle(wrmsr(0x4b564d01, 0x2001n, a), 1, host);
  accept = false;
  const b: Answer = {};
  exits.handle(wrmsr(0x4b564d02, 0x30n, b), 0, host);
  const c: Answer = {};
  exits.handle(wrmsr(MC, 0n, c), 0, host); // the plugin's, not observed
  assertEquals([a, b, c], [{}, { gp: true }, {}]);
  assertEquals(seen, [[1, 0x4b564d01, 0x2001n], [0, 0x4b564d02, 0x30n]]);
  assertEquals(forwarded, [[0x4b564d01, 0x2001n], [0x4b564d02, 0x30n]]);
});

// --- on KVM ----------------------------------------------------------------------------------

const migrationProbe = (plugins: string[]) =>
  parseProbe({
    name: "migration-control",
    // Without the plugin the feature does not exist, so it cannot be turned on.
    machine: { cpu: plugins.length > 0 ? "host,kvm-migration-control=on" : "host", plugins },
    vcpus: [{
      steps: [
        { op: "rdmsr", msr: "0x4b564d08" },
        { op: "wrmsr", msr: "0x4b564d08", value: "0x0" },
        { op: "rdmsr", msr: "0x4b564d08" },
        { op: "wrmsr", msr: "0x4b564d08", value: "0x2" },
        { op: "rdmsr", msr: "0x4b564d08" },
      ],
    }],
  });

kvmTest("KVM_X86_SET_MSR_FILTER accepts a filter and its removal, and refuses a deny-all", () => {
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  assert(vm.kvmCheckExtension(KVM_CAP.KVM_CAP_X86_MSR_FILTER) > 0);
  vm.kvmX86SetMsrFilter({ flags: 0, ranges: [denyMsrs(3, [MC]), denyMsrs(2, [0x11, 0x12])] });
  vm.kvmX86SetMsrFilter({ flags: 0, ranges: [] });
  // KVM checks what it accepts (kvm_vm_ioctl_set_msr_filter): deny-by-default with no range
  // is EINVAL, so the two calls above were really checked and taken.
  assertThrows(
    () => vm.kvmX86SetMsrFilter({ flags: KVM_MSR_FILTER_DEFAULT_DENY, ranges: [] }),
    KvmError,
    "KVM_X86_SET_MSR_FILTER",
  );
});

kvmTest(
  "MIGRATION_CONTROL on KVM through the plugin's hook, as on the emulated backend",
  async () => {
    const probe = migrationProbe(["kvm-migration-control"]);
    const kvm = await new KvmProbeBackend({ plugins: optionalPlugins }).run(probe, {
      timeoutMs: 3000 * hostTimeScale(),
    });
    const want: StepResult[] = [
      { op: "rdmsr", value: 1n },
      { op: "wrmsr" },
      { op: "rdmsr", value: 0n },
      { op: "wrmsr", fault: "GP" },
      { op: "rdmsr", value: 0n },
    ];
    assertEquals(kvm.vcpus[0].results, want, kvm.notes.join("\n"));
    assert(!kvm.notes.some((n) => n.includes("MSR filter")), kvm.notes.join("\n"));
    const emu = await new EmuProbeBackend({ plugins: optionalPlugins }).run(probe);
    assertEquals(emu.vcpus[0].results, want);
    const d = diffProbeRuns(probe, emu, kvm);
    assertEquals(d, [], formatDifferences(d));
  },
);

kvmTest(
  "MIGRATION_CONTROL on KVM without the plugin: RDMSR and WRMSR #GP (KVM does not emulate it)",
  async () => {
    const probe = migrationProbe([]);
    const kvm = await new KvmProbeBackend({ plugins: optionalPlugins }).run(probe, {
      timeoutMs: 3000 * hostTimeScale(),
    });
    assertEquals(
      kvm.vcpus[0].results.map((r) => "fault" in r ? r.fault : r),
      ["GP", "GP", "GP", "GP", "GP"],
    );
    const emu = await new EmuProbeBackend({ plugins: optionalPlugins }).run(probe);
    assertEquals(diffProbeRuns(probe, emu, kvm), []);
  },
);

kvmTest(
  "observePvMsrWrites: the observer sees SYSTEM_TIME_NEW and KVM still fills pvclock",
  async () => {
    const seen: [number, number, bigint][] = [];
    const backend = new KvmProbeBackend({
      observePvMsrWrites: true,
      onPvMsrWrite: (vcpu, msr, value) => seen.push([vcpu, msr, value]),
    });
    const probe = parseProbe({
      name: "observed-kvmclock",
      machine: {},
      vcpus: [{
        steps: [
          { op: "zero", gpa: "0x2000", length: 32 },
          { op: "wrmsr", msr: "0x4b564d01", value: "0x2001", expect: { fault: null } },
          { op: "out", port: "0xf4", size: 1, value: 0 },
          { op: "read", gpa: "0x2000", size: 4, label: "version", expect: { even: true } },
          { op: "read", gpa: "0x2018", size: 4, label: "mul" },
          { op: "rdmsr", msr: "0x4b564d01", expect: { value: "0x2001" } },
          { op: "rdmsr", msr: "0x4b564d08", expect: { fault: "GP" } },
        ],
      }],
    });
    const run = await backend.run(probe, { timeoutMs: 3000 * hostTimeScale() });
    assertEquals(checkExpectations(probe, run), [], run.notes.join("\n"));
    assertEquals(seen, [[0, 0x4b564d01, 0x2001n]]);
    const r = run.vcpus[0].results;
    assert("value" in r[3] && r[3].value >= 2n, `version ${JSON.stringify(String(r[3]))}`);
    assert("value" in r[4] && r[4].value !== 0n, "KVM never wrote mul");
    // Without a callback the writes go to the notes; a write KVM refuses still #GPs.
    const noted = await new KvmProbeBackend({ observePvMsrWrites: true }).run(
      parseProbe({
        name: "observed-refused",
        machine: {},
        vcpus: [{ steps: [{ op: "wrmsr", msr: "0x4b564d02", value: "0x30" }] }],
      }),
      { timeoutMs: 3000 * hostTimeScale() },
    );
    assertEquals(noted.vcpus[0].results, [{ op: "wrmsr", fault: "GP" }]);
    assert(noted.notes.includes("vCPU 0 wrote MSR 0x4b564d02 = 0x30"), noted.notes.join("\n"));
  },
);

kvmTest(
  "MAP_GPA_RANGE with the plugin on KVM: answered by the hook, or skipped where hypercalls hang",
  async () => {
    const probe = parseProbe({
      name: "map-gpa-range",
      machine: {
        cpu: "host,kvm-hc-map-gpa-range=on",
        exitHypercall: [12],
        plugins: ["kvm-hc-map-gpa-range"],
      },
      vcpus: [{ steps: [{ op: "hypercall", nr: 12, args: ["0x1000", "0x1", "0x0"] }] }],
    });
    const run = await new KvmProbeBackend({ plugins: optionalPlugins, hypercallTimeoutMs: 1000 })
      .run(probe, { timeoutMs: 3000 * hostTimeScale() });
    const [r] = run.vcpus[0].results;
    if ("skipped" in r) {
      assertEquals(r.skipped, HYPERCALLS_UNAVAILABLE);
      assert(run.notes.some((n) => n.startsWith(HYPERCALLS_UNAVAILABLE)), run.notes.join("\n"));
    } else {
      assertEquals(r, { op: "hypercall", ret: 0n, site: nativeHypercallInsn() });
      assertEquals(run.vcpus[0].exits["userspace-hypercall"], 1);
    }
  },
);
