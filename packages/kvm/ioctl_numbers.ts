/**
 * KVM ioctl request numbers and capability numbers for x86-64, computed from the
 * `asm-generic/ioctl.h` encoding and the uapi struct sizes rather than copied as magic numbers.
 *
 * Sources: torvalds/linux `include/uapi/linux/kvm.h`, `arch/x86/include/uapi/asm/kvm.h`;
 * every number was cross-checked with gcc against the Linux 6.1 uapi headers.
 *
 * @module
 */

/**
 * `_IOC_NONE`: the ioctl moves no data through its argument.
 *
 * @example
 * ```ts
 * import { IOC_NONE, ioc } from "@pvkit/kvm";
 * console.log(ioc(IOC_NONE, 0xae, 0x80, 0).toString(16)); // "ae80"
 * ```
 */
export const IOC_NONE = 0;
/**
 * `_IOC_WRITE`: userspace writes the argument struct to the kernel.
 *
 * @example
 * ```ts
 * import { IOC_WRITE, ioc } from "@pvkit/kvm";
 * console.log(ioc(IOC_WRITE, 0xae, 0x82, 144).toString(16)); // "4090ae82"
 * ```
 */
export const IOC_WRITE = 1;
/**
 * `_IOC_READ`: the kernel fills the argument struct.
 *
 * @example
 * ```ts
 * import { IOC_READ, ioc } from "@pvkit/kvm";
 * console.log(ioc(IOC_READ, 0xae, 0x81, 144).toString(16)); // "8090ae81"
 * ```
 */
export const IOC_READ = 2;

/**
 * `KVMIO`, the ioctl "type" byte of every KVM request.
 *
 * @example
 * ```ts
 * import { KVMIO, io } from "@pvkit/kvm";
 * console.log(io(KVMIO, 0x00).toString(16)); // "ae00" (KVM_GET_API_VERSION)
 * ```
 */
export const KVMIO = 0xae;

/**
 * The only KVM API version pvkit accepts from `KVM_GET_API_VERSION` (stable since Linux 2.6.22).
 *
 * @example
 * ```ts
 * import { KVM_API_VERSION } from "@pvkit/kvm";
 * console.log(KVM_API_VERSION); // 12
 * ```
 */
export const KVM_API_VERSION = 12;

// asm-generic/ioctl.h: nr 8 bits @0, type 8 bits @8, size 14 bits @16, dir 2 bits @30.
const NR_BITS = 8;
const TYPE_BITS = 8;
const SIZE_BITS = 14;
const DIR_BITS = 2;

function checkField(field: string, value: number, bits: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`ioctl ${field} ${value} does not fit in ${bits} bits`);
  }
}

/**
 * `_IOC(dir, type, nr, size)`: encodes an ioctl request number as an unsigned 32-bit number.
 *
 * Throws `RangeError` when a field does not fit (e.g. a struct of 16 KiB or more).
 *
 * @example
 * ```ts
 * import { IOC_READ, IOC_WRITE, ioc } from "@pvkit/kvm";
 * // KVM_GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, struct kvm_cpuid2)
 * console.log(ioc(IOC_READ | IOC_WRITE, 0xae, 0x05, 8).toString(16)); // "c008ae05"
 * ```
 */
export function ioc(dir: number, type: number, nr: number, size: number): number {
  checkField("dir", dir, DIR_BITS);
  checkField("type", type, TYPE_BITS);
  checkField("nr", nr, NR_BITS);
  checkField("size", size, SIZE_BITS);
  // Arithmetic, not `<<`: dir << 30 would overflow JavaScript's signed 32-bit shifts.
  return dir * 2 ** 30 + size * 2 ** 16 + type * 2 ** 8 + nr;
}

/**
 * `_IO(type, nr)`: a request with no argument struct.
 *
 * @example
 * ```ts
 * import { KVMIO, io } from "@pvkit/kvm";
 * console.log(io(KVMIO, 0x80).toString(16)); // "ae80" (KVM_RUN)
 * ```
 */
export function io(type: number, nr: number): number {
  return ioc(IOC_NONE, type, nr, 0);
}

/**
 * `_IOR(type, nr, struct)`: the kernel writes a struct of `size` bytes.
 *
 * @example
 * ```ts
 * import { KVMIO, ior } from "@pvkit/kvm";
 * console.log(ior(KVMIO, 0x83, 312).toString(16)); // "8138ae83" (KVM_GET_SREGS)
 * ```
 */
export function ior(type: number, nr: number, size: number): number {
  return ioc(IOC_READ, type, nr, size);
}

