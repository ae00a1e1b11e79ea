/**
 * Compiling one vCPU's probe steps into 64-bit guest code ({@linkcode compileVcpu}), the shared
 * exception/interrupt handlers ({@linkcode compileRuntime}), the guest-memory layout they use
 * ({@linkcode probeLayout}), and turning the results area back into
 * {@linkcode StepResult}s ({@linkcode decodeResults}).
 *
 * Conventions of the generated code:
 *
 * - R15 holds the vCPU's control block ({@linkcode ProbeLayout.control}): +0 the fault flag
 *   (the vector of the last #GP/#UD), +8 the vector of an unexpected exception, +0x100 one
 *   byte per interrupt vector (set by the vector's handler, cleared by `wait-irq`), +0x200 the
 *   "preempt done" flag the host sets.
 * - #GP (13) records 13 in the fault flag, drops the error code, adds 2 (RDMSR/WRMSR) to the
 *   saved RIP and returns; #UD (6) records 6 and adds 3 (VMCALL/VMMCALL); an NMI (2) returns.
 *   Any other exception reports its vector on {@linkcode KVM_PROBE_PORTS.fault} and stops.
 * - Each step writes a 32-byte record to the results area: a status word
 *   ({@linkcode RESULT_STATUS}), then up to three u64 values (CPUID: EAX|EBX<<32, ECX|EDX<<32).
 * - The program ends with an `out` to {@linkcode KVM_PROBE_PORTS.done}.
 *
 * @module
 */

import type { GuestMemory } from "@pvkit/machine";
import type { Probe, Step, StepResult } from "@pvkit/probe";
import type { AssembledCode } from "@pvkit/kvm";
import { Assembler, BOOT_GDT_ENTRIES, encodeGdtEntry } from "@pvkit/x86";
import { x2apicMsr, XAPIC_BASE_GPA } from "@pvkit/probe";

/**
 * The I/O ports the generated code uses to talk to the backend (chosen outside the ports
 * probes use, e.g. 0xf4).
 *
 * @example
 * ```ts
 * import { KVM_PROBE_PORTS } from "@pvkit/kvm-probe";
 * console.log(KVM_PROBE_PORTS.done.toString(16)); // "510"
 * ```
 */
export const KVM_PROBE_PORTS: {
  readonly done: number;
  readonly fault: number;
  readonly preempt: number;
  readonly reset: number;
} = Object.freeze({ done: 0x510, fault: 0x511, preempt: 0x512, reset: 0x513 });

/**
 * The selectors of the probe GDT ({@linkcode probeGdt}): the boot GDT's 64-bit code, data and
 * TSS, and a 32-bit code segment for compatibility-mode hypercalls (`mode: "32"`).
 *
 * @example
 * ```ts
 * import { PROBE_SELECTORS } from "@pvkit/kvm-probe";
 * console.log(PROBE_SELECTORS.code32); // 32
 * ```
 */
export const PROBE_SELECTORS: { readonly code64: 0x08; readonly code32: 0x20 } = Object.freeze({
  code64: 0x08,
  code32: 0x20,
});

/**
 * The probe GDT: the boot GDT's entries plus a flat 32-bit code segment at
 * {@linkcode PROBE_SELECTORS}`.code32` (a vCPU running there in long mode is in compatibility
 * mode, where KVM truncates hypercall registers to 32 bits: is_64_bit_hypercall).
 *
 * @example
 * ```ts
 * import { probeGdt } from "@pvkit/kvm-probe";
 * console.log(probeGdt().length); // 5
 * ```
 */
export function probeGdt(): bigint[] {
  return [...BOOT_GDT_ENTRIES, encodeGdtEntry(0xc09b, 0, 0xfffff)];
}

/**
 * The status word at the start of each step's result record.
 *
 * @example
 * ```ts
 * import { RESULT_STATUS } from "@pvkit/kvm-probe";
 * console.log(RESULT_STATUS.gp); // 2
 * ```
 */
export const RESULT_STATUS: {
  readonly notRun: 0;
  readonly ok: 1;
  readonly gp: 2;
  readonly ud: 3;
  readonly irqTimeout: 4;
  readonly unexpectedFault: 5;
} = Object.freeze({ notRun: 0, ok: 1, gp: 2, ud: 3, irqTimeout: 4, unexpectedFault: 5 });

/** Bytes per step in the results area. */
export const RESULT_RECORD_SIZE = 32;

