/**
 * What this host's KVM offers pvkit ({@linkcode runKvmDoctor}): whether `/dev/kvm` is usable,
 * the API version, the capabilities pvkit relies on, the KVM PV CPUID leaf, the TSC rate,
 * whether hypercalls work, and the cost of a port-I/O exit. Every guest it runs is guarded by
 * a watchdog, so it never hangs (hypercalls hang the vCPU on this project's nested hosts).
 *
 * @module
 */

import { Assembler, HIMEM_START } from "@pvkit/x86";
import { probeKvm } from "./availability.ts";
import { runExitLoop } from "./exit_bench.ts";
import { readKvmPvLeaf } from "./host_leaf.ts";
import { KVM_CAP } from "./ioctl_numbers.ts";
import { runGuest } from "./runner.ts";
import { KvmSystem } from "./system.ts";
import { classifyKvm, hostKvmFacts, type KvmKindReport } from "./kvm_kind.ts";
import type { KvmVm } from "./vm.ts";

/**
 * The capabilities {@linkcode runKvmDoctor} checks, by name (`KVM_CAP_*`) and number, in the
 * order it reports them. KVM_CAP_STEAL_TIME (187) is not in {@linkcode KVM_CAP}: pvkit only
 * reports it (x86 advertises steal time through CPUID, not this capability).
 *
 * @example
 * ```ts
 * import { DOCTOR_CAPABILITIES } from "@pvkit/kvm";
 * console.log(DOCTOR_CAPABILITIES.KVM_CAP_ENFORCE_PV_FEATURE_CPUID); // 190
 * ```
 */
export const DOCTOR_CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  KVM_CAP_IRQCHIP: KVM_CAP.KVM_CAP_IRQCHIP,
  KVM_CAP_SPLIT_IRQCHIP: KVM_CAP.KVM_CAP_SPLIT_IRQCHIP,
  KVM_CAP_X2APIC_API: KVM_CAP.KVM_CAP_X2APIC_API,
  KVM_CAP_ENFORCE_PV_FEATURE_CPUID: KVM_CAP.KVM_CAP_ENFORCE_PV_FEATURE_CPUID,
  KVM_CAP_EXIT_HYPERCALL: KVM_CAP.KVM_CAP_EXIT_HYPERCALL,
  KVM_CAP_X86_USER_SPACE_MSR: KVM_CAP.KVM_CAP_X86_USER_SPACE_MSR,
  KVM_CAP_X86_MSR_FILTER: KVM_CAP.KVM_CAP_X86_MSR_FILTER,
  KVM_CAP_ADJUST_CLOCK: KVM_CAP.KVM_CAP_ADJUST_CLOCK,
  KVM_CAP_KVMCLOCK_CTRL: KVM_CAP.KVM_CAP_KVMCLOCK_CTRL,
  KVM_CAP_STEAL_TIME: 187,
  KVM_CAP_ASYNC_PF: KVM_CAP.KVM_CAP_ASYNC_PF,
  KVM_CAP_ASYNC_PF_INT: KVM_CAP.KVM_CAP_ASYNC_PF_INT,
  KVM_CAP_NR_VCPUS: KVM_CAP.KVM_CAP_NR_VCPUS,
  KVM_CAP_MAX_VCPUS: KVM_CAP.KVM_CAP_MAX_VCPUS,
  KVM_CAP_BINARY_STATS_FD: KVM_CAP.KVM_CAP_BINARY_STATS_FD,
  KVM_CAP_IMMEDIATE_EXIT: KVM_CAP.KVM_CAP_IMMEDIATE_EXIT,
  KVM_CAP_TSC_CONTROL: KVM_CAP.KVM_CAP_TSC_CONTROL,
  KVM_CAP_GET_TSC_KHZ: KVM_CAP.KVM_CAP_GET_TSC_KHZ,
  KVM_CAP_SIGNAL_MSI: KVM_CAP.KVM_CAP_SIGNAL_MSI,
  KVM_CAP_IRQFD: KVM_CAP.KVM_CAP_IRQFD,
});

/**
 * One capability as KVM_CHECK_EXTENSION answered it (on a VM fd).
 *
 * @example
 * ```ts
 * import type { KvmCapabilityValue } from "@pvkit/kvm";
 * const c: KvmCapabilityValue = { name: "KVM_CAP_EXIT_HYPERCALL", number: 201, value: 4096 };
 * console.log(c.value.toString(16)); // "1000" (a mask: 1 << KVM_HC_MAP_GPA_RANGE)
 * ```
 */
export interface KvmCapabilityValue {
  /** `KVM_CAP_*`. */
  readonly name: string;
  /** The capability number. */
  readonly number: number;
  /** KVM_CHECK_EXTENSION's answer: 0 (absent), 1, a count or a mask. */
  readonly value: number;
}

/**
 * Whether a hypercall came back: `works` (with KVM's return value), `unavailable` (the vCPU
 * hung until the watchdog kicked it), or `unknown` (the check itself failed).
 *
 * @example
 * ```ts
 * import type { HypercallCheck } from "@pvkit/kvm";
 * const h: HypercallCheck = {
 *   status: "unavailable",
 *   detail: "hypercalls unavailable on this host (the vCPU hangs)",
 * };
 * console.log(h.detail);
 * ```
 */