/**
 * `_IOW(type, nr, struct)`: the kernel reads a struct of `size` bytes.
 *
 * @example
 * ```ts
 * import { KVMIO, iow } from "@pvkit/kvm";
 * console.log(iow(KVMIO, 0x46, 32).toString(16)); // "4020ae46" (KVM_SET_USER_MEMORY_REGION)
 * ```
 */
export function iow(type: number, nr: number, size: number): number {
  return ioc(IOC_WRITE, type, nr, size);
}

/**
 * `_IOWR(type, nr, struct)`: the kernel reads and writes a struct of `size` bytes.
 *
 * @example
 * ```ts
 * import { KVMIO, iowr } from "@pvkit/kvm";
 * console.log(iowr(KVMIO, 0x88, 8).toString(16)); // "c008ae88" (KVM_GET_MSRS)
 * ```
 */
export function iowr(type: number, nr: number, size: number): number {
  return ioc(IOC_READ | IOC_WRITE, type, nr, size);
}

/**
 * The four fields of an ioctl request number, as {@linkcode decodeIoctl} returns them.
 *
 * @example
 * ```ts
 * import type { IoctlFields } from "@pvkit/kvm";
 * const f: IoctlFields = { dir: 2, type: 0xae, nr: 0x81, size: 144 };
 * console.log(f.size);
 * ```
 */
export interface IoctlFields {
  /** Data direction: {@linkcode IOC_NONE}, {@linkcode IOC_WRITE}, {@linkcode IOC_READ} or both. */
  dir: number;
  /** The driver's type byte ({@linkcode KVMIO} for KVM). */
  type: number;
  /** The command number within the type. */
  nr: number;
  /** The argument struct's size in bytes (its fixed part, for flexible-array structs). */
  size: number;
}

/**
 * Splits an ioctl request number into direction, type, number and size.
 *
 * @example
 * ```ts
 * import { decodeIoctl } from "@pvkit/kvm";
 * console.log(decodeIoctl(0x4068aea3)); // { dir: 1, type: 174, nr: 163, size: 104 }
 * ```
 */
export function decodeIoctl(request: number): IoctlFields {
  return {
    dir: Math.floor(request / 2 ** 30) % 2 ** DIR_BITS,
    type: Math.floor(request / 2 ** 8) % 2 ** TYPE_BITS,
    nr: request % 2 ** NR_BITS,
    size: Math.floor(request / 2 ** 16) % 2 ** SIZE_BITS,
  };
}

/**
 * `sizeof` of the uapi structs whose size is encoded in a KVM request number (x86-64). For a
 * struct ending in a flexible array (`kvm_cpuid2`, `kvm_msrs`, ...) it is the header's size.
 *
 * @example
 * ```ts
 * import { KVM_STRUCT_SIZE } from "@pvkit/kvm";
 * console.log(KVM_STRUCT_SIZE.kvm_regs); // 144
 * ```
 */
export const KVM_STRUCT_SIZE = {
  kvm_msr_list: 4,
  kvm_cpuid2: 8,
  kvm_cpuid_entry2: 40,
  kvm_userspace_memory_region: 32,
  kvm_irq_level: 8,
  kvm_irqchip: 520,
  kvm_irq_routing: 8,
  kvm_irq_routing_entry: 48,
  kvm_irqfd: 32,
  kvm_pit_config: 64,
  kvm_ioeventfd: 64,
  kvm_clock_data: 48,
  kvm_regs: 144,
  kvm_sregs: 312,
  kvm_sregs2: 320,
  kvm_translation: 24,
  kvm_interrupt: 4,
  kvm_msrs: 8,
  kvm_msr_entry: 16,
  kvm_signal_mask: 4,
  kvm_fpu: 416,
  kvm_lapic_state: 1024,
  kvm_mp_state: 4,
  kvm_guest_debug: 72,
  kvm_vcpu_events: 64,
  kvm_debugregs: 128,
  kvm_xsave: 4096,
  kvm_xcrs: 392,
  kvm_enable_cap: 104,
  kvm_msi: 32,
  kvm_msr_filter: 392,
  kvm_msr_filter_range: 24,
  kvm_dirty_log: 16,
  kvm_run: 2352,
  u64: 8,
} as const;

const S = KVM_STRUCT_SIZE;

/**
 * The KVM ioctl request numbers pvkit uses, keyed by their C names. See
 * {@linkcode KvmIoctlNumbers} for what each takes; the fd column is where the ioctl is issued.
 *
 * @example
 * ```ts
 * import { KVM_IOCTL } from "@pvkit/kvm";
 * console.log(KVM_IOCTL.KVM_GET_SUPPORTED_CPUID.toString(16)); // "c008ae05"
 * ```
 */
