import { assertEquals, assertThrows } from "@std/assert";
import {
  decodeIoctl,
  io,
  ioc,
  IOC_NONE,
  IOC_READ,
  IOC_WRITE,
  ior,
  iow,
  iowr,
  KVM_CAP,
  KVM_IOCTL,
  KVM_STRUCT_SIZE,
  KVMIO,
  type KvmIoctlName,
  kvmIoctlName,
} from "./ioctl_numbers.ts";

// The numeric values, computed with gcc from the Linux 6.1 uapi headers (linux/kvm.h, the
// ioctls Documentation/virt/kvm/api.rst lists).
const SPEC_NUMBERS: [KvmIoctlName, number][] = [
  ["KVM_GET_API_VERSION", 0xAE00],
  ["KVM_CREATE_VM", 0xAE01],
  ["KVM_CHECK_EXTENSION", 0xAE03],
  ["KVM_GET_VCPU_MMAP_SIZE", 0xAE04],
  ["KVM_GET_MSR_INDEX_LIST", 0xC004AE02],
  ["KVM_GET_SUPPORTED_CPUID", 0xC008AE05],
  ["KVM_SET_CPUID2", 0x4008AE90],
  ["KVM_SET_USER_MEMORY_REGION", 0x4020AE46],
  ["KVM_SET_TSS_ADDR", 0xAE47],
  ["KVM_SET_IDENTITY_MAP_ADDR", 0x4008AE48],
  ["KVM_CREATE_IRQCHIP", 0xAE60],
  ["KVM_IRQ_LINE", 0x4008AE61],
  ["KVM_IRQ_LINE_STATUS", 0xC008AE67],
  ["KVM_GET_IRQCHIP", 0xC208AE62],
  ["KVM_SET_IRQCHIP", 0x8208AE63],
  ["KVM_SET_GSI_ROUTING", 0x4008AE6A],
  ["KVM_IRQFD", 0x4020AE76],
  ["KVM_CREATE_PIT2", 0x4040AE77],
  ["KVM_IOEVENTFD", 0x4040AE79],
  ["KVM_SET_CLOCK", 0x4030AE7B],
  ["KVM_GET_CLOCK", 0x8030AE7C],
  ["KVM_CREATE_VCPU", 0xAE41],
  ["KVM_RUN", 0xAE80],
  ["KVM_GET_REGS", 0x8090AE81],
  ["KVM_SET_REGS", 0x4090AE82],
  ["KVM_GET_SREGS", 0x8138AE83],
  ["KVM_SET_SREGS", 0x4138AE84],
  ["KVM_GET_MSRS", 0xC008AE88],
  ["KVM_SET_MSRS", 0x4008AE89],
  ["KVM_GET_FPU", 0x81A0AE8C],
  ["KVM_SET_FPU", 0x41A0AE8D],
  ["KVM_GET_LAPIC", 0x8400AE8E],
  ["KVM_SET_LAPIC", 0x4400AE8F],
  ["KVM_SET_TSC_KHZ", 0xAEA2],
  ["KVM_GET_TSC_KHZ", 0xAEA3],
  ["KVM_ENABLE_CAP", 0x4068AEA3],
  ["KVM_SIGNAL_MSI", 0x4020AEA5],
  ["KVM_X86_SET_MSR_FILTER", 0x4188AEC6],
  ["KVM_GET_STATS_FD", 0xAECE],
  ["KVM_NMI", 0xAE9A],
  ["KVM_KVMCLOCK_CTRL", 0xAEAD],
  ["KVM_SET_SIGNAL_MASK", 0x4004AE8B],
  ["KVM_GET_MP_STATE", 0x8004AE98],
  ["KVM_SET_MP_STATE", 0x4004AE99],
  ["KVM_GET_VCPU_EVENTS", 0x8040AE9F],
  ["KVM_SET_VCPU_EVENTS", 0x4040AEA0],
];

// Not in the spec's table; values printed by gcc from the same headers.
const HEADER_NUMBERS: [KvmIoctlName, number][] = [
  ["KVM_GET_EMULATED_CPUID", 0xC008AE09],
  ["KVM_GET_MSR_FEATURE_INDEX_LIST", 0xC004AE0A],
  ["KVM_GET_CPUID2", 0xC008AE91],
  ["KVM_GET_DIRTY_LOG", 0x4010AE42],
  ["KVM_TRANSLATE", 0xC018AE85],
  ["KVM_INTERRUPT", 0x4004AE86],
  ["KVM_SET_GUEST_DEBUG", 0x4048AE9B],
  ["KVM_GET_DEBUGREGS", 0x8080AEA1],
  ["KVM_SET_DEBUGREGS", 0x4080AEA2],
  ["KVM_GET_XSAVE", 0x9000AEA4],
  ["KVM_SET_XSAVE", 0x5000AEA5],
  ["KVM_GET_XCRS", 0x8188AEA6],
  ["KVM_SET_XCRS", 0x4188AEA7],
  ["KVM_GET_SREGS2", 0x8140AECC],
  ["KVM_SET_SREGS2", 0x4140AECD],
];

const hex = (n: number) => "0x" + n.toString(16).toUpperCase();

Deno.test("KVM_IOCTL matches every request number in the spec", () => {
  for (const [name, value] of SPEC_NUMBERS) {
    assertEquals(hex(KVM_IOCTL[name]), hex(value), name);
  }
});

