/**
 * `@pvkit/machine`'s {@linkcode VcpuContext} / {@linkcode VmContext} on the KVM backend: what a
 * VMM-provided plugin's hooks see when the KVM probe backend calls them for an exit KVM handed
 * to userspace (an MSR the filter traps, a KVM_EXIT_HYPERCALL).
 *
 * KVM runs everything else in the kernel, so only what such hooks need is provided:
 * - VM: `vcpuCount`, `memory` (the VM's guest RAM), `tscKhz`, `inKernelLapic`, `maxApicId`,
 *   `vcpu()`, `vcpuByApicId()`, `exitHypercallEnabled()`, `exitToUserspace()` (the VMM's
 *   answer: {@linkcode KvmVmContextOptions.onUserHypercall}), `kvmclockNs()` (KVM_GET_CLOCK,
 *   when a `KvmVm` is given), `realtimeNs()`.
 * - vCPU: `index`, `apicId` (= index, the KVM_CREATE_VCPU id), `vm`, `memory`, `longMode`
 *   (true: probes run 64-bit code), `cpl` (0), `apic` (undefined without an in-kernel
 *   irqchip), `pvHas()` (enforcement and the leaf 0x40000001 EAX the vCPUs were given), and
 *   `shared()`.
 *
 * Everything else throws a `PvkitError` with code `kvm-context-unavailable` ("… is not
 * available on the KVM backend"): VM `schedInfo`, `runqueueBusy()`, `yieldTo()`, and
 * `kvmclockNs()` without a `KvmVm`; vCPU `apic` with an in-kernel irqchip, `guestTsc()`,
 * `runDelayNs()`, `isPreempted()`, `isHalted()`, `kick()`, `requestInterrupt()`,
 * `injectPageFault()`, `flushTlb()`.
 *
 * @module
 */

import type { KvmVm } from "@pvkit/kvm";
import {
  type GuestMemory,
  type InterruptRequest,
  type LocalApicAccess,
  PvkitError,
  type SharedKey,
  type UserHypercallExit,
  type VcpuContext,
  type VmContext,
} from "@pvkit/machine";

function unavailable(what: string): never {
  throw new PvkitError(
    "kvm-context-unavailable",
    `${what} is not available on the KVM backend`,
    "KVM implements this in the kernel; only VMM-provided plugin hooks run on the KVM backend",
  );
}

/**
 * Options of {@linkcode KvmVmContext}.
 *
 * @example
 * ```ts
 * import type { KvmVmContextOptions } from "@pvkit/kvm-probe";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * const o: KvmVmContextOptions = {
 *   memory: new ArrayGuestMemory(new Uint8Array(4096)), vcpuCount: 1, tscKhz: 2_600_000,
 *   inKernelLapic: true, enforcePvCpuid: false, pvFeatures: 0x1007efb, exitHypercall: [],
 *   onUserHypercall: () => 0n,
 * };
 * console.log(o.vcpuCount);
 * ```
 */
export interface KvmVmContextOptions {
  /** The VM's guest RAM. */
  readonly memory: GuestMemory;
  /** Number of vCPUs. */
  readonly vcpuCount: number;
  /** The vCPUs' TSC frequency (KVM_GET_TSC_KHZ). */
  readonly tscKhz: number;
  /** The VM has an in-kernel LAPIC (irqchip on or split). */
  readonly inKernelLapic: boolean;
  /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID is on for the vCPUs. */
  readonly enforcePvCpuid: boolean;
  /** CPUID 0x40000001 EAX as given to the vCPUs (KVM_SET_CPUID2). */
  readonly pvFeatures: number;
  /** The hypercall numbers KVM_CAP_EXIT_HYPERCALL was enabled for. */
  readonly exitHypercall: readonly number[];
  /** The VMM's answer to a KVM_EXIT_HYPERCALL (what it puts in `run->hypercall.ret`). */
  readonly onUserHypercall: (vcpu: VcpuContext, exit: UserHypercallExit) => bigint;
  /** The KVM VM, for KVM_GET_CLOCK (`kvmclockNs`). */
  readonly vm?: KvmVm;
}

