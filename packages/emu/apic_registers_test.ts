import { assertEquals } from "@std/assert";
import { parseProbe } from "@pvkit/probe";
import { EmuProbeBackend } from "./probe_backend.ts";

const backend = new EmuProbeBackend();
const run = (steps: unknown[], smp = 1) =>
  backend.runSync(
    parseProbe({
      name: "t",
      machine: {},
      vcpus: [{ steps }, ...Array.from({ length: smp - 1 }, () => ({ steps: [] }))],
    }),
  ).vcpus[0].results;

Deno.test("APIC base: KVM's reset value, x2APIC transitions (kvm_set_apic_base)", () => {
  assertEquals(
    run([
      { op: "rdmsr", msr: "0x1b" },
      { op: "wrmsr", msr: "0x1b", value: "0xfee00500" }, // x2APIC without enable
      { op: "wrmsr", msr: "0x1b", value: "0xfee00901" }, // reserved bit 0
      { op: "wrmsr", msr: "0x1b", value: "0xfee00d00" },
      { op: "wrmsr", msr: "0x1b", value: "0xfee00900" }, // x2APIC → xAPIC
      { op: "wrmsr", msr: "0x1b", value: "0xfee00100" }, // → disabled is allowed
      { op: "wrmsr", msr: "0x1b", value: "0xfee00d00" }, // disabled → x2APIC is not
    ]),
    [
      { op: "rdmsr", value: 0xfee00900n },
      { op: "wrmsr", fault: "GP" },
      { op: "wrmsr", fault: "GP" },
      { op: "wrmsr" },
      { op: "wrmsr", fault: "GP" },
      { op: "wrmsr" },
      { op: "wrmsr", fault: "GP" },
    ],
  );
});

Deno.test("APIC registers: MSRs only in x2APIC mode, MMIO only in xAPIC mode (LAPIC_MMIO_HOLE)", () => {
  assertEquals(
    run([
      { op: "apic-read", reg: "0xf0" },
      { op: "apic-read", reg: "0xf0", via: "mmio" },
      { op: "apic-write", reg: "0xf0", via: "mmio", value: "0x1ff" },
      { op: "apic-read", reg: "0x30", via: "mmio" },
      { op: "wrmsr", msr: "0x1b", value: "0xfee00d00" },
      { op: "apic-read", reg: "0xf0" },
      { op: "apic-read", reg: "0xf0", via: "mmio" },
      { op: "wrmsr", msr: "0x808", value: "0x100000000" }, // bits 63:32 of the TPR
    ]),
    [
      { op: "apic-read", fault: "GP" },
      { op: "apic-read", value: 0xffn },
      { op: "apic-write" },
      { op: "apic-read", value: 0x50014n },
      { op: "wrmsr" },
      { op: "apic-read", value: 0x1ffn },
      { op: "apic-read", value: 0xffffffffn },
      { op: "wrmsr", fault: "GP" },
    ],
  );
});

Deno.test("INIT keeps IA32_APIC_BASE, RESET restores it; both reset SVR and TPR (kvm_lapic_reset)", () => {
  const r = run([
    { op: "wrmsr", msr: "0x1b", value: "0xfee00d00" },
    { op: "apic-write", reg: "0xf0", value: "0x1ff" },
    { op: "apic-write", reg: "0x80", value: "0x30" },
    { op: "init" },
    { op: "rdmsr", msr: "0x1b" },
    { op: "apic-read", reg: "0xf0" },
    { op: "apic-read", reg: "0x80" },
    { op: "reset" },
    { op: "rdmsr", msr: "0x1b" },
    { op: "apic-read", reg: "0xf0", via: "mmio" },
  ]);
  assertEquals(r.slice(4), [
    { op: "rdmsr", value: 0xfee00d00n },
    { op: "apic-read", value: 0xffn },
    { op: "apic-read", value: 0n },
    { op: "reset" },
    { op: "rdmsr", value: 0xfee00900n },
    { op: "apic-read", value: 0xffn },
  ]);
});

Deno.test("hypercall insn: the site reads the host's native instruction; 32-bit callers truncated", () => {
  const steps = [
    { op: "hypercall", nr: 99, insn: "vmmcall" },
    { op: "hypercall", nr: "0x100000001", mode: "32" },
    { op: "hypercall", nr: "0x100000001" },
  ];
  assertEquals(run(steps), [
    { op: "hypercall", ret: (1n << 64n) - 1000n, site: "vmcall" },
    { op: "hypercall", ret: 0n, site: "vmcall" },
    { op: "hypercall", ret: (1n << 64n) - 1000n, site: "vmcall" },
  ]);
  const amd = new EmuProbeBackend({ hypercallInsn: "vmmcall" }).runSync(
    parseProbe({ name: "t", machine: {}, vcpus: [{ steps: [steps[0]] }] }),
  );
  assertEquals(amd.vcpus[0].results, [{
    op: "hypercall",
    ret: (1n << 64n) - 1000n,
    site: "vmmcall",
  }]);
});

Deno.test("INIT disables kvmclock and steal time (kvm_vcpu_reset)", () => {
  assertEquals(
    run([
      { op: "wrmsr", msr: "0x4b564d01", value: "0x2001" },
      { op: "wrmsr", msr: "0x4b564d03", value: "0x40001" },
      { op: "init" },
      { op: "rdmsr", msr: "0x4b564d01" },
      { op: "rdmsr", msr: "0x4b564d03" },
    ]).slice(3),
    [{ op: "rdmsr", value: 0n }, { op: "rdmsr", value: 0n }],
  );
});
