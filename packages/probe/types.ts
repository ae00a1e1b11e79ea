/**
 * The probe-program model: what a probe file says ({@linkcode Probe}), what a backend returns
 * for it ({@linkcode ProbeRun}), and the interface every backend implements
 * ({@linkcode ProbeBackend}).
 *
 * Register-sized values (MSR values, hypercall numbers and arguments, guest-physical
 * addresses, data read or written) are bigint; indices, sizes and times are numbers.
 *
 * @module
 */

/**
 * A raw CPUID override: registers the VMM forces on one leaf (and subleaf) before the vCPUs
 * run. Registers not named keep the value the machine would give.
 */
export interface CpuidOverride {
  /** The leaf (EAX input). */
  readonly leaf: number;
  /** The subleaf (ECX input), when the key named one (`"0x7.1"`); otherwise subleaf 0 or any. */
  readonly subleaf?: number;
  /** EAX to force, unsigned 32-bit. */
  readonly eax?: number;
  /** EBX to force, unsigned 32-bit. */
  readonly ebx?: number;
  /** ECX to force, unsigned 32-bit. */
  readonly ecx?: number;
  /** EDX to force, unsigned 32-bit. */
  readonly edx?: number;
}

/** The machine a probe runs on, with every default filled in. */
export interface ProbeMachine {
  /** The QEMU `-cpu` string (default `"host"`). */
  readonly cpu: string;
  /** The QEMU `-machine` string (default `"q35"`). */
  readonly machine: string;
  /** The number of vCPUs; always the length of {@linkcode Probe.vcpus}. */
  readonly smp: number;
  /** Guest RAM in bytes (default 16 MiB). */
  readonly memory: number;
  /** The guest TSC frequency in kHz (default 2 600 000). */
  readonly tscKhz: number;
  /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID on every vCPU (default false). */
  readonly enforcePvCpuid: boolean;
  /** Raw CPUID overrides, in file order. */
  readonly cpuid: readonly CpuidOverride[];
  /** Hypercall numbers the VMM enables KVM_CAP_EXIT_HYPERCALL for (e.g. `[12]`). */
  readonly exitHypercall: readonly number[];
  /** Extra plugin names to load (e.g. `["kvm-hc-map-gpa-range"]`). */
  readonly plugins: readonly string[];
  /** KVM_SET_CLOCK before the run, when given. */
  readonly clock?: ProbeClock;
}

/** KVM_SET_CLOCK as a probe asks for it (peer-tests A3). */
export interface ProbeClock {
  /** kvmclock's value, ns. */
  readonly clock: bigint;
  /** KVM_CLOCK_REALTIME: the realtime to pair with `clock`, as an offset from the host's realtime. */
  readonly realtimeOffsetNs?: bigint;
}

/** A fault a step can raise: `"GP"` (#GP, from RDMSR/WRMSR) or `"UD"` (#UD, from a hypercall). */
export type Fault = "GP" | "UD";

/** The caller's mode for a hypercall: 64-bit (long mode) or 32-bit (protected or compat). */
export type HypercallMode = "32" | "64";

/**
 * The instruction a hypercall step executes: `"vmcall"` (Intel's 0f 01 c1), `"vmmcall"` (AMD's
 * 0f 01 d9), or `"native"` (the host's own, as Linux's patched KVM_HYPERCALL is).
 */
export type HypercallInsnChoice = "native" | "vmcall" | "vmmcall";

/**
 * The 3 bytes at a hypercall's site after the call, named: KVM rewrites the other vendor's
 * instruction to the native one (emulator_fix_hypercall, KVM_X86_QUIRK_FIX_HYPERCALL_INSN), so
 * on an AMD host a `vmcall` site reads `"vmmcall"` afterwards. Other bytes are shown in hex.
 */
export type HypercallSite = "vmcall" | "vmmcall" | string;

/**
 * How an APIC register step reaches the local APIC: `"msr"` is the x2APIC MSR
 * `0x800 + reg / 16` (#GP unless the APIC is in x2APIC mode), `"mmio"` the xAPIC page at
 * 0xFEE00000 + reg (KVM reads all ones there in x2APIC mode, the LAPIC_MMIO_HOLE quirk).
 */
export type ApicAccess = "msr" | "mmio";

/** A CPUID register. */
export type CpuidRegisterName = "eax" | "ebx" | "ecx" | "edx";

/** A current privilege level. */
export type Cpl = 0 | 1 | 2 | 3;