/**
 * The VM side of the KVM backend's hook context (see the module documentation for what is
 * provided).
 *
 * @example
 * ```ts
 * import { KvmVmContext } from "@pvkit/kvm-probe";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * const vm = new KvmVmContext({
 *   memory: new ArrayGuestMemory(new Uint8Array(4096)), vcpuCount: 2, tscKhz: 2_600_000,
 *   inKernelLapic: true, enforcePvCpuid: true, pvFeatures: 1 << 3, exitHypercall: [12],
 *   onUserHypercall: () => 0n,
 * });
 * console.log(vm.vcpu(1).apicId, vm.vcpu(0).pvHas(3), vm.vcpu(0).pvHas(4)); // 1 true false
 * ```
 */
export class KvmVmContext implements VmContext {
  readonly #options: KvmVmContextOptions;
  readonly #vcpus: KvmVcpuContext[];

  /** Creates the context and one {@linkcode KvmVcpuContext} per vCPU. */
  constructor(options: KvmVmContextOptions) {
    this.#options = options;
    this.#vcpus = Array.from({ length: options.vcpuCount }, (_, i) => new KvmVcpuContext(this, i));
  }

  /** Number of vCPUs. */
  get vcpuCount(): number {
    return this.#options.vcpuCount;
  }
  /** Guest RAM. */
  get memory(): GuestMemory {
    return this.#options.memory;
  }
  /** The vCPUs' TSC frequency in kHz. */
  get tscKhz(): number {
    return this.#options.tscKhz;
  }
  /** Not available: throws. */
  get schedInfo(): boolean {
    return unavailable("VmContext.schedInfo");
  }
  /** True with an in-kernel LAPIC. */
  get inKernelLapic(): boolean {
    return this.#options.inKernelLapic;
  }
  /** The highest APIC ID (APIC ID = vCPU index here). */
  get maxApicId(): number {
    return this.#options.vcpuCount - 1;
  }
  /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID is on. */
  get enforcePvCpuid(): boolean {
    return this.#options.enforcePvCpuid;
  }
  /** CPUID 0x40000001 EAX of the vCPUs. */
  get pvFeatures(): number {
    return this.#options.pvFeatures;
  }
  /** A vCPU by index; throws a `PvkitError` for an unknown index. */
  vcpu(index: number): KvmVcpuContext {
    const v = this.#vcpus[index];
    if (!v) throw new PvkitError("no-such-vcpu", `no vCPU ${index} (the VM has ${this.vcpuCount})`);
    return v;
  }
  /** A vCPU by APIC ID. */
  vcpuByApicId(apicId: number): KvmVcpuContext | undefined {
    return this.#vcpus[apicId];
  }
  /** KVM_GET_CLOCK's `clock`; throws without a `KvmVm`. */
  kvmclockNs(): bigint {
    return this.#options.vm?.kvmGetClock().clock ?? unavailable("VmContext.kvmclockNs");
  }
  /** The host's CLOCK_REALTIME (ms resolution). */
  realtimeNs(): bigint {
    return BigInt(Date.now()) * 1_000_000n;
  }
  /** True when KVM_CAP_EXIT_HYPERCALL was enabled for `nr`. */
  exitHypercallEnabled(nr: number): boolean {
    return this.#options.exitHypercall.includes(nr);
  }
  /** The VMM's answer to a KVM_EXIT_HYPERCALL. */
  exitToUserspace(vcpu: VcpuContext, exit: UserHypercallExit): bigint {
    return this.#options.onUserHypercall(vcpu, exit);
  }
  /** Not available: throws. */
  runqueueBusy(_vcpu: VcpuContext): boolean {
    return unavailable("VmContext.runqueueBusy");
  }
  /** Not available: throws. */
  yieldTo(_from: VcpuContext, _to: VcpuContext): boolean {
    return unavailable("VmContext.yieldTo");
  }
}

