/**
 * A KVM VM fd ({@linkcode KvmVm}): guest memory, irqchip, capabilities, kvmclock and vCPUs.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { KvmFd } from "./kvm_fd.ts";
import { HostMapping } from "./libc.ts";
import type { MappedGuestMemory } from "./guest_memory.ts";
import type { KvmStatsFd } from "./stats.ts";
import {
  decodeKvmClockData,
  encodeKvmClockData,
  encodeKvmEnableCap,
  encodeUserMemoryRegion,
  type KvmClockData,
  type UserMemoryRegion,
} from "./structs.ts";
import { KVM_STRUCT_SIZE } from "./ioctl_numbers.ts";
import type { KvmVcpu } from "./vcpu.ts";
import { encodeKvmMsrFilter, type MsrFilter, msrFilterBitmapSize } from "./msr_filter.ts";
import { factories, factory } from "./_internal.ts";
// Evaluated for their factories (static blocks).
import "./guest_memory.ts";
import "./stats.ts";
import "./vcpu.ts";

// The MSR filter codec is part of this class's surface.
export * from "./msr_filter.ts";

/**
 * Options for {@linkcode KvmVm.mapGuestRam}.
 *
 * @example
 * ```ts
 * import type { GuestRamOptions } from "@pvkit/kvm";
 * const opts: GuestRamOptions = { slot: 0, guestPhysAddr: 0n, noReserve: true };
 * console.log(opts);
 * ```
 */
export interface GuestRamOptions {
  /** Memory slot (default 0). */
  slot?: number;
  /** First guest-physical address (default 0). */
  guestPhysAddr?: bigint;
  /** `MAP_NORESERVE` for large, sparse RAM (default false). */
  noReserve?: boolean;
}

const PAGE = 4096;

/**
 * `kvm_pit_config.flags` bit: KVM emulates the PC speaker port 0x61 as a dummy
 * (KVM_PIT_SPEAKER_DUMMY, include/uapi/linux/kvm.h).
 *
 * @example
 * ```ts
 * import { KVM_PIT_SPEAKER_DUMMY } from "@pvkit/kvm";
 * console.log(KVM_PIT_SPEAKER_DUMMY); // 1
 * ```
 */
export const KVM_PIT_SPEAKER_DUMMY = 1;

/**
 * A VM, from {@linkcode KvmSystem.kvmCreateVm}: one method per VM ioctl, named after it, plus
 * {@linkcode KvmVm.mapGuestRam} (mmap + KVM_SET_USER_MEMORY_REGION). Owns its vCPUs and guest
 * RAM: {@linkcode KvmVm.close} (idempotent; `using` calls it) closes the vCPUs, unmaps the
 * memory and closes the VM fd.
 *
 * @example
 * ```ts
 * import { KVM_CAP, KvmSystem } from "@pvkit/kvm";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const ram = vm.mapGuestRam(2 << 20);
 * vm.kvmCreateIrqchip();
 * const vcpu = vm.kvmCreateVcpu(0);
 * console.log(ram.size, vcpu.id, vm.kvmCheckExtension(KVM_CAP.KVM_CAP_IRQCHIP)); // 2097152 0 1
 * ```
 */
export class KvmVm extends KvmFd {
  /** Size of each vCPU's `kvm_run` mapping (KVM_GET_VCPU_MMAP_SIZE). */
  readonly vcpuMmapSize: number;
  readonly #vcpus: KvmVcpu[] = [];
  readonly #ram: { slot: number; mapping: HostMapping; memory: MappedGuestMemory }[] = [];

  static {
    factories.vm = (fd, vcpuMmapSize) => new KvmVm(fd, vcpuMmapSize);
  }

  private constructor(fd: number, vcpuMmapSize: number) {
    super(fd, "VM");
    this.vcpuMmapSize = vcpuMmapSize;
  }

  /**
   * The vCPUs created so far (closed ones included until the VM closes).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmCreateVcpu(0);
   * console.log(vm.vcpus.map((v) => v.id)); // [ 0 ]
   * ```
   */
  get vcpus(): readonly KvmVcpu[] {
    return this.#vcpus;
  }