/** The size of a guest-memory access in bytes. */
export type AccessSize = 1 | 2 | 4 | 8;

/** The size of a port I/O access in bytes. */
export type PortSize = 1 | 2 | 4;

/**
 * What a step checks in its result. Every value is already unsigned, reduced to the width the
 * step compares in (32 for CPUID registers and 32-bit hypercalls, 8×size for `read`/`in`, 64
 * otherwise). All clauses present must hold.
 */
export interface Expectation {
  /** The step faults with this exception; `null`: it does not fault. */
  readonly fault?: Fault | null;
  /** The result value equals this (rdmsr, read, rdtsc, in). */
  readonly value?: bigint;
  /** The hypercall's return value equals this. */
  readonly ret?: bigint;
  /** CPUID EAX equals this. */
  readonly eax?: bigint;
  /** CPUID EBX equals this. */
  readonly ebx?: bigint;
  /** CPUID ECX equals this. */
  readonly ecx?: bigint;
  /** CPUID EDX equals this. */
  readonly edx?: bigint;
  /** The value (or ret) is even (`true`) or odd (`false`). */
  readonly even?: boolean;
  /** The value (or ret) is at least this. */
  readonly min?: bigint;
  /** The value (or ret) is at most this. */
  readonly max?: bigint;
  /** With `equals`: `value & mask == equals`. */
  readonly mask?: bigint;
  /**
   * On a cpuid step: the bits of each register its clause compares (`reg & mask == want`);
   * a register without a mask is compared whole.
   */
  readonly registerMask?: Readonly<Partial<Record<CpuidRegisterName, bigint>>>;
  /** A hypercall's site after the call reads this instruction (see {@linkcode HypercallSite}). */
  readonly site?: HypercallSite;
  /** With `mask`: `value & mask == equals`. */
  readonly equals?: bigint;
  /** `wait-irq` timed out (`true`) or got its interrupt (`false`). */
  readonly timeout?: boolean;
  /**
   * The value (a kvmclock time, ns) lies within the run's {@linkcode ClockBracket}: kvmclock as
   * the host read it before the first vCPU ran and after the last one stopped (the
   * KVM_GET_CLOCK bracket of KVM's kvm_clock_test selftest). Unlike a fixed `max`, it holds on a
   * fast host and on a slow one.
   */
  readonly inClockBracket?: boolean;
  /** A `{skipped}` result is acceptable (default true); `false` makes a skipped step fail. */
  readonly skippedOk?: boolean;
}

/** What every step may carry besides its operands. */
export interface StepBase {
  /** A name for reports. */
  readonly label?: string;
  /** What the result must satisfy. */
  readonly expect?: Expectation;
}

/** CPUID with EAX = leaf, ECX = subleaf. */
export interface CpuidStep extends StepBase {
  /** The op. */
  readonly op: "cpuid";
  /** The leaf. */
  readonly leaf: number;
  /** The subleaf (default 0). */
  readonly subleaf: number;
}

/** RDMSR. */
export interface RdmsrStep extends StepBase {
  /** The op. */
  readonly op: "rdmsr";
  /** The MSR index (ECX). */
  readonly msr: number;
  /** The privilege level the guest executes it at (default 0; above 0 it #GPs). */
  readonly cpl: Cpl;
}

/** WRMSR. */
export interface WrmsrStep extends StepBase {
  /** The op. */
  readonly op: "wrmsr";
  /** The MSR index (ECX). */
  readonly msr: number;
  /** The value (EDX:EAX), unsigned 64-bit. */
  readonly value: bigint;
  /** The privilege level the guest executes it at (default 0). */
  readonly cpl: Cpl;
}

/**
 * A hypercall: VMCALL or VMMCALL with RAX = nr and RBX, RCX, RDX, RSI = a0..a3.
 *
 * `nr` and `args` are the full 64-bit registers even for a 32-bit caller: KVM reads RAX and
 * the argument registers and truncates them to 32 bits when the vCPU is not in 64-bit mode
 * (kvm_emulate_hypercall, is_64_bit_hypercall), and so does the emulated backend.
 */
export interface HypercallStep extends StepBase {
  /** The op. */
  readonly op: "hypercall";
  /** The hypercall number (RAX), unsigned 64-bit. */
  readonly nr: bigint;
  /** a0..a3 (RBX, RCX, RDX, RSI), unsigned 64-bit; missing ones are 0. */
  readonly args: readonly [bigint, bigint, bigint, bigint];
  /** The instruction (default `"native"`). */
  readonly insn: HypercallInsnChoice;
  /** The caller's mode (default `"64"`). */
  readonly mode: HypercallMode;
  /** The caller's privilege level (default 0; KVM returns -KVM_EPERM above 0). */
  readonly cpl: Cpl;
}

