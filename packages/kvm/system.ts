/**
 * The KVM system fd (`/dev/kvm`) and its ioctls: API version, capabilities, supported CPUID,
 * MSR lists and the vCPU mmap size.
 *
 * @module
 */

import { Errno } from "./errno.ts";
import { KvmError } from "./errors.ts";
import { allocKvmCpuid2, type CpuidEntry, decodeKvmCpuid2 } from "./cpuid2.ts";
import type { KvmIoctlName } from "./ioctl_numbers.ts";
import { KvmFd } from "./kvm_fd.ts";
import { libcOpen, O_CLOEXEC, O_RDWR } from "./libc.ts";
import { openFailureHint } from "./_open_failure.ts";
import { factory } from "./_internal.ts";
import type { KvmVm } from "./vm.ts";
// Evaluated for its factory (a static block).
import "./vm.ts";

/**
 * Options for {@linkcode KvmSystem.kvmGetSupportedCpuid} and
 * {@linkcode KvmSystem.kvmGetEmulatedCpuid}.
 *
 * @example
 * ```ts
 * import type { GetCpuidOptions } from "@pvkit/kvm";
 * const opts: GetCpuidOptions = { initialCapacity: 256 };
 * console.log(opts.initialCapacity);
 * ```
 */
export interface GetCpuidOptions {
  /** Entries to allocate first (default 128); doubled on each E2BIG. */
  initialCapacity?: number;
}

// KVM clamps nent to KVM_MAX_CPUID_ENTRIES (256 today); stop doubling well past that.
const MAX_CPUID_CAPACITY = 4096;
const DEFAULT_CPUID_CAPACITY = 128;
// struct kvm_msr_list: u32 nmsrs @0, u32 indices[] @4.
const MAX_MSR_LIST_TRIES = 4;

/**
 * The KVM system fd: an open `/dev/kvm`, with one method per system ioctl, named after it.
 *
 * Close it with {@linkcode KvmSystem.close} (idempotent) or `using`. A closed system throws
 * {@linkcode KvmError} (EBADF) from every ioctl. `open` does not check the API version; call
 * {@linkcode KvmSystem.kvmGetApiVersion} or use {@linkcode probeKvm} for that.
 *
 * @example
 * ```ts
 * import { KVM_CAP, KvmSystem } from "@pvkit/kvm";
 * using kvm = KvmSystem.open();
 * console.log(kvm.kvmGetApiVersion()); // 12
 * console.log(kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_IMMEDIATE_EXIT)); // 1
 * ```
 */
export class KvmSystem extends KvmFd {
  /** The device path this fd was opened from. */
  readonly path: string;

  private constructor(fd: number, path: string) {
    super(fd, path);
    this.path = path;
  }

  /**
   * Opens the KVM device read-write with `O_CLOEXEC`. Throws {@linkcode KvmError} (operation
   * `open(<path>)`, e.g. ENOENT or EACCES, with a hint) or {@linkcode FfiUnavailableError}.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * const kvm = KvmSystem.open("/dev/kvm");
   * kvm.close();
   * ```
   */
  static open(path = "/dev/kvm"): KvmSystem {
    const fd = libcOpen(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) throw new KvmError(`open(${path})`, -fd, openFailureHint(-fd));
    return new KvmSystem(fd, path);
  }

  /**
   * KVM_GET_API_VERSION: the KVM API version, 12 on every kernel since 2.6.22.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using kvm = KvmSystem.open();
   * console.log(kvm.kvmGetApiVersion()); // 12
   * ```
   */
  kvmGetApiVersion(): number {
    return this.ioctlValue("KVM_GET_API_VERSION");
  }

  /**
   * KVM_CHECK_EXTENSION: 0 when the capability is absent, otherwise a positive value (1, a
   * count such as KVM_CAP_MAX_VCPUS, or a bitmask such as KVM_CAP_X2APIC_API).
   *
   * @example
   * ```ts
   * import { KVM_CAP, KvmSystem } from "@pvkit/kvm";
   * using kvm = KvmSystem.open();
   * console.log(kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_NR_VCPUS) > 0); // true
   * ```
   */
  kvmCheckExtension(cap: number): number {
    return this.ioctlValue("KVM_CHECK_EXTENSION", cap);
  }

  /**
   * KVM_GET_VCPU_MMAP_SIZE: bytes to `mmap` from a vCPU fd (`kvm_run`, the PIO data page and
   * the coalesced-MMIO ring; 12288 observed).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using kvm = KvmSystem.open();
   * console.log(kvm.kvmGetVcpuMmapSize() % 4096); // 0
   * ```
   */
  kvmGetVcpuMmapSize(): number {
    return this.ioctlValue("KVM_GET_VCPU_MMAP_SIZE");
  }