export const KVM_IOCTL: KvmIoctlNumbers = Object.freeze({
  // System fd (/dev/kvm).
  KVM_GET_API_VERSION: io(KVMIO, 0x00),
  KVM_CREATE_VM: io(KVMIO, 0x01),
  KVM_GET_MSR_INDEX_LIST: iowr(KVMIO, 0x02, S.kvm_msr_list),
  KVM_CHECK_EXTENSION: io(KVMIO, 0x03),
  KVM_GET_VCPU_MMAP_SIZE: io(KVMIO, 0x04),
  KVM_GET_SUPPORTED_CPUID: iowr(KVMIO, 0x05, S.kvm_cpuid2),
  KVM_GET_EMULATED_CPUID: iowr(KVMIO, 0x09, S.kvm_cpuid2),
  KVM_GET_MSR_FEATURE_INDEX_LIST: iowr(KVMIO, 0x0a, S.kvm_msr_list),
  // VM fd.
  KVM_CREATE_VCPU: io(KVMIO, 0x41),
  KVM_GET_DIRTY_LOG: iow(KVMIO, 0x42, S.kvm_dirty_log),
  KVM_SET_USER_MEMORY_REGION: iow(KVMIO, 0x46, S.kvm_userspace_memory_region),
  KVM_SET_TSS_ADDR: io(KVMIO, 0x47),
  KVM_SET_IDENTITY_MAP_ADDR: iow(KVMIO, 0x48, S.u64),
  KVM_CREATE_IRQCHIP: io(KVMIO, 0x60),
  KVM_IRQ_LINE: iow(KVMIO, 0x61, S.kvm_irq_level),
  KVM_GET_IRQCHIP: iowr(KVMIO, 0x62, S.kvm_irqchip),
  // Declared _IOR in kvm.h although userspace writes the struct (a historic quirk).
  KVM_SET_IRQCHIP: ior(KVMIO, 0x63, S.kvm_irqchip),
  KVM_IRQ_LINE_STATUS: iowr(KVMIO, 0x67, S.kvm_irq_level),
  KVM_SET_GSI_ROUTING: iow(KVMIO, 0x6a, S.kvm_irq_routing),
  KVM_IRQFD: iow(KVMIO, 0x76, S.kvm_irqfd),
  KVM_CREATE_PIT2: iow(KVMIO, 0x77, S.kvm_pit_config),
  KVM_IOEVENTFD: iow(KVMIO, 0x79, S.kvm_ioeventfd),
  KVM_SET_CLOCK: iow(KVMIO, 0x7b, S.kvm_clock_data),
  KVM_GET_CLOCK: ior(KVMIO, 0x7c, S.kvm_clock_data),
  KVM_SIGNAL_MSI: iow(KVMIO, 0xa5, S.kvm_msi),
  KVM_X86_SET_MSR_FILTER: iow(KVMIO, 0xc6, S.kvm_msr_filter),
  // vCPU fd.
  KVM_RUN: io(KVMIO, 0x80),
  KVM_GET_REGS: ior(KVMIO, 0x81, S.kvm_regs),
  KVM_SET_REGS: iow(KVMIO, 0x82, S.kvm_regs),
  KVM_GET_SREGS: ior(KVMIO, 0x83, S.kvm_sregs),
  KVM_SET_SREGS: iow(KVMIO, 0x84, S.kvm_sregs),
  KVM_TRANSLATE: iowr(KVMIO, 0x85, S.kvm_translation),
  KVM_INTERRUPT: iow(KVMIO, 0x86, S.kvm_interrupt),
  KVM_GET_MSRS: iowr(KVMIO, 0x88, S.kvm_msrs),
  KVM_SET_MSRS: iow(KVMIO, 0x89, S.kvm_msrs),
  KVM_SET_SIGNAL_MASK: iow(KVMIO, 0x8b, S.kvm_signal_mask),
  KVM_GET_FPU: ior(KVMIO, 0x8c, S.kvm_fpu),
  KVM_SET_FPU: iow(KVMIO, 0x8d, S.kvm_fpu),
  KVM_GET_LAPIC: ior(KVMIO, 0x8e, S.kvm_lapic_state),
  KVM_SET_LAPIC: iow(KVMIO, 0x8f, S.kvm_lapic_state),
  KVM_SET_CPUID2: iow(KVMIO, 0x90, S.kvm_cpuid2),
  KVM_GET_CPUID2: iowr(KVMIO, 0x91, S.kvm_cpuid2),
  KVM_GET_MP_STATE: ior(KVMIO, 0x98, S.kvm_mp_state),
  KVM_SET_MP_STATE: iow(KVMIO, 0x99, S.kvm_mp_state),
  KVM_NMI: io(KVMIO, 0x9a),
  KVM_SET_GUEST_DEBUG: iow(KVMIO, 0x9b, S.kvm_guest_debug),
  KVM_GET_VCPU_EVENTS: ior(KVMIO, 0x9f, S.kvm_vcpu_events),
  KVM_SET_VCPU_EVENTS: iow(KVMIO, 0xa0, S.kvm_vcpu_events),
  KVM_GET_DEBUGREGS: ior(KVMIO, 0xa1, S.kvm_debugregs),
  KVM_SET_DEBUGREGS: iow(KVMIO, 0xa2, S.kvm_debugregs),
  KVM_SET_TSC_KHZ: io(KVMIO, 0xa2),
  KVM_GET_TSC_KHZ: io(KVMIO, 0xa3),
  KVM_GET_XSAVE: ior(KVMIO, 0xa4, S.kvm_xsave),
  KVM_SET_XSAVE: iow(KVMIO, 0xa5, S.kvm_xsave),
  KVM_GET_XCRS: ior(KVMIO, 0xa6, S.kvm_xcrs),
  KVM_SET_XCRS: iow(KVMIO, 0xa7, S.kvm_xcrs),
  KVM_KVMCLOCK_CTRL: io(KVMIO, 0xad),
  KVM_GET_SREGS2: ior(KVMIO, 0xcc, S.kvm_sregs2),
  KVM_SET_SREGS2: iow(KVMIO, 0xcd, S.kvm_sregs2),
  // VM and vCPU fds.
  KVM_ENABLE_CAP: iow(KVMIO, 0xa3, S.kvm_enable_cap),
  KVM_GET_STATS_FD: io(KVMIO, 0xce),
});