/**
 * One vCPU of a {@linkcode KvmVmContext} (see the module documentation for what is provided).
 *
 * @example
 * ```ts
 * import { KvmVmContext } from "@pvkit/kvm-probe";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * const vm = new KvmVmContext({
 *   memory: new ArrayGuestMemory(new Uint8Array(4096)), vcpuCount: 1, tscKhz: 2_600_000,
 *   inKernelLapic: false, enforcePvCpuid: false, pvFeatures: 0, exitHypercall: [],
 *   onUserHypercall: () => 0n,
 * });
 * const vcpu = vm.vcpu(0);
 * console.log(vcpu.longMode, vcpu.cpl, vcpu.pvHas(17)); // true 0 true (enforcement off)
 * ```
 */
export class KvmVcpuContext implements VcpuContext {
  /** The vCPU's index (its KVM_CREATE_VCPU id). */
  readonly index: number;
  /** The VM. */
  readonly vm: KvmVmContext;
  /** Probes run 64-bit code. */
  readonly longMode = true;
  /** Probes run at CPL 0. */
  readonly cpl = 0;
  readonly #slots: unknown[] = [];
  readonly #shared = new Map<string, unknown>();

  /** Creates vCPU `index` of `vm` (use {@linkcode KvmVmContext.vcpu}). */
  constructor(vm: KvmVmContext, index: number) {
    this.vm = vm;
    this.index = index;
  }

  /** The APIC ID: the index (KVM_CREATE_VCPU's id is the initial APIC ID). */
  get apicId(): number {
    return this.index;
  }
  /** Guest RAM. */
  get memory(): GuestMemory {
    return this.vm.memory;
  }
  /** Undefined without an in-kernel LAPIC; throws otherwise (the LAPIC is in the kernel). */
  get apic(): LocalApicAccess | undefined {
    return this.vm.inKernelLapic ? unavailable("VcpuContext.apic") : undefined;
  }
  /** KVM's guest_pv_has: enforcement off, or the bit set in the vCPUs' leaf 0x40000001 EAX. */
  pvHas(bit: number): boolean {
    return !this.vm.enforcePvCpuid || ((this.vm.pvFeatures >>> bit) & 1) === 1;
  }
  /** Not available: throws. */
  guestTsc(): bigint {
    return unavailable("VcpuContext.guestTsc");
  }
  /** Not available: throws. */
  runDelayNs(): bigint {
    return unavailable("VcpuContext.runDelayNs");
  }
  /** Not available: throws. */
  isPreempted(): boolean {
    return unavailable("VcpuContext.isPreempted");
  }
  /** Not available: throws. */
  isHalted(): boolean {
    return unavailable("VcpuContext.isHalted");
  }
  /** Not available: throws. */
  kick(): void {
    unavailable("VcpuContext.kick");
  }
  /** Not available: throws. */
  requestInterrupt(_request: InterruptRequest): boolean {
    return unavailable("VcpuContext.requestInterrupt");
  }
  /** Not available: throws. */
  injectPageFault(_cr2: bigint): void {
    unavailable("VcpuContext.injectPageFault");
  }
  /** Not available: throws. */
  flushTlb(): void {
    unavailable("VcpuContext.flushTlb");
  }
  /** Per-vCPU plugin state, by key or by name (created on first use). */
  shared<T>(key: SharedKey<T> | string, create?: () => T): T {
    if (typeof key !== "string") {
      if (!(key.slot in this.#slots)) this.#slots[key.slot] = key.create(this);
      return this.#slots[key.slot] as T;
    }
    if (!this.#shared.has(key)) {
      if (!create) throw new PvkitError("no-shared-state", `no per-vCPU state named "${key}"`);
      this.#shared.set(key, create());
    }
    return this.#shared.get(key) as T;
  }
}