/** A guest read of `size` bytes at a guest-physical address. */
export interface ReadStep extends StepBase {
  /** The op. */
  readonly op: "read";
  /** The guest-physical address. */
  readonly gpa: bigint;
  /** The access size. */
  readonly size: AccessSize;
}

/** A guest write of `size` bytes at a guest-physical address. */
export interface WriteStep extends StepBase {
  /** The op. */
  readonly op: "write";
  /** The guest-physical address. */
  readonly gpa: bigint;
  /** The access size. */
  readonly size: AccessSize;
  /** The value, unsigned and fitting in `size` bytes (little-endian in memory). */
  readonly value: bigint;
}

/** The guest zeroes `length` bytes at a guest-physical address. */
export interface ZeroStep extends StepBase {
  /** The op. */
  readonly op: "zero";
  /** The guest-physical address. */
  readonly gpa: bigint;
  /** The number of bytes. */
  readonly length: number;
}

/** RDTSC. */
export interface RdtscStep extends StepBase {
  /** The op. */
  readonly op: "rdtsc";
}

/** The guest busy-waits for `ns` nanoseconds of its own time. */
export interface SpinStep extends StepBase {
  /** The op. */
  readonly op: "spin";
  /** Nanoseconds. */
  readonly ns: number;
}

/** The host keeps this runnable vCPU off its CPU for `ns` nanoseconds (steal time). */
export interface PreemptStep extends StepBase {
  /** The op. */
  readonly op: "preempt";
  /** Nanoseconds. */
  readonly ns: number;
}

/** HLT. */
export interface HltStep extends StepBase {
  /** The op. */
  readonly op: "hlt";
}

/** OUT to an I/O port. */
export interface OutStep extends StepBase {
  /** The op. */
  readonly op: "out";
  /** The port. */
  readonly port: number;
  /** The access size. */
  readonly size: PortSize;
  /** The value, unsigned and fitting in `size` bytes. */
  readonly value: bigint;
}

/** IN from an I/O port. */
export interface InStep extends StepBase {
  /** The op. */
  readonly op: "in";
  /** The port. */
  readonly port: number;
  /** The access size. */
  readonly size: PortSize;
}

/** All vCPUs that have a barrier with this id wait here until each has reached it. */
export interface BarrierStep extends StepBase {
  /** The op. */
  readonly op: "barrier";
  /** The barrier's id (a JSON number id is kept as its decimal string). */
  readonly id: string;
}

/** STI: enable interrupts. */
export interface StiStep extends StepBase {
  /** The op. */
  readonly op: "sti";
}

/** CLI: disable interrupts. */
export interface CliStep extends StepBase {
  /** The op. */
  readonly op: "cli";
}

/** An EOI to the local APIC (or through PV EOI when the guest has enabled it). */
export interface EoiStep extends StepBase {
  /** The op. */
  readonly op: "eoi";
}

/** Waits until an interrupt with `vector` is delivered, or `timeoutNs` pass. */
export interface WaitIrqStep extends StepBase {
  /** The op. */
  readonly op: "wait-irq";
  /** The vector (0-255). */
  readonly vector: number;
  /** How long to wait, in nanoseconds. */
  readonly timeoutNs: number;
}

/** Sends a fixed IPI through the local APIC. */
export interface SendIpiStep extends StepBase {
  /** The op. */
  readonly op: "sendIpi";
  /** The destination APIC ID. */
  readonly apicId: number;
  /** The vector (0-255). */
  readonly vector: number;
}

/** Reads a local APIC register (offset `reg`, e.g. 0xf0 for the SVR). */
export interface ApicReadStep extends StepBase {
  /** The op. */
  readonly op: "apic-read";
  /** The register's offset in the xAPIC page: a multiple of 16 below 0x400. */
  readonly reg: number;
  /** The access (default `"msr"`). */
  readonly via: ApicAccess;
}

/** Writes a local APIC register. */
export interface ApicWriteStep extends StepBase {
  /** The op. */
  readonly op: "apic-write";
  /** The register's offset in the xAPIC page: a multiple of 16 below 0x400. */
  readonly reg: number;
  /** The value: 64-bit through the x2APIC ICR MSR, otherwise 32-bit. */
  readonly value: bigint;
  /** The access (default `"msr"`). */
  readonly via: ApicAccess;
}