/**
 * The shape of {@linkcode KVM_IOCTL}: one request number per ioctl, with its fd and argument.
 *
 * @example
 * ```ts
 * import { KVM_IOCTL, type KvmIoctlNumbers } from "@pvkit/kvm";
 * const table: KvmIoctlNumbers = KVM_IOCTL;
 * console.log(table.KVM_RUN === 0xae80); // true
 * ```
 */
export interface KvmIoctlNumbers {
  /** `0xAE00`, system fd, no argument: returns the API version (must be 12). */
  readonly KVM_GET_API_VERSION: number;
  /** `0xAE01`, system fd, value = machine type (0): returns a VM fd. */
  readonly KVM_CREATE_VM: number;
  /** `0xC004AE02`, system fd, `struct kvm_msr_list`: MSRs KVM saves and restores. */
  readonly KVM_GET_MSR_INDEX_LIST: number;
  /** `0xAE03`, system or VM fd, value = capability: returns 0 or the capability's value. */
  readonly KVM_CHECK_EXTENSION: number;
  /** `0xAE04`, system fd: returns the size of a vCPU fd's `kvm_run` mapping. */
  readonly KVM_GET_VCPU_MMAP_SIZE: number;
  /** `0xC008AE05`, system fd, `struct kvm_cpuid2`: CPUID bits KVM can expose (E2BIG if small). */
  readonly KVM_GET_SUPPORTED_CPUID: number;
  /** `0xC008AE09`, system fd, `struct kvm_cpuid2`: CPUID bits KVM emulates in software. */
  readonly KVM_GET_EMULATED_CPUID: number;
  /** `0xC004AE0A`, system fd, `struct kvm_msr_list`: feature MSRs readable with KVM_GET_MSRS. */
  readonly KVM_GET_MSR_FEATURE_INDEX_LIST: number;
  /** `0xAE41`, VM fd, value = vCPU id (initial APIC ID): returns a vCPU fd. */
  readonly KVM_CREATE_VCPU: number;
  /** `0x4010AE42`, VM fd, `struct kvm_dirty_log`: a memory slot's dirty bitmap. */
  readonly KVM_GET_DIRTY_LOG: number;
  /** `0x4020AE46`, VM fd, `struct kvm_userspace_memory_region`: maps host memory as guest RAM. */
  readonly KVM_SET_USER_MEMORY_REGION: number;
  /** `0xAE47`, VM fd, value = GPA of a 3-page hole for the real-mode TSS. */
  readonly KVM_SET_TSS_ADDR: number;
  /** `0x4008AE48`, VM fd, pointer to a u64 GPA (unlike TSS): the identity-map page. */
  readonly KVM_SET_IDENTITY_MAP_ADDR: number;
  /** `0xAE60`, VM fd: creates the in-kernel PIC, IOAPIC and LAPICs (before any vCPU). */
  readonly KVM_CREATE_IRQCHIP: number;
  /** `0x4008AE61`, VM fd, `struct kvm_irq_level`: drives a GSI line. */
  readonly KVM_IRQ_LINE: number;
  /** `0xC208AE62`, VM fd, `struct kvm_irqchip`: reads PIC or IOAPIC state. */
  readonly KVM_GET_IRQCHIP: number;
  /** `0x8208AE63`, VM fd, `struct kvm_irqchip`: writes PIC or IOAPIC state (declared `_IOR`). */
  readonly KVM_SET_IRQCHIP: number;
  /** `0xC008AE67`, VM fd, `struct kvm_irq_level`: like KVM_IRQ_LINE, returning a status. */
  readonly KVM_IRQ_LINE_STATUS: number;
  /** `0x4008AE6A`, VM fd, `struct kvm_irq_routing`: replaces the whole GSI routing table. */
  readonly KVM_SET_GSI_ROUTING: number;
  /** `0x4020AE76`, VM fd, `struct kvm_irqfd`: binds an eventfd to a GSI. */
  readonly KVM_IRQFD: number;
  /** `0x4040AE77`, VM fd, `struct kvm_pit_config`: creates the in-kernel i8254 PIT. */
  readonly KVM_CREATE_PIT2: number;
  /** `0x4040AE79`, VM fd, `struct kvm_ioeventfd`: signals an eventfd on a guest write. */
  readonly KVM_IOEVENTFD: number;
  /** `0x4030AE7B`, VM fd, `struct kvm_clock_data`: sets kvmclock for the whole VM. */
  readonly KVM_SET_CLOCK: number;
  /** `0x8030AE7C`, VM fd, `struct kvm_clock_data`: reads kvmclock (ns). */
  readonly KVM_GET_CLOCK: number;
  /** `0x4020AEA5`, VM fd, `struct kvm_msi`: injects an MSI; returns >0 delivered, 0 blocked. */
  readonly KVM_SIGNAL_MSI: number;
  /** `0x4188AEC6`, VM fd, `struct kvm_msr_filter`: allow/deny bitmaps for guest MSR access. */
  readonly KVM_X86_SET_MSR_FILTER: number;
  /** `0xAE80`, vCPU fd: runs the vCPU until an exit; read `kvm_run.exit_reason`. */
  readonly KVM_RUN: number;
  /** `0x8090AE81`, vCPU fd, `struct kvm_regs` (144 B). */
  readonly KVM_GET_REGS: number;
  /** `0x4090AE82`, vCPU fd, `struct kvm_regs` (144 B). */
  readonly KVM_SET_REGS: number;
  /** `0x8138AE83`, vCPU fd, `struct kvm_sregs` (312 B). */
  readonly KVM_GET_SREGS: number;
  /** `0x4138AE84`, vCPU fd, `struct kvm_sregs` (312 B). */
  readonly KVM_SET_SREGS: number;
  /** `0xC018AE85`, vCPU fd, `struct kvm_translation`: guest-virtual to guest-physical. */
  readonly KVM_TRANSLATE: number;
  /** `0x4004AE86`, vCPU fd, `struct kvm_interrupt`: injects an interrupt (no in-kernel LAPIC). */
  readonly KVM_INTERRUPT: number;
  /** `0xC008AE88`, vCPU (or system, for feature MSRs) fd, `struct kvm_msrs`: returns count read. */
  readonly KVM_GET_MSRS: number;
  /** `0x4008AE89`, vCPU fd, `struct kvm_msrs`: returns the number of MSRs written. */
  readonly KVM_SET_MSRS: number;
  /** `0x4004AE8B`, vCPU fd, `struct kvm_signal_mask`: signals blocked while in KVM_RUN. */
  readonly KVM_SET_SIGNAL_MASK: number;
  /** `0x81A0AE8C`, vCPU fd, `struct kvm_fpu` (416 B). */
  readonly KVM_GET_FPU: number;
  /** `0x41A0AE8D`, vCPU fd, `struct kvm_fpu` (416 B). */
  readonly KVM_SET_FPU: number;
  /** `0x8400AE8E`, vCPU fd, `struct kvm_lapic_state` (the 1 KiB APIC register page). */
  readonly KVM_GET_LAPIC: number;
  /** `0x4400AE8F`, vCPU fd, `struct kvm_lapic_state`. */
  readonly KVM_SET_LAPIC: number;
  /** `0x4008AE90`, vCPU fd, `struct kvm_cpuid2`: the guest's CPUID (before the first KVM_RUN). */
  readonly KVM_SET_CPUID2: number;
  /** `0xC008AE91`, vCPU fd, `struct kvm_cpuid2`: reads back the guest's CPUID. */
  readonly KVM_GET_CPUID2: number;
  /** `0x8004AE98`, vCPU fd, `struct kvm_mp_state`. */
  readonly KVM_GET_MP_STATE: number;
  /** `0x4004AE99`, vCPU fd, `struct kvm_mp_state`. */
  readonly KVM_SET_MP_STATE: number;
  /** `0xAE9A`, vCPU fd: injects an NMI. */
  readonly KVM_NMI: number;
  /** `0x4048AE9B`, vCPU fd, `struct kvm_guest_debug`: single-step and breakpoints. */
  readonly KVM_SET_GUEST_DEBUG: number;
  /** `0x8040AE9F`, vCPU fd, `struct kvm_vcpu_events`: pending exceptions and interrupts. */
  readonly KVM_GET_VCPU_EVENTS: number;
  /** `0x4040AEA0`, vCPU fd, `struct kvm_vcpu_events`. */
  readonly KVM_SET_VCPU_EVENTS: number;
  /** `0x8080AEA1`, vCPU fd, `struct kvm_debugregs`. */
  readonly KVM_GET_DEBUGREGS: number;
  /** `0x4080AEA2`, vCPU fd, `struct kvm_debugregs`. */
  readonly KVM_SET_DEBUGREGS: number;
  /** `0xAEA2`, vCPU (or VM with KVM_CAP_VM_TSC_CONTROL) fd, value = guest TSC kHz. */
  readonly KVM_SET_TSC_KHZ: number;
  /** `0xAEA3`, vCPU fd: returns the guest TSC frequency in kHz. */
  readonly KVM_GET_TSC_KHZ: number;
  /** `0x9000AEA4`, vCPU fd, `struct kvm_xsave` (4 KiB). */
  readonly KVM_GET_XSAVE: number;
  /** `0x5000AEA5`, vCPU fd, `struct kvm_xsave` (4 KiB). */
  readonly KVM_SET_XSAVE: number;
  /** `0x8188AEA6`, vCPU fd, `struct kvm_xcrs`. */
  readonly KVM_GET_XCRS: number;
  /** `0x4188AEA7`, vCPU fd, `struct kvm_xcrs`. */
  readonly KVM_SET_XCRS: number;
  /** `0xAEAD`, vCPU fd: tells the guest (via pvclock's PVCLOCK_GUEST_STOPPED) it was paused. */
  readonly KVM_KVMCLOCK_CTRL: number;
  /** `0x8140AECC`, vCPU fd, `struct kvm_sregs2` (320 B; PDPTRs included). */
  readonly KVM_GET_SREGS2: number;
  /** `0x4140AECD`, vCPU fd, `struct kvm_sregs2`. */
  readonly KVM_SET_SREGS2: number;
  /** `0x4068AEA3`, VM or vCPU fd, `struct kvm_enable_cap` (104 B). */
  readonly KVM_ENABLE_CAP: number;
  /** `0xAECE`, VM or vCPU fd: returns a binary stats fd. */
  readonly KVM_GET_STATS_FD: number;
}

