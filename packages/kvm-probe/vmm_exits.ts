/**
 * The VMM side of the KVM probe backend: what KVM itself does not implement, answered by the
 * same plugin hooks (`MsrHook`, `HypercallHook`) the emulated backend calls, through a
 * {@linkcode KvmVcpuContext}.
 *
 * - **MSRs of VMM-provided plugins** (e.g. `kvm-migration-control`'s 0x4b564d08, which KVM does
 *   not emulate): an MSR filter denies guest RDMSR and WRMSR of them, KVM_CAP_X86_USER_SPACE_MSR
 *   ({@linkcode KVM_MSR_EXIT_REASON_FILTER}) turns the denial into KVM_EXIT_X86_RDMSR/WRMSR,
 *   and the hook's outcome becomes the data read, or a #GP.
 * - **KVM_EXIT_HYPERCALL** for a number a VMM-provided plugin handles (`kvm-hc-map-gpa-range`'s
 *   12) and KVM_CAP_EXIT_HYPERCALL enables: the hook runs, its VMM step
 *   (`VmContext.exitToUserspace`) is the backend's answer, and its result goes to RAX.
 * - **Observed PV MSR writes** (opt-in): guest WRMSR of {@linkcode OBSERVED_PV_MSRS} exit to
 *   userspace, the observer sees them, and the write is replayed to KVM with KVM_SET_MSRS
 *   (host-initiated) so KVM's own behaviour still happens; if KVM refuses it, the guest gets
 *   #GP. Unlike a guest write, a host-initiated write of MSR 0x12 on vCPU 0 does not update
 *   KVM's "boot vCPU uses the old kvmclock MSR" flag (Documentation/virt/kvm/x86/msr.rst, SYSTEM_TIME).
 *
 * @module
 */

import {
  denyMsrs,
  KVM_MSR_EXIT_REASON_FILTER,
  KVM_MSR_FILTER_DEFAULT_ALLOW,
  KVM_MSR_FILTER_READ,
  KVM_MSR_FILTER_WRITE,
  type MsrFilter,
  type MsrFilterRange,
  type VcpuExit,
} from "@pvkit/kvm";
import { type HypercallHook, type MsrHook, PvkitError, type PvPlugin } from "@pvkit/machine";
import type { KvmVmContext } from "./kvm_vcpu_context.ts";

/**
 * The PV MSRs whose guest writes {@linkcode KvmVmmExits} can observe: WALL_CLOCK (0x11),
 * SYSTEM_TIME (0x12) and 0x4b564d00-0x4b564d07 (Documentation/virt/kvm/x86/msr.rst).
 *
 * @example
 * ```ts
 * import { OBSERVED_PV_MSRS } from "@pvkit/kvm-probe";
 * console.log(OBSERVED_PV_MSRS.length); // 10
 * ```
 */
export const OBSERVED_PV_MSRS: readonly number[] = Object.freeze([
  0x11,
  0x12,
  ...Array.from({ length: 8 }, (_, i) => 0x4b564d00 + i),
]);

/** KVM_CAP_X86_USER_SPACE_MSR's argument when a filter is installed. */
export const USER_SPACE_MSR_REASONS: number = KVM_MSR_EXIT_REASON_FILTER;

/**
 * Called for every guest WRMSR of an observed PV MSR, before KVM sees it.
 *
 * @example
 * ```ts
 * import type { PvMsrWriteObserver } from "@pvkit/kvm-probe";
 * const log: PvMsrWriteObserver = (vcpu, msr, value) => console.log(vcpu, msr.toString(16), value);
 * log(0, 0x4b564d01, 0x2001n);
 * ```
 */
export type PvMsrWriteObserver = (vcpu: number, msr: number, value: bigint) => void;

/**
 * Options of {@linkcode KvmVmmExits}.
 *
 * @example
 * ```ts
 * import type { KvmVmmExitsOptions } from "@pvkit/kvm-probe";
 * const keys: (keyof KvmVmmExitsOptions)[] = ["context", "plugins", "isEnabled"];
 * console.log(keys.length);
 * ```
 */
export interface KvmVmmExitsOptions {
  /** The hook context (VM and vCPUs). */
  readonly context: KvmVmContext;
  /**
   * The plugins to serve. Only those whose manifest says `host.provider: "vmm"` contribute
   * hooks: KVM implements the others in the kernel.
   */
  readonly plugins: readonly PvPlugin[];
  /** The composition's `isEnabled` (the plugins' environment). */
  readonly isEnabled: (feature: string) => boolean;
  /** Observe guest writes of {@linkcode OBSERVED_PV_MSRS} (off when absent). */
  readonly observePvMsrWrites?: PvMsrWriteObserver;
}

/**
 * Replays a guest MSR write to KVM (KVM_SET_MSRS, host-initiated); returns false if KVM
 * refused it.
 *
 * @example
 * ```ts
 * import type { HostMsrWrite } from "@pvkit/kvm-probe";
 * const accept: HostMsrWrite = () => true;
 * console.log(accept(0x12, 0n));
 * ```
 */
export type HostMsrWrite = (msr: number, value: bigint) => boolean;

/** Max MSRs in one filter range: 0x600 bitmap bytes. */
const RANGE_SPAN = 0x600 * 8;

function groupedRanges(flags: number, msrs: readonly number[]): MsrFilterRange[] {
  const sorted = [...new Set(msrs)].sort((a, b) => a - b);
  const ranges: MsrFilterRange[] = [];
  let group: number[] = [];
  for (const msr of sorted) {
    if (group.length > 0 && msr - group[0] >= RANGE_SPAN) {
      ranges.push(denyMsrs(flags, group));
      group = [];
    }
    group.push(msr);
  }
  if (group.length > 0) ranges.push(denyMsrs(flags, group));
  return ranges;
}