/** The most vCPUs the layout has room for. */
export const MAX_PROBE_VCPUS = 8;

const MAX_STEPS = 0x10000 / RESULT_RECORD_SIZE;
const CTRL_FAULT = 0;
const CTRL_UNEXPECTED = 8;
const CTRL_IRQ = 0x100;
const CTRL_PREEMPT = 0x200;
const MSR_X2APIC_ICR = 0x830;
const MSR_X2APIC_EOI = 0x80b;
const MSR_X2APIC_SVR = 0x80f;
const MSR_APIC_BASE = 0x1b;
const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

/**
 * Where the probe machinery lives in guest RAM: the top megabyte below min(memory, 1 GiB)
 * (the identity map covers the first GiB), so the low addresses stay free for the probe's own
 * records (e.g. steal time at 1 MiB, kvmclock at 4 KiB).
 *
 * @example
 * ```ts
 * import { probeLayout } from "@pvkit/kvm-probe";
 * const l = probeLayout(16 << 20);
 * console.log(l.base.toString(16), l.code(1).toString(16)); // "f00000" "f90000"
 * ```
 */
export interface ProbeLayout {
  /** The first byte of the region. */
  readonly base: bigint;
  /** The shared exception and interrupt handlers. */
  readonly runtime: bigint;
  /** Barrier counters, 8 bytes each. */
  readonly barriers: bigint;
  /** vCPU `v`'s control block (R15). */
  control(v: number): bigint;
  /** vCPU `v`'s initial stack pointer. */
  stackTop(v: number): bigint;
  /** vCPU `v`'s results area. */
  results(v: number): bigint;
  /** vCPU `v`'s code. */
  code(v: number): bigint;
  /** The probe GDT ({@linkcode probeGdt}), its GDTR image 0x100 bytes above. */
  readonly gdt: bigint;
  /** The page directory that maps the xAPIC page (PDPT[3]: 3-4 GiB). */
  readonly apicPageDirectory: bigint;
}

/**
 * The layout for a guest of `memory` bytes (at least 2 MiB).
 *
 * @example
 * ```ts
 * import { probeLayout } from "@pvkit/kvm-probe";
 * console.log(probeLayout(16 << 20).results(0).toString(16)); // "f40000"
 * ```
 */
export function probeLayout(memory: number): ProbeLayout {
  if (memory < 2 << 20) throw new RangeError(`the KVM probe backend needs 2 MiB of RAM or more`);
  const base = BigInt(Math.min(memory, 1 << 30) - (1 << 20));
  return {
    base,
    runtime: base,
    barriers: base + 0x1000n,
    control: (v) => base + 0x2000n + BigInt(v) * 0x1000n,
    stackTop: (v) => base + 0x20000n + BigInt(v + 1) * 0x4000n - 0x10n,
    results: (v) => base + 0x40000n + BigInt(v) * 0x8000n,
    code: (v) => base + 0x80000n + BigInt(v) * 0x10000n,
    gdt: base + 0x10000n,
    apicPageDirectory: base + 0x11000n,
  };
}

/**
 * The shared handlers and the IDT gates pointing at them.
 *
 * @example
 * ```ts
 * import { compileRuntime, probeLayout } from "@pvkit/kvm-probe";
 * const rt = compileRuntime(probeLayout(16 << 20), [0xec]);
 * console.log(Object.keys(rt.idt).length); // 33
 * ```
 */
export interface CompiledRuntime {
  /** The handlers' code (load it at its origin). */
  readonly code: AssembledCode;
  /** Handler addresses by vector, for `setupLongMode`'s `idt`. */
  readonly idt: Record<number, bigint>;
}

/**
 * Assembles the exception handlers (vectors 0-31) and one handler per interrupt vector in
 * `irqVectors` (each sets its byte in the control block and returns; no EOI).
 *
 * @example
 * ```ts
 * import { compileRuntime, probeLayout } from "@pvkit/kvm-probe";
 * const rt = compileRuntime(probeLayout(16 << 20), []);
 * console.log(rt.idt[13] === rt.code.addressOf("gp")); // true
 * ```
 */