/**
 * INIT of the vCPU running the step (kvm_vcpu_reset with init_event = true: kvmclock, steal
 * time, async PF and PV EOI disabled, the APIC's registers reset with its base kept); the
 * program goes on after it in the same long-mode state it had.
 */
export interface InitStep extends StepBase {
  /** The op. */
  readonly op: "init";
}

/**
 * RESET of the vCPU running the step: INIT's reset plus the power-on state (kvm_vcpu_reset
 * with init_event = false: IA32_APIC_BASE back to 0xFEE00000, enabled, xAPIC mode, BSP on vCPU
 * 0); the program goes on after it in the same long-mode state it had.
 */
export interface ResetStep extends StepBase {
  /** The op. */
  readonly op: "reset";
}

/** One step of a probe program: a discriminated union on `op`. */
export type Step =
  | CpuidStep
  | RdmsrStep
  | WrmsrStep
  | HypercallStep
  | ReadStep
  | WriteStep
  | ZeroStep
  | RdtscStep
  | SpinStep
  | PreemptStep
  | HltStep
  | OutStep
  | InStep
  | BarrierStep
  | StiStep
  | CliStep
  | EoiStep
  | WaitIrqStep
  | SendIpiStep
  | ApicReadStep
  | ApicWriteStep
  | InitStep
  | ResetStep;

/** The name of a step's operation. */
export type StepOp = Step["op"];

/**
 * Every step op, in the order the format lists them.
 *
 * @example
 * ```ts
 * import { STEP_OPS } from "@pvkit/probe";
 * console.log(STEP_OPS.includes("rdmsr")); // true
 * ```
 */
export const STEP_OPS: readonly StepOp[] = [
  "cpuid",
  "rdmsr",
  "wrmsr",
  "hypercall",
  "read",
  "write",
  "zero",
  "rdtsc",
  "spin",
  "preempt",
  "hlt",
  "out",
  "in",
  "barrier",
  "sti",
  "cli",
  "eoi",
  "wait-irq",
  "sendIpi",
  "apic-read",
  "apic-write",
  "init",
  "reset",
];

/** One vCPU's program. */
export interface ProbeVcpu {
  /** The steps, run in order. */
  readonly steps: readonly Step[];
}

/** A validated probe program. */
export interface Probe {
  /** The probe's name. */
  readonly name: string;
  /** What it checks, for readers. */
  readonly description?: string;
  /** The machine to run it on. */
  readonly machine: ProbeMachine;
  /** One program per vCPU; vCPU i is `vcpus[i]`. */
  readonly vcpus: readonly ProbeVcpu[];
}

/** The result of a step the backend did not run, with the reason (legal for any op). */
export interface SkippedResult {
  /** The step's op. */
  readonly op: StepOp;
  /** Why it was not run, e.g. "hypercalls hang on this host". */
  readonly skipped: string;
}

/** A result with nothing to report beyond "it ran". */
export interface DoneResult<Op extends StepOp> {
  /** The step's op. */
  readonly op: Op;
}

/** A value read by the step. */
export interface ValueResult<Op extends StepOp> {
  /** The step's op. */
  readonly op: Op;
  /** The value, unsigned 64-bit. */
  readonly value: bigint;
}

/** A fault raised by the step. */
export interface FaultResult<Op extends StepOp, F extends Fault> {
  /** The step's op. */
  readonly op: Op;
  /** The exception. */
  readonly fault: F;
}

/** The result of `cpuid`. */
export interface CpuidResult {
  /** The op. */
  readonly op: "cpuid";
  /** EAX, unsigned 32-bit. */
  readonly eax: bigint;
  /** EBX, unsigned 32-bit. */
  readonly ebx: bigint;
  /** ECX, unsigned 32-bit. */
  readonly ecx: bigint;
  /** EDX, unsigned 32-bit. */
  readonly edx: bigint;
}

/** The result of a hypercall that returned: RAX, unsigned 64-bit. */
export interface HypercallReturn {
  /** The op. */
  readonly op: "hypercall";
  /** RAX after the call (unsigned: -1000 is 0xfffffffffffffc18). */
  readonly ret: bigint;
  /** The instruction at the call's site after the call (see {@linkcode HypercallSite}). */
  readonly site?: HypercallSite;
}

/** The result of `wait-irq`. */
export interface WaitIrqResult {
  /** The op. */
  readonly op: "wait-irq";
  /** True when no interrupt with the vector came in time (omitted or false: it came). */
  readonly timeout?: boolean;
}