/**
 * The C name of a KVM ioctl in {@linkcode KVM_IOCTL}.
 *
 * @example
 * ```ts
 * import type { KvmIoctlName } from "@pvkit/kvm";
 * const name: KvmIoctlName = "KVM_RUN";
 * console.log(name);
 * ```
 */
export type KvmIoctlName = keyof KvmIoctlNumbers;

const IOCTL_NAMES: ReadonlyMap<number, KvmIoctlName> = new Map(
  (Object.entries(KVM_IOCTL) as [KvmIoctlName, number][]).map(([name, req]) => [req, name]),
);

/**
 * The C name of a KVM request number, or `undefined` when it is not in {@linkcode KVM_IOCTL}.
 *
 * @example
 * ```ts
 * import { kvmIoctlName } from "@pvkit/kvm";
 * console.log(kvmIoctlName(0xae80)); // "KVM_RUN"
 * ```
 */
export function kvmIoctlName(request: number): KvmIoctlName | undefined {
  return IOCTL_NAMES.get(request);
}

/**
 * KVM capability numbers (`KVM_CAP_*`) pvkit checks with KVM_CHECK_EXTENSION or turns on with
 * KVM_ENABLE_CAP, keyed by their C names. See {@linkcode KvmCapNumbers} for what each means.
 *
 * @example
 * ```ts
 * import { KVM_CAP } from "@pvkit/kvm";
 * console.log(KVM_CAP.KVM_CAP_ENFORCE_PV_FEATURE_CPUID); // 190
 * ```
 */