export function compileRuntime(
  layout: ProbeLayout,
  irqVectors: readonly number[],
): CompiledRuntime {
  const a = new Assembler(layout.runtime);
  const idt: Record<number, bigint> = {};
  // #GP from RDMSR/WRMSR: record, skip the 2-byte instruction.
  a.label("gp").add("rsp", 8).push("rax")
    .movLoad("rax", { base: "rsp", disp: 8 }).add("rax", 2).movStore(
      { base: "rsp", disp: 8 },
      "rax",
    )
    .movStoreImm({ base: "r15", disp: CTRL_FAULT }, 13, 64).pop("rax").iretq();
  // #UD from VMCALL/VMMCALL: record, skip the 3-byte instruction.
  a.label("ud").push("rax")
    .movLoad("rax", { base: "rsp", disp: 8 }).add("rax", 3).movStore(
      { base: "rsp", disp: 8 },
      "rax",
    )
    .movStoreImm({ base: "r15", disp: CTRL_FAULT }, 6, 64).pop("rax").iretq();
  // NMI (an NMI IPI, e.g. from SEND_IPI): taken and ignored, as the emulated guest does.
  a.label("nmi").iretq();
  for (let v = 0; v < 32; v++) {
    if (v === 2 || v === 6 || v === 13) continue;
    const l = `exc${v}`;
    a.label(l);
    if (ERROR_CODE_VECTORS.has(v)) a.add("rsp", 8);
    a.movStoreImm({ base: "r15", disp: CTRL_UNEXPECTED }, v, 64)
      .movImm("dx", KVM_PROBE_PORTS.fault).movImm("eax", v).out("dx", "eax")
      .label(`${l}_stop`).jmp(`${l}_stop`);
    idt[v] = a.addressOf(l);
  }
  for (const v of new Set(irqVectors)) {
    if (v < 32 || v > 255) continue;
    const l = `irq${v}`;
    a.label(l).movStoreImm({ base: "r15", disp: CTRL_IRQ + v }, 1, 8).iretq();
    idt[v] = a.addressOf(l);
  }
  idt[2] = a.addressOf("nmi");
  idt[6] = a.addressOf("ud");
  idt[13] = a.addressOf("gp");
  return { code: a, idt };
}

/** The instruction the host uses for hypercalls, or none when they cannot run. */
export type HypercallInsn = "vmcall" | "vmmcall";

/**
 * What {@linkcode compileVcpu} needs to know about the machine.
 *
 * @example
 * ```ts
 * import type { CompileOptions } from "@pvkit/kvm-probe";
 * const o: Partial<CompileOptions> = { hypercall: "vmmcall", tscKhz: 2_600_000 };
 * console.log(o.tscKhz);
 * ```
 */
export interface CompileOptions {
  /** The layout ({@linkcode probeLayout}). */
  readonly layout: ProbeLayout;
  /** VMCALL or VMMCALL; a string reason when hypercalls are compiled out. */
  readonly hypercall: HypercallInsn | { readonly unavailable: string };
  /** The vCPU's TSC frequency (for `spin` and `wait-irq`). */
  readonly tscKhz: number;
  /** True when the VM has an in-kernel local APIC (irqchip on or split). */
  readonly lapic: boolean;
  /** Enable x2APIC and software-enable the local APIC at entry (the probe uses interrupts). */
  readonly enableApic: boolean;
  /** Barrier counters: GPA and the number of vCPUs that meet there, by barrier id. */
  readonly barriers: ReadonlyMap<string, { readonly gpa: bigint; readonly count: number }>;
}

/**
 * One vCPU's compiled program.
 *
 * @example
 * ```ts
 * import type { CompiledVcpu } from "@pvkit/kvm-probe";
 * const show = (c: CompiledVcpu) => `${c.skipped.size} steps compiled out`;
 * console.log(typeof show);
 * ```
 */
export interface CompiledVcpu {
  /** The code (entry at its origin). */
  readonly code: AssembledCode;
  /** The vCPU's control block (R15). */
  readonly control: bigint;
  /** The results area (one {@linkcode RESULT_RECORD_SIZE}-byte record per step). */
  readonly results: bigint;
  /** The initial stack pointer. */
  readonly stackTop: bigint;
  /** Steps that are not executed, with the reason (they become `{skipped}` results). */
  readonly skipped: ReadonlyMap<number, string>;
  /** The address of each hypercall step's instruction, by step index (read back after the run). */
  readonly sites: ReadonlyMap<number, bigint>;
}

function rdtscToRax(a: Assembler): Assembler {
  return a.rdtsc().shl("rdx", 32).or("rax", "rdx");
}