/**
 * Serves the exits KVM hands to userspace for VMM-provided plugins and PV MSR observers (see
 * the module documentation).
 *
 * @example
 * ```ts
 * import { KvmVmContext, KvmVmmExits } from "@pvkit/kvm-probe";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * import { optionalPlugins } from "@pvkit/pvkit";
 * const context = new KvmVmContext({
 *   memory: new ArrayGuestMemory(new Uint8Array(4096)), vcpuCount: 1, tscKhz: 2_600_000,
 *   inKernelLapic: true, enforcePvCpuid: false, pvFeatures: 0, exitHypercall: [],
 *   onUserHypercall: () => 0n,
 * });
 * const exits = new KvmVmmExits({
 *   context, plugins: [optionalPlugins.get("kvm-migration-control")!], isEnabled: () => true,
 * });
 * console.log(exits.trappedMsrs, exits.msrFilter()?.ranges.length); // [ 1263750408 ] 1
 * ```
 */
export class KvmVmmExits {
  readonly #context: KvmVmContext;
  readonly #msrs = new Map<number, MsrHook>();
  readonly #hypercalls = new Map<number, HypercallHook>();
  readonly #observer: PvMsrWriteObserver | undefined;

  /** Creates every VMM-provided plugin's hooks (once, like a machine's). */
  constructor(options: KvmVmmExitsOptions) {
    this.#context = options.context;
    this.#observer = options.observePvMsrWrites;
    const environment = { vm: options.context, isEnabled: options.isEnabled };
    for (const plugin of options.plugins) {
      if (plugin.manifest.host.provider !== "vmm" || !plugin.createHooks) continue;
      const hooks = plugin.createHooks(environment);
      for (const hook of hooks.msrs ?? []) {
        for (const msr of hook.msrs) {
          if (this.#msrs.has(msr)) {
            throw new PvkitError(
              "msr-conflict",
              `MSR 0x${
                msr.toString(16)
              } is handled by two plugins (${plugin.manifest.name} and another)`,
            );
          }
          this.#msrs.set(msr, hook);
        }
      }
      for (const hook of hooks.hypercalls ?? []) {
        if (options.context.exitHypercallEnabled(hook.nr)) this.#hypercalls.set(hook.nr, hook);
      }
    }
  }

  /** The MSRs whose guest RDMSR and WRMSR go to a plugin hook. */
  get trappedMsrs(): readonly number[] {
    return [...this.#msrs.keys()];
  }

  /** The KVM_EXIT_HYPERCALL numbers answered by a plugin hook. */
  get hypercalls(): readonly number[] {
    return [...this.#hypercalls.keys()];
  }

  /** The MSRs whose guest WRMSR is observed (none unless an observer was given). */
  get observedMsrs(): readonly number[] {
    return this.#observer ? OBSERVED_PV_MSRS.filter((m) => !this.#msrs.has(m)) : [];
  }

  /**
   * The MSR filter to install (default allow; trapped MSRs denied for read and write, observed
   * ones for write), or undefined when nothing needs one.
   */
  msrFilter(): MsrFilter | undefined {
    const ranges = [
      ...groupedRanges(KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, this.trappedMsrs),
      ...groupedRanges(KVM_MSR_FILTER_WRITE, this.observedMsrs),
    ];
    return ranges.length === 0 ? undefined : { flags: KVM_MSR_FILTER_DEFAULT_ALLOW, ranges };
  }

  /**
   * Answers `exit` of vCPU `vcpu` if it is one of the exits this class serves: an RDMSR/WRMSR
   * exit (any MSR: one no hook or observer claims gets #GP, as without the filter) or a
   * KVM_EXIT_HYPERCALL a hook handles. Returns false for every other exit, which the caller
   * handles. `hostWrite` replays observed writes to KVM.
   */
  handle(exit: VcpuExit, vcpu: number, hostWrite: HostMsrWrite): boolean {
    switch (exit.kind) {
      case "x86-rdmsr": {
        const hook = this.#msrs.get(exit.index);
        const r = hook?.read(this.#context.vcpu(vcpu), exit.index, "guest");
        if (r?.kind === "value") exit.setData(r.value);
        else exit.injectGp();
        return true;
      }
      case "x86-wrmsr": {
        const hook = this.#msrs.get(exit.index);
        if (hook) {
          const r = hook.write(this.#context.vcpu(vcpu), exit.index, exit.data, "guest");
          if (r.kind === "gp") exit.injectGp();
        } else if (this.#observer && OBSERVED_PV_MSRS.includes(exit.index)) {
          this.#observer(vcpu, exit.index, exit.data);
          if (!hostWrite(exit.index, exit.data)) exit.injectGp();
        } else {
          exit.injectGp();
        }
        return true;
      }
      case "hypercall": {
        const nr = Number(exit.nr);
        const hook = exit.nr < 2n ** 32n ? this.#hypercalls.get(nr) : undefined;
        if (!hook) return false;
        const a = exit.args;
        const ret = hook.call(this.#context.vcpu(vcpu), { nr, args: [a[0], a[1], a[2], a[3]] });
        // run->hypercall.ret is u64; a 32-bit caller sees it truncated to u32.
        exit.setRet(exit.longMode ? BigInt.asUintN(64, ret) : BigInt.asUintN(32, ret));
        return true;
      }
      default:
        return false;
    }
  }
}