export interface HypercallCheck {
  /** The verdict. */
  readonly status: "works" | "unavailable" | "unknown";
  /** A sentence for people. */
  readonly detail: string;
  /** RAX after the hypercall, when it returned. */
  readonly ret?: bigint;
}

/**
 * What {@linkcode runKvmDoctor} found. Fields it could not learn are null (with the reason in
 * the matching `...Error` field, or in `reason` when `/dev/kvm` is unusable).
 *
 * @example
 * ```ts
 * import type { KvmDoctorReport } from "@pvkit/kvm";
 * const show = (r: KvmDoctorReport) => r.usable ? `KVM API ${r.apiVersion}` : r.reason;
 * console.log(typeof show);
 * ```
 */
export interface KvmDoctorReport {
  /** The device checked. */
  readonly device: string;
  /** Whether pvkit can use it. */
  readonly usable: boolean;
  /** Why not, when not usable. */
  readonly reason: string | null;
  /** KVM_GET_API_VERSION (12). */
  readonly apiVersion: number | null;
  /** {@linkcode DOCTOR_CAPABILITIES} with KVM's answers (empty when unusable). */
  readonly capabilities: readonly KvmCapabilityValue[];
  /** KVM_GET_SUPPORTED_CPUID leaf 0x40000001 EAX (the `KVM_FEATURE_*` bits). */
  readonly pvLeafEax: number | null;
  /** Leaf 0x40000001 EDX (the `KVM_HINTS_*` bits). */
  readonly pvLeafEdx: number | null;
  /** Why the leaf is missing. */
  readonly pvLeafError?: string;
  /** KVM_GET_TSC_KHZ on a fresh vCPU. */
  readonly tscKhz: number | null;
  /** Why the TSC rate is missing. */
  readonly tscKhzError?: string;
  /** Whether hypercall nr 1 (KVM_HC_VAPIC_POLL_IRQ) returns, from a 64-bit guest. */
  readonly hypercalls: HypercallCheck;
  /** Which kind of KVM this is ({@linkcode classifyKvm}). */
  readonly kind: KvmKindReport;
  /** µs per port-I/O exit round trip ({@linkcode runExitLoop}). */
  readonly pioExitUs: number | null;
  /** Exits the round-trip figure was measured over. */
  readonly pioExits: number;
  /** Why the round-trip figure is missing. */
  readonly pioExitError?: string;
}

/**
 * Options of {@linkcode runKvmDoctor}.
 *
 * @example
 * ```ts
 * import type { KvmDoctorOptions } from "@pvkit/kvm";
 * const opts: KvmDoctorOptions = { pioExits: 1000, hypercallTimeoutMs: 500 };
 * console.log(opts.pioExits);
 * ```
 */
export interface KvmDoctorOptions {
  /** The KVM device (default `/dev/kvm`). */
  device?: string;
  /** Exits of the round-trip measurement (default 10 000; 0 skips it). */
  pioExits?: number;
  /** Watchdog budget of the hypercall check (default 1000 ms). */
  hypercallTimeoutMs?: number;
}

/**
 * The sentence pvkit prints when a hypercall hangs the vCPU.
 *
 * @example
 * ```ts
 * import { HYPERCALLS_UNAVAILABLE } from "@pvkit/kvm";
 * console.log(HYPERCALLS_UNAVAILABLE);
 * ```
 */
export const HYPERCALLS_UNAVAILABLE = "hypercalls unavailable on this host (the vCPU hangs)";

const KVM_HC_VAPIC_POLL_IRQ = 1;
const DONE_PORT = 0x11;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function checkHypercall(sys: KvmSystem, timeoutMs: number): Promise<HypercallCheck> {
  let vm: KvmVm | undefined;
  try {
    vm = sys.kvmCreateVm();
    vm.kvmCreateIrqchip();
    vm.mapGuestRam(2 << 20);
    const code = new Assembler(HIMEM_START)
      .movImm("eax", KVM_HC_VAPIC_POLL_IRQ).vmcall().out(DONE_PORT, "al").hlt();
    let ret: bigint | undefined;
    const result = await runGuest(vm, {
      code,
      timeoutMs,
      onExit: (exit, vcpu) => {
        if (exit.kind === "io" && exit.port === DONE_PORT) {
          ret = vcpu.kvmGetRegs().rax;
          return "stop";
        }
        return "stop";
      },
    });
    if (result.kind === "timeout") {
      return {
        status: "unavailable",
        detail: `${HYPERCALLS_UNAVAILABLE}: no exit within ${timeoutMs} ms` +
          (result.interrupted ? "" : "; the vCPU thread is stuck in the kernel"),
      };
    }
    if (result.kind === "stopped" && ret !== undefined) {
      return {
        status: "works",
        detail: `hypercall ${KVM_HC_VAPIC_POLL_IRQ} (KVM_HC_VAPIC_POLL_IRQ) returned ${ret}`,
        ret,
      };
    }
    return {
      status: "unknown",
      detail: `the hypercall guest ended with a ${result.exit.kind} exit instead of port I/O`,
    };
  } catch (e) {
    return { status: "unknown", detail: `the hypercall check failed: ${message(e)}` };
  } finally {
    try {
      vm?.close();
    } catch {
      // a stuck vCPU thread; the process ends soon
    }
  }
}

