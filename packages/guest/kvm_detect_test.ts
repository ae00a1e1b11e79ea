import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  detectKvm,
  kvmCpuidBase,
  kvmParaAvailable,
  kvmParaHasFeature,
  kvmParaHasHint,
} from "./kvm_detect.ts";
import { ScriptedGuestCpu } from "./scripted_guest_cpu.ts";
import { bits, fakeCpu, info, kvmCpuid } from "./_fake_cpu.ts";

Deno.test("detectKvm: no CPUID.1:ECX[31] means no scan and no KVM", () => {
  const cpu = fakeCpu({ hypervisor: false });
  assertEquals(detectKvm(cpu, { possibleCpus: 2 }), undefined);
  const leaves = cpu.log.flatMap((e) => e.kind === "cpuid" ? [e.leaf] : []);
  assertEquals(leaves, [1]); // never looked at 0x40000000
});

Deno.test("detectKvm: reads features at base|1 and hints from EDX", () => {
  const cpu = fakeCpu({ features: 0x01007efb, hints: 1 });
  assertEquals(detectKvm(cpu, { possibleCpus: 3 }), {
    base: 0x40000000,
    maxLeaf: 0x40000001,
    features: 0x01007efb,
    hints: 1,
    possibleCpus: 3,
    mwait: false,
  });
});

Deno.test("kvmCpuidBase: KVM behind Hyper-V at 0x40000100, and at the last base 0x4000FF00", () => {
  for (const base of [0x40000100, 0x40001000, 0x4000ff00]) {
    const cpuid = kvmCpuid({ base, features: bits(3) });
    // Something else (Hyper-V's "Microsoft Hv") at the first base.
    cpuid.set(0x40000000, { eax: 0x4000000a, ebx: 0x7263694d, ecx: 0x666f736f, edx: 0x76482074 });
    const cpu = new ScriptedGuestCpu({ cpuid });
    assertEquals(kvmCpuidBase(cpu), base);
    const got = detectKvm(cpu, { possibleCpus: 1 });
    assertEquals(got?.base, base);
    assertEquals(got?.features, bits(3));
    // The feature leaf is base | 1.
    assertEquals(cpu.log.some((e) => e.kind === "cpuid" && e.leaf === base + 1), true);
  }
});

Deno.test("kvmCpuidBase: scans all 256 bases and gives up without the signature", () => {
  const cpu = new ScriptedGuestCpu({
    cpuid: new Map([[1, { eax: 0, ebx: 0, ecx: 1 << 31, edx: 0 }]]),
  });
  assertEquals(kvmCpuidBase(cpu), undefined);
  const probed = cpu.log.flatMap((e) => e.kind === "cpuid" && e.leaf !== 1 ? [e.leaf] : []);
  assertEquals(probed.length, 256);
  assertEquals(probed[0], 0x40000000);
  assertEquals(probed.at(-1), 0x4000ff00);
});

Deno.test("kvmCpuidBase: a partial signature does not match", () => {
  const cpuid = kvmCpuid();
  cpuid.set(0x40000000, { eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4e });
  assertEquals(kvmCpuidBase(new ScriptedGuestCpu({ cpuid })), undefined);
});

Deno.test("detectKvm: an old host's EAX = 0 at the base means max leaf base + 1", () => {
  assertEquals(detectKvm(fakeCpu({ maxLeaf: 0 }), { possibleCpus: 1 })?.maxLeaf, 0x40000001);
  const at100 = fakeCpu({ base: 0x40000100, maxLeaf: 0 });
  assertEquals(detectKvm(at100, { possibleCpus: 1 })?.maxLeaf, 0x40000101);
  assertEquals(
    detectKvm(fakeCpu({ maxLeaf: 0x40000010 }), { possibleCpus: 1 })?.maxLeaf,
    0x40000010,
  );
});

Deno.test("detectKvm: MWAIT comes from CPUID.1:ECX[3] unless the caller says", () => {
  assertEquals(detectKvm(fakeCpu({ mwait: true }), { possibleCpus: 2 })?.mwait, true);
  assertEquals(detectKvm(fakeCpu({ mwait: false }), { possibleCpus: 2 })?.mwait, false);
  assertEquals(
    detectKvm(fakeCpu({ mwait: true }), { possibleCpus: 2, mwait: false })?.mwait,
    false,
  );
});

Deno.test("detectKvm: possibleCpus must be a positive integer", () => {
  for (const n of [0, -1, 1.5, NaN]) {
    const e = assertThrows(() => detectKvm(fakeCpu(), { possibleCpus: n }), PvkitError);
    assertEquals(e.code, "invalid-possible-cpus");
  }
});

Deno.test("kvmParaHasFeature / kvmParaHasHint: every bit, including bit 31", () => {
  for (let b = 0; b < 32; b++) {
    const i = info(bits(b), { hints: bits(b) });
    for (let q = 0; q < 32; q++) {
      assertEquals(kvmParaHasFeature(i, q), q === b);
      assertEquals(kvmParaHasHint(i, q), q === b);
    }
  }
  assertEquals(kvmParaHasFeature(undefined, 0), false);
  assertEquals(kvmParaHasHint(undefined, 0), false);
  assertEquals(kvmParaAvailable(undefined), false);
  assertEquals(kvmParaAvailable(info(0)), true);
});
