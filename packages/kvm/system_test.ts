import { assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { findCpuidEntry } from "./cpuid2.ts";
import { Errno } from "./errno.ts";
import { KvmError } from "./errors.ts";
import { KVM_CAP } from "./ioctl_numbers.ts";
import { KvmSystem } from "./system.ts";
import { countOpenFds, ffiTest, kvmTest } from "./_test_utils.ts";

ffiTest("KvmSystem.open reports a missing device as KvmError ENOENT with a hint", () => {
  const e = assertThrows(() => KvmSystem.open("/nonexistent/kvm"), KvmError);
  assertEquals(e.message, "open(/nonexistent/kvm) failed: ENOENT (2)");
  assertEquals(e.errnoName, "ENOENT");
  assertEquals(e.hint?.includes("modprobe"), true);
});

ffiTest("a device that is not KVM fails KVM_GET_API_VERSION with ENOTTY", () => {
  using notKvm = KvmSystem.open("/dev/null");
  const e = assertThrows(() => notKvm.kvmGetApiVersion(), KvmError);
  assertEquals(e.message, "KVM_GET_API_VERSION failed: ENOTTY (25)");
  assertEquals(e.operation, "KVM_GET_API_VERSION");
});

kvmTest("KVM_GET_API_VERSION is 12", () => {
  using kvm = KvmSystem.open();
  assertEquals(kvm.kvmGetApiVersion(), 12);
});

kvmTest("KVM_CHECK_EXTENSION answers known and unknown capabilities", () => {
  using kvm = KvmSystem.open();
  assertEquals(kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_USER_MEMORY), 1);
  assertEquals(kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_NR_VCPUS) > 0, true);
  assertEquals(kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_MAX_VCPUS) >= 1, true);
  // The spec observed KVM_CAP_EXIT_HYPERCALL's mask as 1 << KVM_HC_MAP_GPA_RANGE (12).
  assertEquals(kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_EXIT_HYPERCALL) & ~(1 << 12), 0);
  assertEquals(kvm.kvmCheckExtension(100_000), 0);
});

kvmTest("KVM_GET_VCPU_MMAP_SIZE is a whole number of pages", () => {
  using kvm = KvmSystem.open();
  const size = kvm.kvmGetVcpuMmapSize();
  assertEquals(size >= 4096 && size % 4096 === 0, true, `mmap size ${size}`);
});

kvmTest("KVM_GET_SUPPORTED_CPUID has the KVM leaves; E2BIG grows the buffer", () => {
  using kvm = KvmSystem.open();
  const entries = kvm.kvmGetSupportedCpuid();
  assertEquals(entries.length > 1, true);
  assertEquals(findCpuidEntry(entries, 0)?.eax !== undefined, true);
  const signature = findCpuidEntry(entries, 0x40000000);
  assertEquals(signature?.ebx, 0x4b4d564b); // "KVMK"
  assertEquals(findCpuidEntry(entries, 0x40000001) !== undefined, true);
  // Starting from one entry forces several E2BIG rounds; the answer must be the same.
  assertEquals(kvm.kvmGetSupportedCpuid({ initialCapacity: 1 }), entries);
  assertThrows(() => kvm.kvmGetSupportedCpuid({ initialCapacity: 0 }), RangeError);
});

kvmTest("KVM_GET_MSR_INDEX_LIST lists the kvmclock MSRs", () => {
  using kvm = KvmSystem.open();
  const msrs = kvm.kvmGetMsrIndexList();
  assertEquals(msrs.includes(0x4b564d00), true); // MSR_KVM_WALL_CLOCK_NEW
  assertEquals(msrs.includes(0x4b564d01), true); // MSR_KVM_SYSTEM_TIME_NEW
  if (kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_GET_MSR_FEATURES) > 0) {
    assertEquals(Array.isArray(kvm.kvmGetMsrFeatureIndexList()), true);
  }
});

kvmTest("close is idempotent and a closed system fails with EBADF", () => {
  const kvm = KvmSystem.open();
  assertEquals(kvm.closed, false);
  assertEquals(kvm.fd >= 0, true);
  kvm.close();
  kvm.close();
  kvm[Symbol.dispose]();
  assertEquals(kvm.closed, true);
  assertEquals(kvm.fd, -1);
  const e = assertThrows(() => kvm.kvmGetApiVersion(), KvmError);
  assertInstanceOf(e, KvmError);
  assertEquals(e.errno, Errno.EBADF);
  assertEquals(e.message, "KVM_GET_API_VERSION failed: EBADF (9)");
});

kvmTest("opening and closing /dev/kvm 200 times leaks no fd", () => {
  const before = countOpenFds();
  for (let i = 0; i < 200; i++) {
    const kvm = KvmSystem.open();
    kvm.kvmGetApiVersion();
    kvm.close();
  }
  for (let i = 0; i < 200; i++) {
    using kvm = KvmSystem.open();
    kvm.kvmCheckExtension(KVM_CAP.KVM_CAP_IRQCHIP);
  }
  // Other tests in the same process may close descriptors meanwhile: a leak only grows.
  assertEquals(countOpenFds() <= before, true, `fds grew from ${before} to ${countOpenFds()}`);
});
