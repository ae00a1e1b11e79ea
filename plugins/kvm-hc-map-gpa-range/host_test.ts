import { assertEquals } from "@std/assert";
import {
  hypercallError,
  KVM_EINVAL,
  KVM_ENOSYS,
  KVM_EPERM,
  KVM_HC_MAP_GPA_RANGE,
  KVM_MAP_GPA_RANGE_ENCRYPTED,
} from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import type { UserHypercallExit } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { kvmHcMapGpaRange } from "./mod.ts";

const HC = BigInt(KVM_HC_MAP_GPA_RANGE);
const U64 = (1n << 64n) - 1n;
const HIDDEN = {
  enforcePvCpuid: true,
  cpuid: [{ leaf: 0x40000001, eax: 0, ebx: 0, ecx: 0, edx: 0 }],
};

interface Run<T> {
  out: T;
  /** The KVM_EXIT_HYPERCALLs the VMM saw. */
  exits: UserHypercallExit[];
}

/**
 * Runs `body` on vCPU 0 of a machine with the plugin registered (and enabled, unless `cpu`
 * says otherwise); the VMM records every exit and answers `vmmRet`.
 */
function run<T>(
  body: (cpu: EmuVcpu) => T,
  options: EmuOptions = {},
  vmmRet: (exit: UserHypercallExit) => bigint = () => 0n,
  cpu = "host,kvm-hc-map-gpa-range=on",
  plugins = [kvmHcMapGpaRange],
): Run<T> {
  const exits: UserHypercallExit[] = [];
  const vm = EmuMachine.create(
    compose({ cpu, machine: "q35,kernel-irqchip=split", smp: 1, host: "linux-6.12", plugins }),
    {
      exitHypercall: [KVM_HC_MAP_GPA_RANGE],
      onUserHypercall: (_vcpu, exit) => {
        exits.push(exit);
        return vmmRet(exit);
      },
      ...options,
    },
  );
  let out: T | undefined;
  vm.run([function* (c) {
    out = body(c);
    yield { kind: "yield" };
  }]);
  return { out: out!, exits };
}

Deno.test("A1-V1a: MAP_GPA_RANGE(0, 0, 0) → -KVM_EINVAL with no exit, CPUID cleared + enforced", () => {
  const r = run((cpu) => cpu.hypercall(HC, 0n, 0n, 0n), HIDDEN);
  assertEquals(r.out, hypercallError(KVM_EINVAL, true)); // 0xffffffffffffffea
  assertEquals(r.exits, []);
});

Deno.test("A1-V1b/c: MAP_GPA_RANGE(0, 1, 0) exits once (nr 12); RAX = 0 when the VMM writes nothing", () => {
  const r = run((cpu) => [cpu.hypercall(HC, 0n, 0n, 0n), cpu.hypercall(HC, 0n, 1n, 0n)], HIDDEN);
  assertEquals(r.out, [hypercallError(KVM_EINVAL, true), 0n]);
  assertEquals(r.exits, [{ nr: 12, args: [0n, 1n, 0n], longMode: true }]);
});

Deno.test("MAP_GPA_RANGE without KVM_CAP_EXIT_HYPERCALL(12) → -KVM_ENOSYS, no exit", () => {
  const r = run((cpu) => cpu.hypercall(HC, 0x1000n, 1n, 0n), { exitHypercall: [] });
  assertEquals(r.out, hypercallError(KVM_ENOSYS, true));
  assertEquals(r.exits, []);
  // Checked before the arguments: a bad range still reads -1000.
  assertEquals(
    run((cpu) => cpu.hypercall(HC, 1n, 0n, 0n), { exitHypercall: [] }).out,
    hypercallError(KVM_ENOSYS, true),
  );
});

Deno.test("MAP_GPA_RANGE: a GPA that is not 4 KiB-aligned → -KVM_EINVAL, no exit", () => {
  for (const gpa of [1n, 0x800n, 0xfffn, 0x1001n, (1n << 63n) | 0x10n]) {
    const r = run((cpu) => cpu.hypercall(HC, gpa, 1n, 0n));
    assertEquals([gpa, r.out, r.exits.length], [gpa, hypercallError(KVM_EINVAL, true), 0]);
  }
});