/**
 * Why a step cannot be compiled with these options, or undefined when it can.
 *
 * @example
 * ```ts
 * import { probeLayout, unsupportedReason } from "@pvkit/kvm-probe";
 * const why = unsupportedReason({ op: "hypercall", nr: 5n, args: [0n, 0n, 0n, 0n], mode: "32", cpl: 0 }, {
 *   layout: probeLayout(16 << 20), hypercall: "vmmcall", tscKhz: 2_600_000, lapic: true,
 *   enableApic: false, barriers: new Map(),
 * });
 * console.log(why);
 * ```
 */
export function unsupportedReason(step: Step, options: CompileOptions): string | undefined {
  switch (step.op) {
    case "rdmsr":
    case "wrmsr":
      return step.cpl !== 0
        ? `${step.op} at CPL ${step.cpl}: the KVM backend runs probe code at CPL 0 only`
        : undefined;
    case "hypercall":
      if (typeof options.hypercall === "object") return options.hypercall.unavailable;
      if (step.cpl !== 0) {
        return `hypercall at CPL ${step.cpl}: the KVM backend runs probe code at CPL 0 only`;
      }
      return undefined;
    case "sendIpi":
    case "wait-irq":
    case "eoi":
      return options.lapic
        ? undefined
        : `${step.op} needs an in-kernel local APIC (kernel-irqchip=on or split); this machine has none`;
    case "apic-read":
    case "apic-write":
    case "init":
    case "reset":
      return options.lapic
        ? undefined
        : `${step.op} needs an in-kernel local APIC (kernel-irqchip=on or split): the KVM backend ` +
          "sends INIT and reaches APIC registers through it; this machine has none";
    default:
      return undefined;
  }
}

/**
 * Compiles vCPU `index` of `probe` into 64-bit code at `layout.code(index)`.
 *
 * @example
 * ```ts
 * import { compileVcpu, probeLayout } from "@pvkit/kvm-probe";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "p", machine: {}, vcpus: [{ steps: [{ op: "rdtsc" }] }] });
 * const c = compileVcpu(probe, 0, {
 *   layout: probeLayout(probe.machine.memory), hypercall: "vmmcall", tscKhz: 2_600_000,
 *   lapic: true, enableApic: false, barriers: new Map(),
 * });
 * console.log(c.code.toChunk().bytes.length > 0, c.skipped.size); // true 0
 * ```
 */
