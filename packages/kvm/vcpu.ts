/**
 * A KVM vCPU fd ({@linkcode KvmVcpu}): its `kvm_run` mapping and one method per vCPU ioctl.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { allocKvmCpuid2, type CpuidEntry, decodeKvmCpuid2, encodeKvmCpuid2 } from "./cpuid2.ts";
import { Errno } from "./errno.ts";
import { KvmError } from "./errors.ts";
import { decodeVcpuExit, type VcpuExit } from "./exits.ts";
import { KVM_MAX_CPUID_ENTRIES } from "./cpuid2.ts";
import { KvmFd } from "./kvm_fd.ts";
import { HostMapping } from "./libc.ts";
import type { KvmStatsFd } from "./stats.ts";

function isZeroEntry(e: CpuidEntry): boolean {
  return e.function === 0 && e.index === 0 && e.flags === 0 && e.eax === 0 && e.ebx === 0 &&
    e.ecx === 0 && e.edx === 0;
}

/** `sizeof(struct kvm_lapic_state)`: the APIC register page (KVM_APIC_REG_SIZE, 1 KiB). */
const KVM_LAPIC_STATE_BYTES = 1024;
import {
  decodeKvmMsrs,
  decodeKvmRegs,
  decodeKvmSregs,
  encodeKvmEnableCap,
  encodeKvmMsrs,
  encodeKvmRegs,
  encodeKvmSregs,
  type KvmRegs,
  type KvmSregs,
  type MsrEntry,
} from "./structs.ts";
import { KVM_STRUCT_SIZE } from "./ioctl_numbers.ts";
import { factories, factory } from "./_internal.ts";

// struct kvm_run header fields (spec §1.2).
const RUN_IMMEDIATE_EXIT = 1;
const RUN_EXIT_REASON = 8;

/**
 * A vCPU of a {@linkcode KvmVm}, from {@linkcode KvmVm.kvmCreateVcpu}. Owns the vCPU fd and
 * its `kvm_run` mapping; {@linkcode KvmVcpu.close} (or the VM's close) releases both.
 *
 * {@linkcode KvmVcpu.kvmRun} blocks the calling thread until the guest exits. A guest that
 * never exits (on this project's nested hosts, any VMCALL/VMMCALL in 64-bit mode) blocks it
 * forever, so untrusted guests run through {@linkcode VcpuRunner} or {@linkcode runGuest},
 * which issue KVM_RUN from a Worker under a watchdog.
 *
 * @example
 * ```ts
 * import { KvmSystem, setupLongMode, VcpuRunner } from "@pvkit/kvm";
 * import { Assembler, HIMEM_START } from "@pvkit/x86";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const vcpu = vm.kvmCreateVcpu(0);
 * const code = new Assembler(HIMEM_START).movImm("eax", 7).out(0x10, "al").hlt();
 * setupLongMode(vcpu, vm.mapGuestRam(2 << 20), { code });
 * using runner = await VcpuRunner.start(vcpu); // KVM_RUN on a Worker, under a watchdog
 * const exit = await runner.run(1000);
 * if (exit.kind === "io") console.log(exit.port, exit.value); // 16 7
 * ```
 */
export class KvmVcpu extends KvmFd {
  /** The vCPU id (its initial APIC ID). */
  readonly id: number;
  readonly #run: HostMapping;
  readonly #runBytes: Uint8Array;
  readonly #closeHooks = new Set<() => void>();
  #busy: string | undefined;

  static {
    factories.vcpu = (fd, id, mmapSize) => new KvmVcpu(fd, id, mmapSize);
    factories.setVcpuBusy = (vcpu, busy) => vcpu.#busy = busy;
  }

  private constructor(fd: number, id: number, mmapSize: number) {
    super(fd, `vCPU ${id}`);
    this.id = id;
    try {
      this.#run = HostMapping.shared(fd, mmapSize, 0, `kvm_run of vCPU ${id}`);
    } catch (e) {
      super.close();
      throw e;
    }
    this.#runBytes = new Uint8Array(this.#run.buffer);
  }