/**
 * Examines this host's KVM: usability ({@linkcode probeKvm}), API version, capabilities
 * ({@linkcode DOCTOR_CAPABILITIES}, asked on a VM fd), the KVM PV leaf
 * ({@linkcode readKvmPvLeaf}), KVM_GET_TSC_KHZ, a one-hypercall guest under a watchdog, and a
 * short port-I/O exit loop ({@linkcode runExitLoop}). Never throws: what it cannot learn is
 * null, with the reason. Needs unscoped `--allow-ffi` and `--allow-read` (the guest Worker).
 *
 * @example
 * ```ts
 * import { runKvmDoctor } from "@pvkit/kvm";
 * const r = await runKvmDoctor({ pioExits: 1000 });
 * console.log(r.usable ? r.hypercalls.detail : r.reason);
 * ```
 */
export async function runKvmDoctor(options: KvmDoctorOptions = {}): Promise<KvmDoctorReport> {
  const device = options.device ?? "/dev/kvm";
  const pioExits = options.pioExits ?? 10_000;
  const availability = probeKvm(device);
  if (!availability.usable) {
    return {
      device,
      usable: false,
      reason: availability.reason,
      apiVersion: null,
      capabilities: [],
      pvLeafEax: null,
      pvLeafEdx: null,
      tscKhz: null,
      hypercalls: { status: "unknown", detail: "not checked: /dev/kvm is unusable" },
      kind: classifyKvm({ usable: false, hypercalls: "unknown", ...hostKvmFacts() }),
      pioExitUs: null,
      pioExits,
    };
  }
  using sys = KvmSystem.open(device);
  const capabilities: KvmCapabilityValue[] = [];
  let tscKhz: number | null = null;
  let tscKhzError: string | undefined;
  {
    using vm = sys.kvmCreateVm();
    for (const [name, number] of Object.entries(DOCTOR_CAPABILITIES)) {
      let value: number;
      try {
        value = vm.kvmCheckExtension(number);
      } catch {
        value = sys.kvmCheckExtension(number);
      }
      capabilities.push({ name, number, value });
    }
    try {
      tscKhz = vm.kvmCreateVcpu(0).kvmGetTscKhz();
    } catch (e) {
      tscKhzError = message(e);
    }
  }
  let pvLeafEax: number | null = null;
  let pvLeafEdx: number | null = null;
  let pvLeafError: string | undefined;
  try {
    const leaf = readKvmPvLeaf(sys);
    pvLeafEax = leaf.eax;
    pvLeafEdx = leaf.edx;
  } catch (e) {
    pvLeafError = message(e);
  }
  const hypercalls = await checkHypercall(sys, options.hypercallTimeoutMs ?? 1000);
  let pioExitUs: number | null = null;
  let pioExitError: string | undefined;
  if (pioExits > 0) {
    try {
      runExitLoop({ count: Math.min(pioExits, 2000), timeoutMs: 2000 }); // JIT warm-up
      const r = runExitLoop({ count: pioExits, timeoutMs: 2000 });
      if (r.kind === "done") pioExitUs = r.usPerExit;
      else pioExitError = r.message;
    } catch (e) {
      pioExitError = message(e);
    }
  } else {
    pioExitError = "not measured (0 exits asked)";
  }
  return {
    device,
    usable: true,
    reason: null,
    apiVersion: availability.apiVersion,
    capabilities,
    pvLeafEax,
    pvLeafEdx,
    ...(pvLeafError !== undefined ? { pvLeafError } : {}),
    tscKhz,
    ...(tscKhzError !== undefined ? { tscKhzError } : {}),
    hypercalls,
    kind: classifyKvm({ usable: true, hypercalls: hypercalls.status, ...hostKvmFacts() }),
    pioExitUs,
    pioExits,
    ...(pioExitError !== undefined ? { pioExitError } : {}),
  };
}

/**
 * Which kind of KVM this process sees ({@linkcode classifyKvm}), from {@linkcode probeKvm}, a
 * one-hypercall guest under a watchdog, and {@linkcode hostKvmFacts}. Never throws.
 *
 * @example
 * ```ts
 * import { detectKvmKind } from "@pvkit/kvm";
 * const k = await detectKvmKind();
 * console.log(k.kind, k.real);
 * ```
 */
export async function detectKvmKind(
  options: { device?: string; hypercallTimeoutMs?: number } = {},
): Promise<KvmKindReport> {
  const device = options.device ?? "/dev/kvm";
  if (!probeKvm(device).usable) {
    return classifyKvm({ usable: false, hypercalls: "unknown", ...hostKvmFacts() });
  }
  using sys = KvmSystem.open(device);
  const hypercalls = await checkHypercall(sys, options.hypercallTimeoutMs ?? 1000);
  return classifyKvm({ usable: true, hypercalls: hypercalls.status, ...hostKvmFacts() });
}