export function compileVcpu(probe: Probe, index: number, options: CompileOptions): CompiledVcpu {
  const { layout } = options;
  const steps = probe.vcpus[index].steps;
  if (steps.length > MAX_STEPS) {
    throw new RangeError(`vCPU ${index} has ${steps.length} steps; at most ${MAX_STEPS} fit`);
  }
  const control = layout.control(index);
  const results = layout.results(index);
  const a = new Assembler(layout.code(index));
  const skipped = new Map<number, string>();
  a.movImm("r15", control);
  a.movStoreImm({ base: "r15", disp: CTRL_FAULT }, 0, 64);
  a.lgdt(layout.gdt + 0x100n); // the probe GDT, with a 32-bit code segment
  const sites = new Map<number, string>();
  if (options.enableApic && options.lapic) {
    // x2APIC on (APIC_BASE bits 10 and 11), then software-enable it (SVR bit 8).
    a.movImm("ecx", MSR_APIC_BASE).rdmsr().or("eax", 0xc00).wrmsr();
    a.movImm("ecx", MSR_X2APIC_SVR).movImm("eax", 0x1ff).movImm("edx", 0).wrmsr();
  }
  const tscPerNs = (ns: number): bigint => (BigInt(ns) * BigInt(options.tscKhz)) / 1_000_000n;

  steps.forEach((step, i) => {
    const why = unsupportedReason(step, options);
    if (why !== undefined) {
      skipped.set(i, why);
      return;
    }
    const rec = results + BigInt(i * RESULT_RECORD_SIZE);
    const status = (s: number): Assembler => a.movStoreImm({ disp: rec }, s, 64);
    const val = (n: number): { disp: bigint } => ({ disp: rec + BigInt(8 + n) });
    const clearFault = (): Assembler => a.movStoreImm({ base: "r15", disp: CTRL_FAULT }, 0, 64);
    // After an instruction that may fault: status `faultStatus` if it did, else run `ok`.
    const faultCheck = (faultStatus: number, ok: () => void): void => {
      const faulted = a.newLabel();
      const next = a.newLabel();
      a.movLoad("rbx", { base: "r15", disp: CTRL_FAULT }).test("rbx", "rbx").jnz(faulted);
      ok();
      a.jmp(next).label(faulted);
      status(faultStatus);
      a.label(next);
    };
    switch (step.op) {
      case "cpuid":
        a.movImm("eax", step.leaf).movImm("ecx", step.subleaf).cpuid()
          .movStore(val(0), "eax").movStore(val(4), "ebx")
          .movStore(val(8), "ecx").movStore(val(12), "edx");
        status(RESULT_STATUS.ok);
        break;
      case "rdmsr":
        clearFault().movImm("ecx", step.msr).rdmsr();
        faultCheck(RESULT_STATUS.gp, () => {
          a.movStore(val(0), "eax").movStore(val(4), "edx");
          status(RESULT_STATUS.ok);
        });
        break;
      case "wrmsr":
        clearFault().movImm("ecx", step.msr)
          .movImm("eax", step.value & 0xffff_ffffn).movImm("edx", step.value >> 32n).wrmsr();
        faultCheck(RESULT_STATUS.gp, () => status(RESULT_STATUS.ok));
        break;
      case "hypercall": {
        const insn = step.insn === "native" ? options.hypercall as HypercallInsn : step.insn;
        const site = `site${i}`;
        sites.set(i, site);
        // Full 64-bit registers, even for a 32-bit caller: KVM truncates them.
        clearFault().movImm("rax", step.nr).movImm("rbx", step.args[0])
          .movImm("rcx", step.args[1]).movImm("rdx", step.args[2]).movImm("rsi", step.args[3]);
        const back = a.newLabel();
        if (step.mode === "32") {
          // Far return into the 32-bit code segment: compatibility mode.
          a.push(PROBE_SELECTORS.code32).movImm("r8", `compat${i}`).push("r8").db(0x48, 0xcb);
          a.label(`compat${i}`);
        }
        a.label(site);
        if (insn === "vmcall") a.vmcall();
        else a.vmmcall();
        if (step.mode === "32") {
          // 32-bit code: push imm8 (selector), push imm32 (target), retf.
          a.db(0x6a, PROBE_SELECTORS.code64, 0x68).dd(back).db(0xcb);
        }
        a.label(back);
        faultCheck(RESULT_STATUS.ud, () => {
          a.movStore(val(0), "rax");
          status(RESULT_STATUS.ok);
        });
        break;
      }
      case "read": {
        a.movImm("rbx", step.gpa);
        const src = { base: "rbx" } as const;
        if (step.size === 1) a.movzxByte("eax", src);
        else if (step.size === 2) a.movzxWord("eax", src);
        else if (step.size === 4) a.movLoad("eax", src);
        else a.movLoad("rax", src);
        a.movStore(val(0), "rax");
        status(RESULT_STATUS.ok);
        break;
      }
      case "write": {
        a.movImm("rbx", step.gpa).movImm("rax", step.value);
        const reg = ({ 1: "al", 2: "ax", 4: "eax", 8: "rax" } as const)[step.size];
        a.movStore({ base: "rbx" }, reg);
        status(RESULT_STATUS.ok);
        break;
      }
      case "zero": {
        if (step.length > 0) {
          const loop = a.newLabel();
          a.movImm("rbx", step.gpa).movImm("rcx", step.length).label(loop)
            .movStoreImm({ base: "rbx" }, 0, 8).inc("rbx").dec("rcx").jnz(loop);
        }
        status(RESULT_STATUS.ok);
        break;
      }
      case "rdtsc":
        rdtscToRax(a).movStore(val(0), "rax");
        status(RESULT_STATUS.ok);
        break;
      case "spin": {
        const loop = a.newLabel();
        rdtscToRax(a).movRegReg("rbx", "rax").movImm("rcx", tscPerNs(step.ns)).add("rbx", "rcx");
        a.label(loop).pause();
        rdtscToRax(a).cmp("rax", "rbx").jb(loop);
        status(RESULT_STATUS.ok);
        break;
      }
      case "preempt": {
        // The host keeps this vCPU off its CPU while the guest spins on the "done" flag.
        const loop = a.newLabel();
        a.movStoreImm({ base: "r15", disp: CTRL_PREEMPT }, 0, 64)
          .movImm("dx", KVM_PROBE_PORTS.preempt).movImm("eax", i).out("dx", "eax")
          .label(loop).pause().movLoad("rbx", { base: "r15", disp: CTRL_PREEMPT })
          .test("rbx", "rbx").jz(loop);
        status(RESULT_STATUS.ok);
        break;
      }
      case "hlt":
        a.hlt();
        status(RESULT_STATUS.ok);
        break;
      case "out": {
        const reg = ({ 1: "al", 2: "ax", 4: "eax" } as const)[step.size];
        a.movImm("eax", step.value).movImm("dx", step.port).out("dx", reg);
        status(RESULT_STATUS.ok);
        break;
      }
      case "in": {
        a.movImm("eax", 0).movImm("dx", step.port);
        if (step.size === 1) a.in("al", "dx").movzxByte("eax", "al");
        else if (step.size === 2) a.in("ax", "dx").movzxWord("eax", "ax");
        else a.in("eax", "dx");
        a.movStore(val(0), "rax");
        status(RESULT_STATUS.ok);
        break;
      }
      case "barrier": {
        const b = options.barriers.get(step.id);
        if (b) {
          const loop = a.newLabel();
          a.movImm("rbx", b.gpa).movImm("eax", 1).lockXadd({ base: "rbx" }, "eax")
            .label(loop).pause().movLoad("eax", { base: "rbx" }).cmp("eax", b.count).jb(loop);
        }
        status(RESULT_STATUS.ok);
        break;
      }
      case "sti":
        a.sti();
        status(RESULT_STATUS.ok);
        break;
      case "cli":
        a.cli();
        status(RESULT_STATUS.ok);
        break;
      case "eoi":
        clearFault().movImm("ecx", MSR_X2APIC_EOI).movImm("eax", 0).movImm("edx", 0).wrmsr();
        faultCheck(RESULT_STATUS.unexpectedFault, () => status(RESULT_STATUS.ok));
        break;
      case "sendIpi":
        clearFault().movImm("ecx", MSR_X2APIC_ICR).movImm("eax", step.vector | 0x4000)
          .movImm("edx", step.apicId).wrmsr();
        faultCheck(RESULT_STATUS.unexpectedFault, () => status(RESULT_STATUS.ok));
        break;
      case "apic-read":
        if (step.via === "mmio") {
          a.movImm("rbx", XAPIC_BASE_GPA + BigInt(step.reg)).movLoad("eax", { base: "rbx" })
            .movStore(val(0), "rax");
          status(RESULT_STATUS.ok);
          break;
        }
        clearFault().movImm("ecx", x2apicMsr(step.reg)).rdmsr();
        faultCheck(RESULT_STATUS.gp, () => {
          a.movStore(val(0), "eax").movStore(val(4), "edx");
          status(RESULT_STATUS.ok);
        });
        break;
      case "apic-write":
        if (step.via === "mmio") {
          a.movImm("rbx", XAPIC_BASE_GPA + BigInt(step.reg)).movImm("eax", step.value)
            .movStore({ base: "rbx" }, "eax");
          status(RESULT_STATUS.ok);
          break;
        }
        clearFault().movImm("ecx", x2apicMsr(step.reg))
          .movImm("eax", step.value & 0xffff_ffffn).movImm("edx", step.value >> 32n).wrmsr();
        faultCheck(RESULT_STATUS.gp, () => status(RESULT_STATUS.ok));
        break;
      case "init":
      case "reset":
        // The host does it (KvmProbeBackend): EAX = step index << 1 | RESET; it resumes at
        // the NOP (which KVM's completion of the OUT may skip).
        a.movImm("dx", KVM_PROBE_PORTS.reset).movImm(
          "eax",
          (i << 1) | (step.op === "reset" ? 1 : 0),
        )
          .out("dx", "eax").nop();
        status(RESULT_STATUS.ok);
        break;
      case "wait-irq": {
        const loop = a.newLabel();
        const got = a.newLabel();
        const next = a.newLabel();
        const flag = { base: "r15", disp: CTRL_IRQ + step.vector } as const;
        rdtscToRax(a).movRegReg("rbx", "rax").movImm("rcx", tscPerNs(step.timeoutNs))
          .add("rbx", "rcx");
        a.label(loop).movzxByte("eax", flag).test("eax", "eax").jnz(got).pause();
        rdtscToRax(a).cmp("rax", "rbx").jb(loop);
        status(RESULT_STATUS.irqTimeout);
        a.jmp(next).label(got).movStoreImm(flag, 0, 8);
        status(RESULT_STATUS.ok);
        a.label(next);
        break;
      }
    }
  });
  const stop = a.newLabel();
  a.movImm("dx", KVM_PROBE_PORTS.done).out("dx", "al").label(stop).jmp(stop);
  const siteAddresses = new Map([...sites].map(([k, l]) => [k, a.addressOf(l)]));
  return {
    code: a,
    control,
    results,
    stackTop: layout.stackTop(index),
    skipped,
    sites: siteAddresses,
  };
}

