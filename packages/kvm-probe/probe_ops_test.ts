// The probe ops of issue 9 on KVM (hypercall insn and site, 32-bit callers, APIC registers,
// INIT and RESET), each against the emulated backend's answer for the same probe.
import { kvmTest } from "@pvkit/kvm/testing";
import { hostTimeScale } from "@pvkit/kvm";
import { assertEquals } from "@std/assert";
import { EmuProbeBackend } from "@pvkit/emu";
import { loadProbeFile, type Probe, type StepResult } from "@pvkit/probe";
import { optionalPlugins } from "@pvkit/pvkit";
import { KvmProbeBackend, nativeHypercallInsn } from "./mod.ts";

const CONFORMANCE = new URL("../../tests/conformance/", import.meta.url);
const load = (name: string): Promise<Probe> => loadProbeFile(new URL(name, CONFORMANCE).pathname);

async function bothBackends(probe: Probe): Promise<[StepResult[][], StepResult[][]]> {
  const kvm = await new KvmProbeBackend({ plugins: optionalPlugins })
    .run(probe, { timeoutMs: 5000 * hostTimeScale() });
  const emu = await new EmuProbeBackend({ hypercallInsn: nativeHypercallInsn() }).run(probe);
  return [kvm.vcpus.map((v) => v.results), emu.vcpus.map((v) => v.results)];
}

kvmTest(
  "hypercall insn on KVM: both instructions return, the site holds the native one",
  async () => {
    const [kvm, emu] = await bothBackends(await load("kut-hypercall.json"));
    const native = nativeHypercallInsn();
    const M = 1n << 64n;
    assertEquals(kvm[0].slice(0, 3), [
      { op: "hypercall", ret: M - 1000n, site: native },
      { op: "hypercall", ret: M - 1000n, site: native },
      { op: "hypercall", ret: M - 1000n, site: native },
    ]);
    // 32-bit callers: nr 0x100000001 is VAPIC_POLL_IRQ (0), RAX comes back truncated.
    assertEquals(kvm[0].slice(3).map((r) => "ret" in r ? r.ret : r), [
      M - 1000n,
      0n,
      0xfffffc18n,
      0n,
    ]);
    assertEquals(kvm, emu);
  },
);

kvmTest("APIC registers, INIT and RESET on KVM answer as the emulated backend", async () => {
  const [kvm, emu] = await bothBackends(await load("apic-registers.json"));
  const cpuidStep = kvm[0].length - 1; // the host's CPUID leaf 1 is compared by its mask only
  assertEquals(kvm[0].slice(0, cpuidStep), emu[0].slice(0, cpuidStep));
  assertEquals(kvm[0][0], { op: "rdmsr", value: 0xfee00900n });
  assertEquals(kvm[0][3], { op: "apic-read", fault: "GP" });
});

kvmTest("INIT and RESET on KVM disable kvmclock and keep POLL_CONTROL", async () => {
  const [kvm, emu] = await bothBackends(await load("kut-kvmclock.json"));
  const at = (i: number) => kvm[0][i];
  assertEquals([at(8), at(11), at(12)], [
    { op: "rdmsr", value: 0n },
    { op: "rdmsr", value: 0n },
    { op: "rdmsr", value: 1n },
  ]);
  assertEquals([emu[0][8], emu[0][11], emu[0][12]], [at(8), at(11), at(12)]);
});