export const KVM_CAP: KvmCapNumbers = Object.freeze({
  KVM_CAP_IRQCHIP: 0,
  KVM_CAP_USER_MEMORY: 3,
  KVM_CAP_SET_TSS_ADDR: 4,
  KVM_CAP_EXT_CPUID: 7,
  KVM_CAP_NR_VCPUS: 9,
  KVM_CAP_NR_MEMSLOTS: 10,
  KVM_CAP_MP_STATE: 14,
  KVM_CAP_IRQ_ROUTING: 25,
  KVM_CAP_IRQFD: 32,
  KVM_CAP_PIT2: 33,
  KVM_CAP_IOEVENTFD: 36,
  KVM_CAP_SET_IDENTITY_MAP_ADDR: 37,
  KVM_CAP_ADJUST_CLOCK: 39,
  KVM_CAP_VCPU_EVENTS: 41,
  KVM_CAP_ASYNC_PF: 59,
  KVM_CAP_TSC_CONTROL: 60,
  KVM_CAP_GET_TSC_KHZ: 61,
  KVM_CAP_MAX_VCPUS: 66,
  KVM_CAP_TSC_DEADLINE_TIMER: 72,
  KVM_CAP_KVMCLOCK_CTRL: 76,
  KVM_CAP_SIGNAL_MSI: 77,
  KVM_CAP_READONLY_MEM: 81,
  KVM_CAP_EXT_EMUL_CPUID: 95,
  KVM_CAP_SPLIT_IRQCHIP: 121,
  KVM_CAP_MAX_VCPU_ID: 128,
  KVM_CAP_X2APIC_API: 129,
  KVM_CAP_MSI_DEVID: 131,
  KVM_CAP_IMMEDIATE_EXIT: 136,
  KVM_CAP_X86_DISABLE_EXITS: 143,
  KVM_CAP_GET_MSR_FEATURES: 153,
  KVM_CAP_HALT_POLL: 182,
  KVM_CAP_ASYNC_PF_INT: 183,
  KVM_CAP_X86_USER_SPACE_MSR: 188,
  KVM_CAP_X86_MSR_FILTER: 189,
  KVM_CAP_ENFORCE_PV_FEATURE_CPUID: 190,
  KVM_CAP_SREGS2: 200,
  KVM_CAP_EXIT_HYPERCALL: 201,
  KVM_CAP_BINARY_STATS_FD: 203,
  KVM_CAP_VM_TSC_CONTROL: 214,
});