Deno.test("KVM_IOCTL matches the uapi headers for the ioctls the spec does not list", () => {
  for (const [name, value] of HEADER_NUMBERS) {
    assertEquals(hex(KVM_IOCTL[name]), hex(value), name);
  }
  const checked = new Set([...SPEC_NUMBERS, ...HEADER_NUMBERS].map(([name]) => name));
  assertEquals(Object.keys(KVM_IOCTL).filter((name) => !checked.has(name as KvmIoctlName)), []);
});

Deno.test("the _IO/_IOR/_IOW/_IOWR encoders place dir, size, type and nr", () => {
  assertEquals(io(KVMIO, 0x80), 0xAE80);
  assertEquals(ior(KVMIO, 0x81, KVM_STRUCT_SIZE.kvm_regs), 0x8090AE81);
  assertEquals(iow(KVMIO, 0x82, KVM_STRUCT_SIZE.kvm_regs), 0x4090AE82);
  assertEquals(iowr(KVMIO, 0x05, KVM_STRUCT_SIZE.kvm_cpuid2), 0xC008AE05);
  assertEquals(ioc(IOC_READ | IOC_WRITE, 0xff, 0xff, 0x3fff), 0xFFFFFFFF);
  assertEquals(ioc(IOC_NONE, 0, 0, 0), 0);
  // Results are unsigned: bit 31 set must not turn into a negative number.
  assertEquals(KVM_IOCTL.KVM_GET_IRQCHIP > 0, true);
  assertEquals(IOC_WRITE, 1);
  assertEquals(IOC_READ, 2);
});

Deno.test("ioc rejects fields that do not fit", () => {
  assertThrows(() => ioc(IOC_READ, KVMIO, 0x00, 0x4000), RangeError, "size 16384");
  assertThrows(() => ioc(4, KVMIO, 0x00, 0), RangeError, "dir");
  assertThrows(() => ioc(IOC_NONE, 0x100, 0x00, 0), RangeError, "type");
  assertThrows(() => ioc(IOC_NONE, KVMIO, -1, 0), RangeError, "nr");
  assertThrows(() => ioc(IOC_NONE, KVMIO, 1.5, 0), RangeError, "nr");
});

Deno.test("decodeIoctl inverts ioc for every KVM request", () => {
  for (const value of Object.values(KVM_IOCTL)) {
    const f = decodeIoctl(value);
    assertEquals(f.type, KVMIO);
    assertEquals(ioc(f.dir, f.type, f.nr, f.size), value);
  }
  assertEquals(decodeIoctl(0x4068AEA3), { dir: IOC_WRITE, type: 0xAE, nr: 0xA3, size: 104 });
});

Deno.test("kvmIoctlName maps request numbers back to names; numbers are unique", () => {
  assertEquals(kvmIoctlName(0xAE80), "KVM_RUN");
  assertEquals(kvmIoctlName(0xAEA3), "KVM_GET_TSC_KHZ");
  assertEquals(kvmIoctlName(0x4068AEA3), "KVM_ENABLE_CAP");
  assertEquals(kvmIoctlName(0x1234), undefined);
  const values = Object.values(KVM_IOCTL);
  assertEquals(new Set(values).size, values.length);
});

Deno.test("KVM_CAP numbers match the spec and kvm.h", () => {
  // Spec §1.3.
  assertEquals(KVM_CAP.KVM_CAP_SPLIT_IRQCHIP, 121);
  assertEquals(KVM_CAP.KVM_CAP_X2APIC_API, 129);
  assertEquals(KVM_CAP.KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 190);
  assertEquals(KVM_CAP.KVM_CAP_X86_USER_SPACE_MSR, 188);
  assertEquals(KVM_CAP.KVM_CAP_X86_MSR_FILTER, 189);
  assertEquals(KVM_CAP.KVM_CAP_EXIT_HYPERCALL, 201);
  assertEquals(KVM_CAP.KVM_CAP_IMMEDIATE_EXIT, 136);
  assertEquals(KVM_CAP.KVM_CAP_IRQCHIP, 0);
  assertEquals(KVM_CAP.KVM_CAP_PIT2, 33);
  assertEquals(KVM_CAP.KVM_CAP_IRQ_ROUTING, 25);
  assertEquals(KVM_CAP.KVM_CAP_SIGNAL_MSI, 77);
  assertEquals(KVM_CAP.KVM_CAP_IRQFD, 32);
  assertEquals(KVM_CAP.KVM_CAP_BINARY_STATS_FD, 203);
  assertEquals(KVM_CAP.KVM_CAP_NR_VCPUS, 9);
  assertEquals(KVM_CAP.KVM_CAP_MAX_VCPUS, 66);
  assertEquals(KVM_CAP.KVM_CAP_TSC_CONTROL, 60);
  assertEquals(KVM_CAP.KVM_CAP_GET_TSC_KHZ, 61);
  assertEquals(KVM_CAP.KVM_CAP_ADJUST_CLOCK, 39);
  assertEquals(KVM_CAP.KVM_CAP_SET_IDENTITY_MAP_ADDR, 37);
  assertEquals(KVM_CAP.KVM_CAP_VM_TSC_CONTROL, 214);
  // kvm.h only.
  assertEquals(KVM_CAP.KVM_CAP_KVMCLOCK_CTRL, 76);
  assertEquals(KVM_CAP.KVM_CAP_ASYNC_PF_INT, 183);
  assertEquals(KVM_CAP.KVM_CAP_MSI_DEVID, 131);
});