  /**
   * KVM_CREATE_VM: a new VM (machine type 0, the default x86 VM). The VM fd stays valid after
   * this system fd closes. Retries EINTR, as QEMU does.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.label, vm.vcpuMmapSize % 4096); // "VM" 0
   * ```
   */
  kvmCreateVm(): KvmVm {
    const mmapSize = this.kvmGetVcpuMmapSize();
    for (let tries = 0;; tries++) {
      const fd = this.tryIoctlValue("KVM_CREATE_VM", 0);
      if (fd >= 0) return factory("vm")(fd, mmapSize);
      if (fd !== -Errno.EINTR || tries >= 10) throw new KvmError("KVM_CREATE_VM", -fd);
    }
  }

  /**
   * KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can expose to a guest on this host,
   * including the KVM leaves 0x40000000 (signature) and 0x40000001 (PV features). The buffer
   * grows on E2BIG.
   *
   * @example
   * ```ts
   * import { findCpuidEntry, KvmSystem } from "@pvkit/kvm";
   * using kvm = KvmSystem.open();
   * const entries = kvm.kvmGetSupportedCpuid();
   * console.log(findCpuidEntry(entries, 0x40000001)?.eax.toString(16)); // e.g. "1007efb"
   * ```
   */
  kvmGetSupportedCpuid(options: GetCpuidOptions = {}): CpuidEntry[] {
    return this.#getCpuid("KVM_GET_SUPPORTED_CPUID", options);
  }

  /**
   * KVM_GET_EMULATED_CPUID: CPUID features KVM emulates in software (e.g. MOVBE, RDPID),
   * which are not in the supported list because they are slow. Grows the buffer on E2BIG.
   *
   * @example
   * ```ts
   * import { KVM_CAP, KvmSystem } from "@pvkit/kvm";
   * using kvm = KvmSystem.open();
   * if (kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_EXT_EMUL_CPUID) > 0) {
   *   console.log(kvm.kvmGetEmulatedCpuid().length);
   * }
   * ```
   */
  kvmGetEmulatedCpuid(options: GetCpuidOptions = {}): CpuidEntry[] {
    return this.#getCpuid("KVM_GET_EMULATED_CPUID", options);
  }

  /**
   * KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves and restores for a guest (including the PV
   * MSRs such as 0x4b564d01 MSR_KVM_SYSTEM_TIME_NEW when supported).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using kvm = KvmSystem.open();
   * console.log(kvm.kvmGetMsrIndexList().includes(0x4b564d01)); // true on x86 KVM
   * ```
   */
  kvmGetMsrIndexList(): number[] {
    return this.#getMsrList("KVM_GET_MSR_INDEX_LIST");
  }

  /**
   * KVM_GET_MSR_FEATURE_INDEX_LIST: the feature MSRs (e.g. IA32_ARCH_CAPABILITIES) whose
   * host-supported values KVM_GET_MSRS on the system fd reports. Needs KVM_CAP_GET_MSR_FEATURES.
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using kvm = KvmSystem.open();
   * console.log(kvm.kvmGetMsrFeatureIndexList().length >= 0); // true
   * ```
   */
  kvmGetMsrFeatureIndexList(): number[] {
    return this.#getMsrList("KVM_GET_MSR_FEATURE_INDEX_LIST");
  }

  #getCpuid(name: KvmIoctlName, options: GetCpuidOptions): CpuidEntry[] {
    const initial = options.initialCapacity ?? DEFAULT_CPUID_CAPACITY;
    if (!Number.isInteger(initial) || initial < 1) {
      throw new RangeError(`initialCapacity must be a positive integer, not ${initial}`);
    }
    for (let capacity = initial;; capacity *= 2) {
      // KVM reads nent as the capacity and writes back the number of entries it filled.
      const buf = allocKvmCpuid2(capacity);
      const r = this.tryIoctlBuffer(name, buf);
      if (r >= 0) return decodeKvmCpuid2(buf);
      if (r !== -Errno.E2BIG || capacity >= MAX_CPUID_CAPACITY) throw new KvmError(name, -r);
    }
  }

  #getMsrList(name: KvmIoctlName): number[] {
    // KVM writes the needed count into nmsrs before failing with E2BIG, so ask with 0 first.
    let capacity = 0;
    for (let tries = 0;; tries++) {
      const buf = new Uint32Array(1 + capacity);
      buf[0] = capacity;
      const r = this.tryIoctlBuffer(name, buf);
      if (r >= 0) return Array.from(buf.subarray(1, 1 + buf[0]));
      if (r !== -Errno.E2BIG || tries >= MAX_MSR_LIST_TRIES) throw new KvmError(name, -r);
      capacity = Math.max(buf[0], capacity * 2, 1);
    }
  }
}