/**
 * The shape of {@linkcode KVM_CAP}: one capability number each, with what pvkit uses it for.
 *
 * @example
 * ```ts
 * import { KVM_CAP, type KvmCapNumbers } from "@pvkit/kvm";
 * const caps: KvmCapNumbers = KVM_CAP;
 * console.log(caps.KVM_CAP_X2APIC_API); // 129
 * ```
 */
export interface KvmCapNumbers {
  /** 0: in-kernel PIC/IOAPIC/LAPIC via KVM_CREATE_IRQCHIP. */
  readonly KVM_CAP_IRQCHIP: number;
  /** 3: KVM_SET_USER_MEMORY_REGION. */
  readonly KVM_CAP_USER_MEMORY: number;
  /** 4: KVM_SET_TSS_ADDR. */
  readonly KVM_CAP_SET_TSS_ADDR: number;
  /** 7: KVM_GET_SUPPORTED_CPUID and KVM_SET_CPUID2. */
  readonly KVM_CAP_EXT_CPUID: number;
  /** 9: the recommended maximum number of vCPUs. */
  readonly KVM_CAP_NR_VCPUS: number;
  /** 10: the number of memory slots. */
  readonly KVM_CAP_NR_MEMSLOTS: number;
  /** 14: KVM_GET/SET_MP_STATE. */
  readonly KVM_CAP_MP_STATE: number;
  /** 25: KVM_SET_GSI_ROUTING. */
  readonly KVM_CAP_IRQ_ROUTING: number;
  /** 32: KVM_IRQFD. */
  readonly KVM_CAP_IRQFD: number;
  /** 33: KVM_CREATE_PIT2. */
  readonly KVM_CAP_PIT2: number;
  /** 36: KVM_IOEVENTFD. */
  readonly KVM_CAP_IOEVENTFD: number;
  /** 37: KVM_SET_IDENTITY_MAP_ADDR. */
  readonly KVM_CAP_SET_IDENTITY_MAP_ADDR: number;
  /** 39: KVM_GET/SET_CLOCK; the value is the mask of supported kvm_clock_data flags. */
  readonly KVM_CAP_ADJUST_CLOCK: number;
  /** 41: KVM_GET/SET_VCPU_EVENTS. */
  readonly KVM_CAP_VCPU_EVENTS: number;
  /** 59: asynchronous page faults (MSR_KVM_ASYNC_PF_EN). */
  readonly KVM_CAP_ASYNC_PF: number;
  /** 60: TSC scaling, so KVM_SET_TSC_KHZ can change the guest's TSC rate. */
  readonly KVM_CAP_TSC_CONTROL: number;
  /** 61: KVM_GET_TSC_KHZ. */
  readonly KVM_CAP_GET_TSC_KHZ: number;
  /** 66: the hard maximum number of vCPUs. */
  readonly KVM_CAP_MAX_VCPUS: number;
  /** 72: the LAPIC TSC-deadline timer mode. */
  readonly KVM_CAP_TSC_DEADLINE_TIMER: number;
  /** 76: KVM_KVMCLOCK_CTRL. */
  readonly KVM_CAP_KVMCLOCK_CTRL: number;
  /** 77: KVM_SIGNAL_MSI. */
  readonly KVM_CAP_SIGNAL_MSI: number;
  /** 81: read-only memory slots (KVM_MEM_READONLY). */
  readonly KVM_CAP_READONLY_MEM: number;
  /** 95: KVM_GET_EMULATED_CPUID. */
  readonly KVM_CAP_EXT_EMUL_CPUID: number;
  /** 121: LAPIC in the kernel, IOAPIC/PIC in userspace; args[0] = routes for the IOAPIC. */
  readonly KVM_CAP_SPLIT_IRQCHIP: number;
  /** 128: the maximum vCPU id (APIC ID) + 1. */
  readonly KVM_CAP_MAX_VCPU_ID: number;
  /** 129: 32-bit APIC IDs in MSIs and LAPIC state (bit 0), no broadcast quirk (bit 1). */
  readonly KVM_CAP_X2APIC_API: number;
  /** 131: a device id in MSIs (observed 0 on x86). */
  readonly KVM_CAP_MSI_DEVID: number;
  /** 136: `kvm_run.immediate_exit`, for race-free vCPU kicks. */
  readonly KVM_CAP_IMMEDIATE_EXIT: number;
  /** 143: let the guest run HLT, MWAIT, PAUSE or C-states without exiting. */
  readonly KVM_CAP_X86_DISABLE_EXITS: number;
  /** 153: KVM_GET_MSR_FEATURE_INDEX_LIST. */
  readonly KVM_CAP_GET_MSR_FEATURES: number;
  /** 182: the per-VM halt-polling limit. */
  readonly KVM_CAP_HALT_POLL: number;
  /** 183: async page-fault "page ready" delivered as an interrupt (KVM_FEATURE_ASYNC_PF_INT). */
  readonly KVM_CAP_ASYNC_PF_INT: number;
  /** 188: MSR accesses that would #GP exit to userspace (mask: 1 INVAL, 2 UNKNOWN, 4 FILTER). */
  readonly KVM_CAP_X86_USER_SPACE_MSR: number;
  /** 189: KVM_X86_SET_MSR_FILTER. */
  readonly KVM_CAP_X86_MSR_FILTER: number;
  /** 190 (vCPU): the guest may use only the PV features set in CPUID 0x40000001 EAX. */
  readonly KVM_CAP_ENFORCE_PV_FEATURE_CPUID: number;
  /** 200: KVM_GET/SET_SREGS2. */
  readonly KVM_CAP_SREGS2: number;
  /** 201: hypercalls that exit to userspace (only `1 << KVM_HC_MAP_GPA_RANGE` exists). */
  readonly KVM_CAP_EXIT_HYPERCALL: number;
  /** 203: KVM_GET_STATS_FD. */
  readonly KVM_CAP_BINARY_STATS_FD: number;
  /** 214: KVM_SET_TSC_KHZ on the VM fd, the default for new vCPUs. */
  readonly KVM_CAP_VM_TSC_CONTROL: number;
}

/**
 * The C name of a capability in {@linkcode KVM_CAP}.
 *
 * @example
 * ```ts
 * import type { KvmCapName } from "@pvkit/kvm";
 * const cap: KvmCapName = "KVM_CAP_IMMEDIATE_EXIT";
 * console.log(cap);
 * ```
 */
export type KvmCapName = keyof KvmCapNumbers;
