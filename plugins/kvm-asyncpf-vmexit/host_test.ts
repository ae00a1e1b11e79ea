// kvm-asyncpf-vmexit has no host code of its own: CPUID bit 10 only gates ASYNC_PF_EN bit 2
// (DELIVERY_AS_PF_VMEXIT), which kvm-asyncpf's MSR handler checks (one MSR, one handler). These
// tests drive that check through a machine (Documentation/virt/kvm/x86/msr.rst ASYNC_PF_EN, §7).
import { assertEquals } from "@std/assert";
import {
  KVM_ASYNC_PF_DELIVERY_AS_INT,
  KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT,
  KVM_ASYNC_PF_ENABLED,
  KVM_FEATURE_ASYNC_PF_VMEXIT,
  MSR_KVM_ASYNC_PF_EN,
} from "@pvkit/abi";
import type { MsrInitiator } from "@pvkit/machine";
import { EmuMachine, type EmuOptions } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { kvmAsyncpfVmexit } from "./mod.ts";

const MACHINE = { cpu: "host", machine: "q35,kernel-irqchip=split", host: "linux-6.12", smp: 1 };
const AREA = 0x5000n;
const WITH_B2 = AREA | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT |
  KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT;
const WITHOUT_B2 = AREA | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT;

const withoutBit10 = (): number =>
  (Number(compose(MACHINE).leaves["0x40000001"].eax) & ~(1 << KVM_FEATURE_ASYNC_PF_VMEXIT)) >>> 0;

function write(options: EmuOptions, by: MsrInitiator, value: bigint): "ok" | "gp" {
  const vm = EmuMachine.create(compose(MACHINE), options);
  if (by === "host") return vm.setMsr(0, MSR_KVM_ASYNC_PF_EN, value) === 1 ? "ok" : "gp";
  let result: "ok" | "gp" = "gp";
  vm.run([function* (cpu) {
    result = cpu.wrmsr(MSR_KVM_ASYNC_PF_EN, value).kind;
    yield { kind: "yield" };
  }]);
  return result;
}

Deno.test("the plugin adds no hooks: ASYNC_PF_EN belongs to kvm-asyncpf", () => {
  assertEquals(kvmAsyncpfVmexit.createHooks, undefined);
  assertEquals(kvmAsyncpfVmexit.manifest.cpuid.bits, [KVM_FEATURE_ASYNC_PF_VMEXIT]);
});

Deno.test("ASYNC_PF_EN bit 2 needs guest_pv_has(10) (spec §2, §7)", async (t) => {
  const cases: { name: string; options: EmuOptions; b2: "ok" | "gp" }[] = [
    { name: "enforcement off", options: {}, b2: "ok" },
    {
      name: "enforcement off, bit 10 absent from CPUID",
      options: { cpuid: [{ leaf: 0x40000001, eax: withoutBit10() }] },
      b2: "ok",
    },
    { name: "enforcement on, bit 10 advertised", options: { enforcePvCpuid: true }, b2: "ok" },
    {
      name: "enforcement on, bit 10 absent",
      options: { enforcePvCpuid: true, cpuid: [{ leaf: 0x40000001, eax: withoutBit10() }] },
      b2: "gp",
    },
  ];
  for (const { name, options, b2 } of cases) {
    for (const by of ["guest", "host"] as const) {
      await t.step(`${name}, ${by}`, () => {
        assertEquals(write(options, by, WITH_B2), b2);
        assertEquals(write(options, by, WITHOUT_B2), "ok");
      });
    }
  }
});
