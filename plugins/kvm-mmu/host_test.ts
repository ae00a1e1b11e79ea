import { assertEquals } from "@std/assert";
import { hypercallError, KVM_ENOSYS, KVM_EPERM, KVM_HC_MMU_OP } from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { createKvmMmuHooks } from "./mod.ts";

const HC = BigInt(KVM_HC_MMU_OP);

function onVcpu0<T>(
  body: (cpu: EmuVcpu) => T,
  options: EmuOptions = {},
  cpu = "host",
): { out: T; vm: EmuMachine } {
  const vm = EmuMachine.create(
    compose({ cpu, machine: "q35,kernel-irqchip=split", smp: 1, host: "linux-6.12" }),
    options,
  );
  let out: T | undefined;
  vm.run([function* (c) {
    out = body(c);
    yield { kind: "yield" };
  }]);
  return { out: out!, vm };
}

Deno.test("MMU_OP is hooked explicitly (visible in the dispatch table)", () => {
  const { vm } = onVcpu0(() => 0);
  assertEquals(vm.hooks.hypercalls.has(KVM_HC_MMU_OP), true);
});

Deno.test("MMU_OP returns -KVM_ENOSYS whatever the arguments (§5 table)", () => {
  const { out, vm } = onVcpu0((cpu) => [cpu.hypercall(HC), cpu.hypercall(HC, 1n, 2n, 3n, 4n)]);
  assertEquals(out, [hypercallError(KVM_ENOSYS, true), hypercallError(KVM_ENOSYS, true)]);
  assertEquals(vm.vcpu(0).exits.hypercall, 2);
});

Deno.test("MMU_OP is -KVM_ENOSYS with enforcement on or off, bit 2 shown or hidden", () => {
  const cases: [EmuOptions, string][] = [
    [{}, "host"],
    [{ enforcePvCpuid: true }, "host"],
    [{ enforcePvCpuid: true, cpuid: [{ leaf: 0x40000001, eax: 0 }] }, "host"],
    [{ enforcePvCpuid: true, cpuid: [{ leaf: 0x40000001, eax: 1 << 2 }] }, "host"],
    [{ cpuid: [{ leaf: 0x40000001, eax: 1 << 2 }] }, "host"],
  ];
  for (const [options, cpu] of cases) {
    assertEquals(onVcpu0((c) => c.hypercall(HC), options, cpu).out, 0xffff_ffff_ffff_fc18n);
  }
});

Deno.test("MMU_OP at CPL 3 is -KVM_EPERM; from a 32-bit caller -1000 reads 0xfffffc18", () => {
  const cpl3 = onVcpu0((cpu) => {
    cpu.cpl = 3;
    return cpu.hypercall(HC);
  });
  assertEquals(cpl3.out, hypercallError(KVM_EPERM, true));
  const legacy = onVcpu0((cpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC | (0xffn << 32n)); // the upper half of RAX is dropped: still nr 2
  });
  assertEquals(legacy.out, 0xffff_fc18n);
});

Deno.test("kvm-mmu adds no MSRs and nothing but hypercall 2", () => {
  const { vm } = onVcpu0(() => 0);
  const hooks = createKvmMmuHooks({ vm, isEnabled: () => true });
  assertEquals(Object.keys(hooks), ["hypercalls"]);
  assertEquals(hooks.hypercalls?.map((h) => h.nr), [KVM_HC_MMU_OP]);
});