  /**
   * Guest RAM of slot 0, as mapped by {@linkcode KvmVm.mapGuestRam}; throws
   * {@linkcode PvkitError} (`kvm-no-guest-ram`) if none.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.mapGuestRam(2 << 20);
   * console.log(vm.memory.size); // 2097152
   * ```
   */
  get memory(): MappedGuestMemory {
    const slot0 = this.#ram.find((r) => r.slot === 0);
    if (!slot0) {
      throw new PvkitError(
        "kvm-no-guest-ram",
        "this VM has no guest RAM in slot 0",
        "call vm.mapGuestRam(size) first",
      );
    }
    return slot0.memory;
  }

  /**
   * KVM_CHECK_EXTENSION on the VM fd: the capability's value for this VM (preferred over the
   * system fd, since some answers depend on the VM type).
   *
   * @example
   * ```ts
   * import { KVM_CAP, KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.kvmCheckExtension(KVM_CAP.KVM_CAP_EXIT_HYPERCALL)); // 4096
   * ```
   */
  kvmCheckExtension(cap: number): number {
    return this.ioctlValue("KVM_CHECK_EXTENSION", cap);
  }

  /**
   * KVM_SET_USER_MEMORY_REGION: installs (or, with `memorySize` 0, deletes) a memory slot over
   * host memory the caller keeps mapped for the VM's lifetime. {@linkcode KvmVm.mapGuestRam}
   * is the owning form.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const ram = vm.mapGuestRam(2 << 20, { slot: 1, guestPhysAddr: 0x1000_0000n });
   * // Delete slot 1 again (the mapping stays owned by the VM until it closes).
   * vm.kvmSetUserMemoryRegion({
   *   slot: 1, flags: 0, guestPhysAddr: 0x1000_0000n, memorySize: 0n, userspaceAddr: ram.hostAddress,
   * });
   * ```
   */
  kvmSetUserMemoryRegion(region: UserMemoryRegion): void {
    this.ioctlBuffer("KVM_SET_USER_MEMORY_REGION", encodeUserMemoryRegion(region));
  }