Deno.test("MAP_GPA_RANGE: gfn + npages overflowing u64 → -KVM_EINVAL; the largest range exits", () => {
  const bad: [bigint, bigint][] = [
    [0x1000n, U64], // gfn 1 + (2^64 - 1) wraps to 0
    [0xffff_ffff_ffff_f000n, (1n << 64n) - (1n << 52n) + 1n], // gfn 2^52 - 1: wraps to 0
  ];
  for (const [gpa, npages] of bad) {
    const r = run((cpu) => cpu.hypercall(HC, gpa, npages, 0n));
    assertEquals([r.out, r.exits.length], [hypercallError(KVM_EINVAL, true), 0]);
  }
  const ok: [bigint, bigint][] = [[0n, U64], [0xffff_ffff_ffff_f000n, (1n << 64n) - (1n << 52n)]];
  for (const [gpa, npages] of ok) {
    const r = run((cpu) => cpu.hypercall(HC, gpa, npages, 0n));
    assertEquals([r.out, r.exits], [0n, [{ nr: 12, args: [gpa, npages, 0n], longMode: true }]]);
  }
});

Deno.test("MAP_GPA_RANGE: attrs are handed over unchecked (reserved bits 63:5 included)", () => {
  const attrs = [KVM_MAP_GPA_RANGE_ENCRYPTED, 2n, U64];
  const r = run((cpu) => attrs.map((a) => cpu.hypercall(HC, 0x20_0000n, 512n, a)));
  assertEquals(r.out, [0n, 0n, 0n]);
  assertEquals(r.exits.map((e) => e.args[2]), attrs);
});

Deno.test("MAP_GPA_RANGE returns what the VMM puts in run->hypercall.ret", () => {
  const r = run(
    (cpu) => [cpu.hypercall(HC, 0x1000n, 1n, 0n), cpu.hypercall(HC, 0x2000n, 2n, 0n)],
    {},
    (exit) => (exit.args[1] === 1n ? -BigInt(KVM_EINVAL) : 0x1_0000_0005n),
  );
  assertEquals(r.out, [hypercallError(KVM_EINVAL, true), 0x1_0000_0005n]);
});

Deno.test("MAP_GPA_RANGE from a 32-bit caller: 32-bit args, LONG_MODE clear, ret truncated to u32", () => {
  const r = run(
    (cpu) => {
      cpu.longMode = false;
      return [
        cpu.hypercall(HC, 0x1_0000_1000n, 0x1_0000_0002n, 0x1_0000_0010n),
        cpu.hypercall(HC, 0x1001n, 1n, 0n),
        cpu.hypercall(HC, 0x1000n, 0x1_0000_0000n, 0n), // npages 0 once masked
      ];
    },
    {},
    () => 0x1_0000_0005n,
  );
  assertEquals(r.out, [5n, 0xffff_ffean, 0xffff_ffean]);
  assertEquals(r.exits, [{ nr: 12, args: [0x1000n, 2n, 0x10n], longMode: false }]);
  const off = run((cpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC, 0x1000n, 1n, 0n);
  }, { exitHypercall: [] });
  assertEquals(off.out, 0xffff_fc18n);
});

Deno.test("MAP_GPA_RANGE is not CPUID-gated: bit 16 hidden, shown or the feature off", () => {
  const cases: [EmuOptions, string][] = [
    [HIDDEN, "host,kvm-hc-map-gpa-range=on"],
    [{ enforcePvCpuid: true }, "host,kvm-hc-map-gpa-range=on"],
    [{ enforcePvCpuid: true }, "host"], // registered but not advertised
    [{}, "host"],
  ];
  for (const [options, cpu] of cases) {
    const r = run((c) => c.hypercall(HC, 0x1000n, 1n, 0n), options, () => 0n, cpu);
    assertEquals([cpu, r.out, r.exits.length], [cpu, 0n, 1]);
  }
});

Deno.test("MAP_GPA_RANGE at CPL 3 → -KVM_EPERM with no exit (backend check)", () => {
  const r = run((cpu) => {
    cpu.cpl = 3;
    return cpu.hypercall(HC, 0x1000n, 1n, 0n);
  });
  assertEquals([r.out, r.exits.length], [hypercallError(KVM_EPERM, true), 0]);
});

Deno.test("without the plugin registered, hypercall 12 is unknown to the model: -1000", () => {
  const r = run((cpu) => cpu.hypercall(HC, 0x1000n, 1n, 0n), {}, () => 0n, "host", []);
  assertEquals([r.out, r.exits.length], [hypercallError(KVM_ENOSYS, true), 0]);
});