/**
 * The steps' results as the guest left them, in the emulated backend's shapes: a result per
 * step up to the first one that did not run (`firstNotRun`, or `steps.length`). Compiled-out
 * steps are `{skipped}` with their reason.
 *
 * @example
 * ```ts
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { decodeResults } from "@pvkit/kvm-probe";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "p", machine: {}, vcpus: [{ steps: [{ op: "rdtsc" }] }] });
 * const mem = new ArrayGuestMemory(0x1000);
 * mem.writeU64(0n, 1n); mem.writeU64(8n, 42n);
 * console.log(decodeResults(mem, probe.vcpus[0].steps, 0n, new Map()));
 * // { results: [ { op: "rdtsc", value: 42n } ], firstNotRun: 1 }
 * ```
 */
export function decodeResults(
  memory: GuestMemory,
  steps: readonly Step[],
  resultsGpa: bigint,
  skipped: ReadonlyMap<number, string>,
  sites: ReadonlyMap<number, bigint> = new Map(),
): { results: StepResult[]; firstNotRun: number } {
  const results: StepResult[] = [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const why = skipped.get(i);
    if (why !== undefined) {
      results.push({ op: step.op, skipped: why });
      continue;
    }
    const rec = resultsGpa + BigInt(i * RESULT_RECORD_SIZE);
    const status = Number(memory.readU64(rec));
    if (status === RESULT_STATUS.notRun) return { results, firstNotRun: i };
    const v0 = memory.readU64(rec + 8n);
    const result = toResult(step, status, v0, memory.readU64(rec + 16n));
    const site = sites.get(i);
    results.push(
      site !== undefined && result.op === "hypercall" && "ret" in result
        ? { ...result, site: siteName(memory, site) }
        : result,
    );
  }
  return { results, firstNotRun: steps.length };
}