  /**
   * The open fd for `operation`. Every ioctl goes through here: while a Worker is inside
   * KVM_RUN on this vCPU, KVM holds the vCPU mutex and an ioctl from this thread would block
   * until the guest exits, so it throws {@linkcode PvkitError} (`kvm-vcpu-busy`) instead.
   */
  protected override liveFd(operation: string): number {
    if (this.#busy !== undefined && !this.closed) {
      throw new PvkitError(
        "kvm-vcpu-busy",
        `${operation} on ${this.label}: the vCPU is inside KVM_RUN on ${this.#busy}`,
        "wait for the run to return (or kick it) before other vCPU ioctls; KVM would block this thread",
      );
    }
    return super.liveFd(operation);
  }

  /**
   * Size of the `kvm_run` mapping in bytes (KVM_GET_VCPU_MMAP_SIZE).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.kvmCreateVcpu(0).runSize); // 12288 on this project's hosts
   * ```
   */
  get runSize(): number {
    return this.#run.length;
  }

  /**
   * `kvm_run.immediate_exit`: while set, KVM_RUN completes any pending I/O and returns EINTR at
   * once instead of entering the guest. Set it before kicking a vCPU thread with a signal, so a
   * kick that lands just before KVM_RUN is not lost.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.immediateExit = true;
   * console.log(vcpu.kvmRun().kind, vcpu.immediateExit); // "intr" true
   * ```
   */
  get immediateExit(): boolean {
    return this.#run.mapped && this.#runBytes[RUN_IMMEDIATE_EXIT] !== 0;
  }
  set immediateExit(value: boolean) {
    if (this.#run.mapped) this.#runBytes[RUN_IMMEDIATE_EXIT] = value ? 1 : 0;
  }

  /**
   * KVM_RUN on the calling thread: enters the guest and returns the decoded exit. EINTR and
   * EAGAIN (a signal, or `immediateExit`) come back as `{ kind: "intr" }`; other failures throw
   * {@linkcode KvmError}. Blocks until the guest exits; see the class notes.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.immediateExit = true; // returns at once, without entering the guest
   * console.log(vcpu.kvmRun().kind); // "intr"
   * ```
   */
  kvmRun(): VcpuExit {
    return this.decodeRunResult(this.tryIoctlValue("KVM_RUN"));
  }

  /**
   * What {@linkcode KvmVcpu.kvmRun} returns, for a KVM_RUN issued elsewhere (a Worker) that
   * returned `result` (0, or `-errno`): decodes `kvm_run`, maps EINTR/EAGAIN to `intr`, and
   * throws {@linkcode KvmError} for other errors.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * console.log(vcpu.decodeRunResult(-4)); // { kind: "intr", exitReason: 0, errno: 4 }
   * ```
   */
  decodeRunResult(result: number): VcpuExit {
    if (!this.#run.mapped) {
      throw new KvmError("KVM_RUN", Errno.EBADF, `${this.label} was closed`);
    }
    if (result >= 0) return decodeVcpuExit(this.#runBytes);
    if (result === -Errno.EINTR || result === -Errno.EAGAIN) {
      const exitReason = new DataView(this.#run.buffer).getUint32(RUN_EXIT_REASON, true);
      return { kind: "intr", exitReason, errno: -result };
    }
    throw new KvmError("KVM_RUN", -result);
  }

  /**
   * KVM_GET_REGS: the general-purpose registers, RIP and RFLAGS.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.kvmCreateVcpu(0).kvmGetRegs().rip.toString(16)); // "fff0" (reset vector)
   * ```
   */
  kvmGetRegs(): KvmRegs {
    const buf = new Uint8Array(KVM_STRUCT_SIZE.kvm_regs);
    this.ioctlBuffer("KVM_GET_REGS", buf);
    return decodeKvmRegs(buf);
  }

  /**
   * KVM_SET_REGS: sets the general-purpose registers, RIP and RFLAGS.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.kvmSetRegs({ ...vcpu.kvmGetRegs(), rax: 42n });
   * console.log(vcpu.kvmGetRegs().rax); // 42n
   * ```
   */
  kvmSetRegs(regs: KvmRegs): void {
    this.ioctlBuffer("KVM_SET_REGS", encodeKvmRegs(regs));
  }

  /**
   * KVM_GET_SREGS: segment registers, descriptor tables, control registers, EFER, APIC base.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.kvmCreateVcpu(0).kvmGetSregs().cr0.toString(16)); // "60000010"
   * ```
   */
  kvmGetSregs(): KvmSregs {
    const buf = new Uint8Array(KVM_STRUCT_SIZE.kvm_sregs);
    this.ioctlBuffer("KVM_GET_SREGS", buf);
    return decodeKvmSregs(buf);
  }

  /**
   * KVM_SET_SREGS: sets the special registers (read them first and change what you need).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * const sregs = vcpu.kvmGetSregs();
   * sregs.cr3 = 0x9000n;
   * vcpu.kvmSetSregs(sregs);
   * console.log(vcpu.kvmGetSregs().cr3.toString(16)); // "9000"
   * ```
   */
  kvmSetSregs(sregs: KvmSregs): void {
    this.ioctlBuffer("KVM_SET_SREGS", encodeKvmSregs(sregs));
  }

  /**
   * KVM_SET_CPUID2: the CPUID the guest sees. Set it before the first KVM_RUN (KVM refuses
   * changes afterwards) and before MSRs whose validity depends on CPUID.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.kvmSetCpuid2(sys.kvmGetSupportedCpuid());
   * console.log(vcpu.kvmGetCpuid2().length > 0); // true
   * ```
   */
  kvmSetCpuid2(entries: readonly CpuidEntry[]): void {
    this.ioctlBuffer("KVM_SET_CPUID2", encodeKvmCpuid2(entries));
  }

  /**
   * KVM_GET_CPUID2: the CPUID entries last set on this vCPU (empty before KVM_SET_CPUID2).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.kvmCreateVcpu(0).kvmGetCpuid2()); // []
   * ```
   */
  kvmGetCpuid2(): CpuidEntry[] {
    const buf = allocKvmCpuid2(KVM_MAX_CPUID_ENTRIES);
    this.ioctlBuffer("KVM_GET_CPUID2", buf);
    const entries = decodeKvmCpuid2(buf);
    // Some kernels (measured: Debian's 6.1 under nested KVM) copy the entries but leave nent at
    // the caller's capacity; the unused rest of the buffer is still zero. A set entry is never
    // all zero after the first (KVM_SET_CPUID2 takes leaf 0 once, first in QEMU's and ours).
    let n = entries.length;
    while (n > 1 && isZeroEntry(entries[n - 1])) n--;
    return entries.slice(0, n);
  }

  /**
   * KVM_GET_MSRS: host-initiated reads of the MSRs in `indices`. KVM stops at the first MSR it
   * cannot read; the result holds the entries it did read, in order (check its length).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * console.log(vcpu.kvmGetMsrs([0x1b])[0].data.toString(16)); // "fee00900" (APIC base)
   * ```
   */
  kvmGetMsrs(indices: readonly number[]): MsrEntry[] {
    const buf = encodeKvmMsrs(indices.map((index) => ({ index, data: 0n })));
    const n = this.ioctlBuffer("KVM_GET_MSRS", buf);
    return decodeKvmMsrs(buf, n);
  }

  /**
   * KVM_SET_MSRS: host-initiated writes. Returns the number of MSRs KVM wrote, as the ioctl
   * does: it stops at the first one it refuses, so a result below `entries.length` names the
   * refused entry by its index in `entries`.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * console.log(vcpu.kvmSetMsrs([{ index: 0x10, data: 0n }])); // 1 (IA32_TSC)
   * ```
   */
  kvmSetMsrs(entries: readonly MsrEntry[]): number {
    return this.ioctlBuffer("KVM_SET_MSRS", encodeKvmMsrs(entries));
  }

  /**
   * KVM_SET_FPU: the x87/SSE control state a vCPU starts with. Only the control words are
   * taken (registers zeroed): `fcw` (x87 control word, 0x37F after FNINIT) and `mxcsr` (0x1F80
   * at reset), the values Firecracker sets for a Linux boot (`src/vmm/src/arch/x86_64/regs.rs`).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmCreateVcpu(0).kvmSetFpu({ fcw: 0x37f, mxcsr: 0x1f80 });
   * ```
   */
  kvmSetFpu(fpu: { readonly fcw: number; readonly mxcsr: number }): void {
    // struct kvm_fpu (arch/x86/include/uapi/asm/kvm.h): fpr[8][16] @0, fcw u16 @128,
    // fsw u16 @130, ftwx u8 @132, last_opcode @134, last_ip @136, last_dp @144,
    // xmm[16][16] @152, mxcsr u32 @408; 416 bytes.
    const buf = new Uint8Array(KVM_STRUCT_SIZE.kvm_fpu);
    const view = new DataView(buf.buffer);
    view.setUint16(128, fpu.fcw, true);
    view.setUint32(408, fpu.mxcsr, true);
    this.ioctlBuffer("KVM_SET_FPU", buf);
  }

  /**
   * KVM_ENABLE_CAP on the vCPU fd, e.g. KVM_CAP_ENFORCE_PV_FEATURE_CPUID with `[1n]`.
   *
   * @example
   * ```ts
   * import { KVM_CAP, KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.kvmEnableCap(KVM_CAP.KVM_CAP_ENFORCE_PV_FEATURE_CPUID, [1n]);
   * ```
   */
  kvmEnableCap(cap: number, args: readonly (bigint | number)[] = [], flags = 0): void {
    this.ioctlBuffer("KVM_ENABLE_CAP", encodeKvmEnableCap(cap, args, flags));
  }

  /**
   * KVM_GET_LAPIC: the in-kernel local APIC's 1 KiB register page (`struct kvm_lapic_state`,
   * registers at their MMIO offsets). Needs an in-kernel irqchip.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmCreateIrqchip();
   * const regs = vm.kvmCreateVcpu(0).kvmGetLapic();
   * console.log(regs.length, new DataView(regs.buffer).getUint32(0x20, true) >>> 24); // 1024 0
   * ```
   */
  kvmGetLapic(): Uint8Array<ArrayBuffer> {
    const buf = new Uint8Array(KVM_LAPIC_STATE_BYTES);
    this.ioctlBuffer("KVM_GET_LAPIC", buf);
    return buf;
  }

  /**
   * KVM_SET_LAPIC: loads the in-kernel local APIC's register page. KVM then rebuilds its APIC
   * map (kvm_apic_set_state), so the vCPU is a destination of IPIs and PV kicks from then on,
   * as after QEMU's reset of a vCPU (kvm_apic_put).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmCreateIrqchip();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.kvmSetLapic(vcpu.kvmGetLapic());
   * ```
   */
  kvmSetLapic(regs: Uint8Array<ArrayBuffer>): void {
    if (regs.length !== KVM_LAPIC_STATE_BYTES) {
      throw new PvkitError(
        "kvm-bad-argument",
        `KVM_SET_LAPIC takes ${KVM_LAPIC_STATE_BYTES} bytes, not ${regs.length}`,
      );
    }
    this.ioctlBuffer("KVM_SET_LAPIC", regs);
  }

  /**
   * KVM_GET_TSC_KHZ: the guest TSC frequency in kHz.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.kvmCreateVcpu(0).kvmGetTscKhz() > 0); // true
   * ```
   */
  kvmGetTscKhz(): number {
    return this.ioctlValue("KVM_GET_TSC_KHZ");
  }

  /**
   * KVM_GET_STATS_FD: this vCPU's binary statistics (`exits`, `halt_exits`, `io_exits`, ...).
   * The returned fd is owned by the caller.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using stats = vm.kvmCreateVcpu(0).kvmGetStatsFd();
   * console.log(stats.names.includes("io_exits")); // true
   * ```
   */
  kvmGetStatsFd(): KvmStatsFd {
    return factory("stats")(this.ioctlValue("KVM_GET_STATS_FD"), `${this.label} stats`);
  }

  /**
   * Registers `hook` to run once, before the vCPU fd closes ({@linkcode VcpuRunner} uses it to
   * stop its Worker first). Returns a function that unregisters it.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.addCloseHook(() => console.log("closing"));
   * vcpu.close(); // prints "closing"
   * ```
   */
  addCloseHook(hook: () => void): () => void {
    this.#closeHooks.add(hook);
    return () => this.#closeHooks.delete(hook);
  }

  /**
   * Runs the close hooks (a {@linkcode VcpuRunner}'s hook kicks a pending KVM_RUN and stops its
   * Worker), unmaps `kvm_run` and closes the fd. Idempotent. A thread stuck inside KVM_RUN keeps
   * the kernel's vCPU alive until it returns; the fd number is closed regardless.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * vcpu.close();
   * vcpu.close(); // no-op
   * console.log(vcpu.closed); // true
   * ```
   */
  override close(): void {
    if (this.closed) return;
    const hooks = [...this.#closeHooks];
    this.#closeHooks.clear();
    let error: unknown;
    for (const hook of hooks) {
      try {
        hook();
      } catch (e) {
        error ??= e;
      }
    }
    try {
      this.#run.unmap();
    } catch (e) {
      error ??= e;
    }
    try {
      super.close();
    } catch (e) {
      error ??= e;
    }
    if (error !== undefined) throw error;
  }
}
