import { assertEquals } from "@std/assert";
import * as cpuid from "./cpuid.ts";
import * as msr from "./msr.ts";

const U64 = 0xffff_ffff_ffff_ffffn;

Deno.test("every PV MSR index matches spec §2", () => {
  assertEquals(msr.MSR_KVM_WALL_CLOCK, 0x11);
  assertEquals(msr.MSR_KVM_SYSTEM_TIME, 0x12);
  assertEquals(
    [
      msr.MSR_KVM_WALL_CLOCK_NEW,
      msr.MSR_KVM_SYSTEM_TIME_NEW,
      msr.MSR_KVM_ASYNC_PF_EN,
      msr.MSR_KVM_STEAL_TIME,
      msr.MSR_KVM_PV_EOI_EN,
      msr.MSR_KVM_POLL_CONTROL,
      msr.MSR_KVM_ASYNC_PF_INT,
      msr.MSR_KVM_ASYNC_PF_ACK,
      msr.MSR_KVM_MIGRATION_CONTROL,
    ],
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => 0x4b564d00 + i),
  );
  assertEquals([msr.KVM_MSR_RANGE_FIRST, msr.KVM_MSR_RANGE_LAST], [0x4b564d00, 0x4b564dff]);
});

Deno.test("bit layouts: each value splits into flag bits, reserved bits and a GPA", () => {
  // ASYNC_PF_EN: b0 b1 b2 b3 flags, b5:4 reserved, b63:6 GPA
  const apfFlags = msr.KVM_ASYNC_PF_ENABLED | msr.KVM_ASYNC_PF_SEND_ALWAYS |
    msr.KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT | msr.KVM_ASYNC_PF_DELIVERY_AS_INT;
  assertEquals(apfFlags, 0xfn);
  assertEquals(apfFlags | msr.KVM_ASYNC_PF_RESERVED_MASK | msr.KVM_ASYNC_PF_GPA_MASK, U64);
  assertEquals(apfFlags & msr.KVM_ASYNC_PF_RESERVED_MASK, 0n);
  assertEquals(msr.KVM_ASYNC_PF_RESERVED_MASK_PRE_5_8, 0x38n);
  // STEAL_TIME: b0 enable, b5:1 reserved (0x3e), b63:6 GPA (~0x3f)
  assertEquals(msr.KVM_STEAL_RESERVED_MASK, 0x3en);
  assertEquals(msr.KVM_STEAL_VALID_BITS, U64 ^ 0x3fn);
  assertEquals(
    msr.KVM_STEAL_RESERVED_MASK,
    ((1n << BigInt(msr.KVM_STEAL_ALIGNMENT_BITS)) - 1n) << 1n,
  );
  assertEquals(msr.KVM_MSR_ENABLED | msr.KVM_STEAL_RESERVED_MASK | msr.KVM_STEAL_VALID_BITS, U64);
  // PV_EOI_EN: b0 enable, b1 reserved, b63:2 GPA
  assertEquals(
    msr.KVM_PV_EOI_ENABLED | msr.KVM_PV_EOI_RESERVED_MASK | msr.KVM_PV_EOI_GPA_MASK,
    U64,
  );
  assertEquals([msr.KVM_PV_EOI_DISABLED, msr.KVM_PV_EOI_BIT, msr.KVM_PV_EOI_MASK], [0n, 0, 1]);
  // SYSTEM_TIME: b0 enable, b63:1 GPA
  assertEquals(msr.KVM_MSR_ENABLED | msr.KVM_SYSTEM_TIME_GPA_MASK, U64);
  // POLL_CONTROL, ASYNC_PF_INT, ACK, MIGRATION_CONTROL
  assertEquals(msr.KVM_POLL_CONTROL_HALT_POLL | msr.KVM_POLL_CONTROL_RESERVED_MASK, U64);
  assertEquals(msr.KVM_POLL_CONTROL_DEFAULT, 1n);
  assertEquals(msr.KVM_ASYNC_PF_VECTOR_MASK | msr.KVM_ASYNC_PF_INT_RESERVED_MASK, U64);
  assertEquals([msr.KVM_ASYNC_PF_ACK, msr.KVM_MIGRATION_READY], [1n, 1n]);
  assertEquals(msr.LINUX_HYPERVISOR_CALLBACK_VECTOR, 0xf3);
});

Deno.test("pvMsrs: one row per MSR, in index order, with spec §2 gate bits", () => {
  assertEquals(
    msr.pvMsrs.map((m) => [m.index, m.name, m.gateBit]),
    [
      [0x11, "MSR_KVM_WALL_CLOCK", cpuid.KVM_FEATURE_CLOCKSOURCE],
      [0x12, "MSR_KVM_SYSTEM_TIME", cpuid.KVM_FEATURE_CLOCKSOURCE],
      [0x4b564d00, "MSR_KVM_WALL_CLOCK_NEW", 3],
      [0x4b564d01, "MSR_KVM_SYSTEM_TIME_NEW", 3],
      [0x4b564d02, "MSR_KVM_ASYNC_PF_EN", 4],
      [0x4b564d03, "MSR_KVM_STEAL_TIME", 5],
      [0x4b564d04, "MSR_KVM_PV_EOI_EN", 6],
      [0x4b564d05, "MSR_KVM_POLL_CONTROL", 12],
      [0x4b564d06, "MSR_KVM_ASYNC_PF_INT", 14],
      [0x4b564d07, "MSR_KVM_ASYNC_PF_ACK", 14],
      [0x4b564d08, "MSR_KVM_MIGRATION_CONTROL", 17],
    ],
  );
  for (const row of msr.pvMsrs) {
    // The name is the exported constant's name, and it holds the index.
    assertEquals((msr as Record<string, unknown>)[row.name], row.index);
    assertEquals(row.description.length > 0, true);
    assertEquals(Object.isFrozen(row), true);
  }
  assertEquals(Object.isFrozen(msr.pvMsrs), true);
});

Deno.test("pvMsrs: aliases share state both ways; only MIGRATION_CONTROL is left to the VMM", () => {
  for (const row of msr.pvMsrs) {
    if (row.sharesStateWith !== undefined) {
      assertEquals(msr.pvMsrByIndex(row.sharesStateWith)?.sharesStateWith, row.index);
      assertEquals(msr.pvMsrByIndex(row.sharesStateWith)?.scope, row.scope);
    }
  }
  assertEquals(
    msr.pvMsrs.filter((m) => !m.kvmEmulated).map((m) => m.index),
    [msr.MSR_KVM_MIGRATION_CONTROL],
  );
  assertEquals(
    msr.pvMsrs.filter((m) => m.scope === "vm").map((m) => m.index),
    [0x11, 0x4b564d00, 0x4b564d08],
  );
  assertEquals(msr.pvMsrByIndex(0x4b564d09), undefined);
});