  /**
   * Maps `size` bytes of zeroed anonymous host memory (a page multiple) and installs it as
   * memory slot `slot` at `guestPhysAddr` (default: slot 0 at GPA 0). Returns it as a
   * `GuestMemory` whose GPA 0 is the slot's first byte; slot 0 is also {@linkcode KvmVm.memory}.
   * The VM unmaps it on close.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const ram = vm.mapGuestRam(2 << 20);
   * ram.writeU8(0x100000n, 0xf4);
   * console.log(vm.memory.readU8(0x100000n)); // 244
   * ```
   */
  mapGuestRam(size: number, options: GuestRamOptions = {}): MappedGuestMemory {
    const slot = options.slot ?? 0;
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE !== 0) {
      throw new PvkitError(
        "kvm-bad-guest-ram",
        `guest RAM size ${size} is not a positive multiple of ${PAGE}`,
      );
    }
    if (this.#ram.some((r) => r.slot === slot)) {
      throw new PvkitError("kvm-bad-guest-ram", `memory slot ${slot} is already mapped`);
    }
    this.liveFd("mapGuestRam");
    const mapping = HostMapping.anonymous(size, { noReserve: options.noReserve }, "guest RAM");
    try {
      this.kvmSetUserMemoryRegion({
        slot,
        flags: 0,
        guestPhysAddr: options.guestPhysAddr ?? 0n,
        memorySize: BigInt(size),
        userspaceAddr: mapping.address,
      });
    } catch (e) {
      mapping.unmap();
      throw e;
    }
    const memory = factory("memory")(mapping);
    this.#ram.push({ slot, mapping, memory });
    return memory;
  }

  /**
   * KVM_SET_TSS_ADDR: the GPA of a 3-page region KVM may use for the real-mode TSS on Intel
   * (Firecracker and kvmtool use 0xFFFBD000). Harmless on AMD.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmSetTssAddr(0xfffbd000);
   * ```
   */
  kvmSetTssAddr(gpa: number | bigint): void {
    this.ioctlValue("KVM_SET_TSS_ADDR", gpa);
  }

  /**
   * KVM_CREATE_IRQCHIP: the in-kernel PIC, IOAPIC and a LAPIC per vCPU. Call it before any
   * vCPU. With it, HLT blocks inside KVM (no `hlt` exit): end guest programs with port I/O.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmCreateIrqchip();
   * ```
   */
  kvmCreateIrqchip(): void {
    this.ioctlValue("KVM_CREATE_IRQCHIP");
  }

  /**
   * KVM_CREATE_PIT2: the in-kernel i8254 PIT (ports 0x40-0x43, IRQ 0). Call it after
   * {@linkcode KvmVm.kvmCreateIrqchip}. `flags` defaults to KVM_PIT_SPEAKER_DUMMY (1), which
   * makes KVM answer port 0x61 itself, as Firecracker does (`src/vmm/src/vstate/vm.rs`).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmCreateIrqchip();
   * vm.kvmCreatePit2();
   * ```
   */
  kvmCreatePit2(flags: number = KVM_PIT_SPEAKER_DUMMY): void {
    const config = new Uint8Array(KVM_STRUCT_SIZE.kvm_pit_config); // struct kvm_pit_config
    new DataView(config.buffer).setUint32(0, flags, true);
    this.ioctlBuffer("KVM_CREATE_PIT2", config);
  }

  /**
   * KVM_IRQ_LINE: sets GSI `irq` of the in-kernel irqchip to `level` (1 raised, 0 lowered).
   * An ISA interrupt is an edge: raise then lower it (Documentation/virt/kvm/api.rst).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmCreateIrqchip();
   * vm.kvmIrqLine(4, 1);
   * vm.kvmIrqLine(4, 0);
   * ```
   */
  kvmIrqLine(irq: number, level: 0 | 1): void {
    const buf = new Uint8Array(KVM_STRUCT_SIZE.kvm_irq_level); // { u32 irq; u32 level }
    const view = new DataView(buf.buffer);
    view.setUint32(0, irq, true);
    view.setUint32(4, level, true);
    this.ioctlBuffer("KVM_IRQ_LINE", buf);
  }

  /**
   * KVM_ENABLE_CAP on the VM fd. The ones pvkit uses: KVM_CAP_SPLIT_IRQCHIP with `[24n]` (GSI
   * routes for a userspace IOAPIC; instead of, and EEXIST after, KVM_CREATE_IRQCHIP, and before
   * any vCPU), KVM_CAP_X2APIC_API with `[3n]` (32-bit APIC IDs, no broadcast quirk),
   * KVM_CAP_EXIT_HYPERCALL with `[1n << 12n]` (KVM_HC_MAP_GPA_RANGE exits to userspace; the
   * only bit KVM accepts), KVM_CAP_X86_USER_SPACE_MSR with a reason mask.
   *
   * @example
   * ```ts
   * import { KVM_CAP, KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmEnableCap(KVM_CAP.KVM_CAP_SPLIT_IRQCHIP, [24n]);
   * vm.kvmEnableCap(KVM_CAP.KVM_CAP_X2APIC_API, [3n]);
   * vm.kvmEnableCap(KVM_CAP.KVM_CAP_EXIT_HYPERCALL, [1n << 12n]);
   * ```
   */
  kvmEnableCap(cap: number, args: readonly (bigint | number)[] = [], flags = 0): void {
    this.ioctlBuffer("KVM_ENABLE_CAP", encodeKvmEnableCap(cap, args, flags));
  }

  /**
   * KVM_X86_SET_MSR_FILTER: replaces the VM's MSR filter (Documentation/virt/kvm/api.rst). Each range's
   * bitmap is copied into a scratch host mapping for the call (KVM copies it in turn); with
   * KVM_CAP_X86_USER_SPACE_MSR's {@linkcode KVM_MSR_EXIT_REASON_FILTER}, denied guest RDMSR/WRMSR
   * exit to userspace instead of raising #GP. Host accesses (KVM_GET/SET_MSRS) are never filtered.
   * A filter with no range and the default-allow flag removes filtering.
   *
   * @example
   * ```ts
   * import {
   *   denyMsrs, KVM_CAP, KVM_MSR_EXIT_REASON_FILTER, KVM_MSR_FILTER_DEFAULT_ALLOW,
   *   KVM_MSR_FILTER_READ, KVM_MSR_FILTER_WRITE, KvmSystem,
   * } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmEnableCap(KVM_CAP.KVM_CAP_X86_USER_SPACE_MSR, [KVM_MSR_EXIT_REASON_FILTER]);
   * vm.kvmX86SetMsrFilter({
   *   flags: KVM_MSR_FILTER_DEFAULT_ALLOW,
   *   ranges: [denyMsrs(KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, [0x4b564d08])],
   * });
   * ```
   */
  kvmX86SetMsrFilter(filter: MsrFilter): void {
    const offsets: number[] = [];
    let size = 0;
    for (const r of filter.ranges) {
      offsets.push(size);
      size += Math.max(8, msrFilterBitmapSize(r.nmsrs));
    }
    if (size === 0) {
      this.ioctlBuffer("KVM_X86_SET_MSR_FILTER", encodeKvmMsrFilter(filter, []));
      return;
    }
    using scratch = HostMapping.anonymous(size, {}, "MSR filter bitmaps");
    const bytes = new Uint8Array(scratch.buffer);
    filter.ranges.forEach((r, i) => {
      bytes.set(r.bitmap.subarray(0, msrFilterBitmapSize(r.nmsrs)), offsets[i]);
    });
    const addresses = offsets.map((o) => scratch.address + BigInt(o));
    this.ioctlBuffer("KVM_X86_SET_MSR_FILTER", encodeKvmMsrFilter(filter, addresses));
  }

  /**
   * KVM_GET_CLOCK: the VM's kvmclock in ns, with the host's realtime and TSC when flagged.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const c = vm.kvmGetClock();
   * // flags: KVM sets REALTIME/HOST_TSC (and TSC_STABLE) only with a stable master clock.
   * console.log(c.clock >= 0n, c.flags); // true 0 on this project's nested hosts
   * ```
   */
  kvmGetClock(): KvmClockData {
    const buf = new Uint8Array(KVM_STRUCT_SIZE.kvm_clock_data);
    this.ioctlBuffer("KVM_GET_CLOCK", buf);
    return decodeKvmClockData(buf);
  }

  /**
   * KVM_SET_CLOCK: sets kvmclock. With {@linkcode KVM_CLOCK_REALTIME} in `flags`, KVM adds the
   * wall time elapsed since `realtime` (how a paused VM's clock is carried forward).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * vm.kvmSetClock({ clock: 5_000_000_000n, flags: 0, realtime: 0n, hostTsc: 0n });
   * console.log(vm.kvmGetClock().clock >= 5_000_000_000n); // true
   * ```
   */
  kvmSetClock(data: KvmClockData): void {
    this.ioctlBuffer("KVM_SET_CLOCK", encodeKvmClockData(data));
  }

  /**
   * KVM_CREATE_VCPU: creates vCPU `id` (its initial APIC ID) and maps its `kvm_run`. The VM
   * keeps it and closes it on {@linkcode KvmVm.close}.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * const vcpu = vm.kvmCreateVcpu(0);
   * console.log(vcpu.label, vm.vcpus.length); // "vCPU 0" 1
   * ```
   */
  kvmCreateVcpu(id: number): KvmVcpu {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
      throw new PvkitError("kvm-bad-vcpu-id", `vCPU id ${id} is not an unsigned 32-bit integer`);
    }
    const fd = this.ioctlValue("KVM_CREATE_VCPU", id);
    const vcpu = factory("vcpu")(fd, id, this.vcpuMmapSize);
    this.#vcpus.push(vcpu);
    return vcpu;
  }

  /**
   * KVM_GET_STATS_FD on the VM fd: VM-wide statistics (e.g. `remote_tlb_flush`, `pages_4k`).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * using stats = vm.kvmGetStatsFd();
   * console.log(stats.names.length > 0); // true
   * ```
   */
  kvmGetStatsFd(): KvmStatsFd {
    return factory("stats")(this.ioctlValue("KVM_GET_STATS_FD"), "VM stats");
  }

  /**
   * Closes every vCPU (running their close hooks, which stop runner Workers), unmaps guest RAM
   * and closes the VM fd. Idempotent; every step runs even if an earlier one fails, and the
   * first error is rethrown at the end.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * const vm = sys.kvmCreateVm();
   * const ram = vm.mapGuestRam(2 << 20);
   * const vcpu = vm.kvmCreateVcpu(0);
   * vm.close();
   * console.log(vm.closed, vcpu.closed, ram.mapped); // true true false
   * ```
   */
  override close(): void {
    if (this.closed) return;
    let error: unknown;
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (e) {
        error ??= e;
      }
    };
    for (const vcpu of this.#vcpus) attempt(() => vcpu.close());
    // The slots are not deleted first: KVM follows the munmap through its MMU notifier, and a
    // slot deletion waits for every vCPU to leave its SRCU read section, which a vCPU thread
    // stuck in KVM_RUN might never do.
    for (const r of this.#ram) attempt(() => r.mapping.unmap());
    this.#ram.length = 0;
    attempt(() => super.close());
    if (error !== undefined) throw error;
  }
}