/** What one step produced: a discriminated union on `op` (plus {@linkcode SkippedResult}). */
export type StepResult =
  | CpuidResult
  | ValueResult<"rdmsr">
  | FaultResult<"rdmsr", "GP">
  | DoneResult<"wrmsr">
  | FaultResult<"wrmsr", "GP">
  | HypercallReturn
  | FaultResult<"hypercall", "UD">
  | ValueResult<"read">
  | DoneResult<"write">
  | DoneResult<"zero">
  | ValueResult<"rdtsc">
  | DoneResult<"spin">
  | DoneResult<"preempt">
  | DoneResult<"hlt">
  | DoneResult<"out">
  | ValueResult<"in">
  | DoneResult<"barrier">
  | DoneResult<"sti">
  | DoneResult<"cli">
  | DoneResult<"eoi">
  | WaitIrqResult
  | DoneResult<"sendIpi">
  | ValueResult<"apic-read">
  | FaultResult<"apic-read", "GP">
  | DoneResult<"apic-write">
  | FaultResult<"apic-write", "GP">
  | DoneResult<"init">
  | DoneResult<"reset">
  | SkippedResult;

/**
 * Exit counts by reason: `"msr-read"`, `"msr-write"`, `"hypercall"`, `"io"`, `"hlt"`,
 * `"eoi"`, `"ipi"`, and any other reason a backend counts.
 */
export type ExitCounters = Record<string, number>;

/**
 * The exit reasons every backend knows, in the order reports list them (others follow,
 * alphabetically).
 *
 * @example
 * ```ts
 * import { EXIT_REASONS } from "@pvkit/probe";
 * console.log(EXIT_REASONS[0]); // "msr-read"
 * ```
 */
export const EXIT_REASONS: readonly string[] = [
  "msr-read",
  "msr-write",
  "hypercall",
  "io",
  "hlt",
  "eoi",
  "ipi",
];

/** What one vCPU did. */
export interface VcpuRun {
  /** One result per step, in step order; shorter when the vCPU stopped early. */
  readonly results: StepResult[];
  /** Exits to the host by reason. */
  readonly exits: ExitCounters;
}

/** What a backend returns for a probe. */
export interface ProbeRun {
  /** The backend's name, e.g. `"emulated"` or `"kvm"`. */
  readonly backend: string;
  /** kvmclock around the run, for `inClockBracket` expectations (absent: not measured). */
  readonly clockBracket?: ClockBracket;
  /** One entry per vCPU, in vCPU order. */
  readonly vcpus: VcpuRun[];
  /** Remarks for the reader: what was approximated, skipped, or timed out. */
  readonly notes: string[];
}

/**
 * kvmclock (ns) as the host read it before the first vCPU ran and after the last one stopped:
 * KVM_GET_CLOCK on KVM, the virtual clock on the emulated backend.
 *
 * @example
 * ```ts
 * import type { ClockBracket } from "@pvkit/probe";
 * const b: ClockBracket = { before: 0n, after: 1_250_000n };
 * console.log(b.after - b.before); // 1250000n
 * ```
 */
export interface ClockBracket {
  /** kvmclock before the run, ns. */
  readonly before: bigint;
  /** kvmclock after the run, ns. */
  readonly after: bigint;
}

/** Options for {@linkcode ProbeBackend.run}. */
export interface ProbeRunOptions {
  /** Give up (and return what ran, with a note) after this many milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * Something that runs probe programs: the emulated backend, or real KVM. Backends depend on
 * this package; this package depends on none of them.
 *
 * @example
 * ```ts
 * import type { Probe, ProbeBackend, ProbeRun } from "@pvkit/probe";
 *
 * // A backend that runs nothing: every step is skipped.
 * const nothing: ProbeBackend = {
 *   name: "nothing",
 *   run(probe: Probe): Promise<ProbeRun> {
 *     return Promise.resolve({
 *       backend: "nothing",
 *       vcpus: probe.vcpus.map((v) => ({
 *         results: v.steps.map((s) => ({ op: s.op, skipped: "not implemented" })),
 *         exits: {},
 *       })),
 *       notes: [],
 *     });
 *   },
 * };
 * console.log(nothing.name);
 * ```
 */
export interface ProbeBackend {
  /** The backend's name, as it appears in reports. */
  readonly name: string;
  /** Runs every vCPU's program and collects results and exit counts. */
  run(probe: Probe, options?: ProbeRunOptions): Promise<ProbeRun>;
}
