/**
 * Whether hypercalls work on this host: one tiny guest per process does a single
 * KVM_HC_VAPIC_POLL_IRQ under a watchdog ({@linkcode detectHypercalls}). On this project's
 * nested, PVM-backed hosts VMCALL/VMMCALL hang the vCPU, so the answer there is "unavailable".
 *
 * @module
 */

import { type CpuidEntry, KvmSystem, runGuest } from "@pvkit/kvm";
import { Assembler, HIMEM_START } from "@pvkit/x86";
import type { HypercallInsn } from "./compile.ts";

/**
 * The exact reason hypercall steps are skipped with when {@linkcode detectHypercalls} finds
 * they hang.
 *
 * @example
 * ```ts
 * import { HYPERCALLS_UNAVAILABLE } from "@pvkit/kvm-probe";
 * console.log(HYPERCALLS_UNAVAILABLE); // "hypercalls unavailable on this host"
 * ```
 */
export const HYPERCALLS_UNAVAILABLE = "hypercalls unavailable on this host";

/**
 * What {@linkcode detectHypercalls} found.
 *
 * @example
 * ```ts
 * import type { HypercallSupport } from "@pvkit/kvm-probe";
 * const s: HypercallSupport = { insn: "vmmcall", available: false, detail: "timed out" };
 * console.log(s.available);
 * ```
 */
export interface HypercallSupport {
  /** The host's native instruction: VMMCALL on AMD, VMCALL otherwise. */
  readonly insn: HypercallInsn;
  /** True when the test hypercall returned. */
  readonly available: boolean;
  /** What happened, for notes. */
  readonly detail: string;
}

/**
 * The host's native hypercall instruction, from leaf 0's vendor in KVM_GET_SUPPORTED_CPUID
 * ("AuthenticAMD"/"HygonGenuine": VMMCALL; otherwise VMCALL).
 *
 * @example
 * ```ts
 * import { hostHypercallInsn } from "@pvkit/kvm-probe";
 * // "AuthenticAMD" in EBX, EDX, ECX.
 * const leaf0 = { function: 0, index: 0, flags: 0, eax: 0x10, ebx: 0x68747541, ecx: 0x444d4163, edx: 0x69746e65 };
 * console.log(hostHypercallInsn([leaf0])); // "vmmcall"
 * ```
 */
export function hostHypercallInsn(supported: readonly CpuidEntry[]): HypercallInsn {
  const leaf0 = supported.find((e) => e.function === 0);
  if (!leaf0) return "vmcall";
  const bytes = new Uint8Array(12);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, leaf0.ebx, true);
  v.setUint32(4, leaf0.edx, true);
  v.setUint32(8, leaf0.ecx, true);
  const vendor = new TextDecoder().decode(bytes);
  return vendor === "AuthenticAMD" || vendor === "HygonGenuine" ? "vmmcall" : "vmcall";
}

let cached: Promise<HypercallSupport> | undefined;

/**
 * Detects once per process (the answer is cached) whether a 64-bit guest's hypercall returns:
 * runs VMCALL/VMMCALL with RAX = 1 (KVM_HC_VAPIC_POLL_IRQ) under a `timeoutMs` watchdog
 * (default 1000).
 *
 * @example
 * ```ts
 * import { detectHypercalls } from "@pvkit/kvm-probe";
 * const support = await detectHypercalls(); // needs a usable /dev/kvm
 * console.log(support.available, support.detail);
 * ```
 */
export function detectHypercalls(timeoutMs = 1000): Promise<HypercallSupport> {
  cached ??= detect(timeoutMs);
  return cached;
}

async function detect(timeoutMs: number): Promise<HypercallSupport> {
  using sys = KvmSystem.open();
  const insn = hostHypercallInsn(sys.kvmGetSupportedCpuid());
  using vm = sys.kvmCreateVm();
  vm.mapGuestRam(2 << 20);
  const code = new Assembler(HIMEM_START).movImm("eax", 1);
  if (insn === "vmcall") code.vmcall();
  else code.vmmcall();
  code.out(0x10, "al").label("stop").jmp("stop");
  code.label("ud").movImm("eax", 6).out(0x11, "al").jmp("stop");
  const result = await runGuest(vm, {
    code,
    cpuid: sys.kvmGetSupportedCpuid(),
    idt: { 6: "ud" },
    timeoutMs,
    onExit: (
      exit,
    ) => (exit.kind === "io" && exit.port >= 0x10 && exit.port <= 0x11 ? "stop" : undefined),
  });
  if (result.kind === "timeout") return { insn, available: false, detail: result.message };
  if (result.kind === "stopped" && result.exit.kind === "io" && result.exit.port === 0x11) {
    return { insn, available: false, detail: `${insn} raised #UD in a 64-bit guest` };
  }
  if (result.kind === "stopped" && result.exit.kind === "io") {
    return { insn, available: true, detail: `${insn} returned ${result.exit.value}` };
  }
  return { insn, available: false, detail: `the test guest ended with ${result.kind}` };
}

/**
 * This host's native hypercall instruction, from /dev/kvm's KVM_GET_SUPPORTED_CPUID (see
 * {@linkcode hostHypercallInsn}); what the emulated backend is told when it is compared with
 * this KVM, so both rewrite the other vendor's instruction to the same one.
 *
 * @example
 * ```ts
 * import { nativeHypercallInsn } from "@pvkit/kvm-probe";
 * console.log(nativeHypercallInsn()); // needs a usable /dev/kvm
 * ```
 */
export function nativeHypercallInsn(): HypercallInsn {
  using sys = KvmSystem.open();
  return hostHypercallInsn(sys.kvmGetSupportedCpuid());
}