/** The 3 bytes at a hypercall site, named (KVM may have patched them: emulator_fix_hypercall). */
function siteName(memory: GuestMemory, gpa: bigint): string {
  const b = [0n, 1n, 2n].map((k) => memory.readU8(gpa + k));
  const hex = b.map((x) => x.toString(16).padStart(2, "0")).join("");
  return hex === "0f01c1" ? "vmcall" : hex === "0f01d9" ? "vmmcall" : hex;
}

function toResult(step: Step, status: number, v0: bigint, v1: bigint): StepResult {
  const M32 = 0xffff_ffffn;
  if (status === RESULT_STATUS.unexpectedFault) {
    return { op: step.op, skipped: `the guest took an unexpected #GP executing ${step.op}` };
  }
  switch (step.op) {
    case "cpuid":
      return { op: "cpuid", eax: v0 & M32, ebx: v0 >> 32n, ecx: v1 & M32, edx: v1 >> 32n };
    case "rdmsr":
      return status === RESULT_STATUS.gp
        ? { op: "rdmsr", fault: "GP" }
        : { op: "rdmsr", value: v0 };
    case "wrmsr":
      return status === RESULT_STATUS.gp ? { op: "wrmsr", fault: "GP" } : { op: "wrmsr" };
    case "hypercall":
      return status === RESULT_STATUS.ud
        ? { op: "hypercall", fault: "UD" }
        : { op: "hypercall", ret: v0 };
    case "read":
      return { op: "read", value: v0 };
    case "rdtsc":
      return { op: "rdtsc", value: v0 };
    case "in":
      return { op: "in", value: v0 };
    case "wait-irq":
      return { op: "wait-irq", timeout: status === RESULT_STATUS.irqTimeout };
    case "apic-read":
      return status === RESULT_STATUS.gp
        ? { op: "apic-read", fault: "GP" }
        : { op: "apic-read", value: v0 };
    case "apic-write":
      return status === RESULT_STATUS.gp ? { op: "apic-write", fault: "GP" } : { op: "apic-write" };
    default:
      return { op: step.op } as StepResult;
  }
}
