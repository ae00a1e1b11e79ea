import { assertEquals } from "@std/assert";
import * as hc from "./hypercall.ts";

Deno.test("hypercall numbers 1..12 match spec §5", () => {
  assertEquals(
    [
      hc.KVM_HC_VAPIC_POLL_IRQ,
      hc.KVM_HC_MMU_OP,
      hc.KVM_HC_FEATURES,
      hc.KVM_HC_PPC_MAP_MAGIC_PAGE,
      hc.KVM_HC_KICK_CPU,
      hc.KVM_HC_MIPS_GET_CLOCK_FREQ,
      hc.KVM_HC_MIPS_EXIT_VM,
      hc.KVM_HC_MIPS_CONSOLE_OUTPUT,
      hc.KVM_HC_CLOCK_PAIRING,
      hc.KVM_HC_SEND_IPI,
      hc.KVM_HC_SCHED_YIELD,
      hc.KVM_HC_MAP_GPA_RANGE,
    ],
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
});

Deno.test("error codes match spec §5", () => {
  assertEquals(
    [hc.KVM_ENOSYS, hc.KVM_EFAULT, hc.KVM_EINVAL, hc.KVM_E2BIG, hc.KVM_EPERM, hc.KVM_EOPNOTSUPP],
    [1000, 14, 22, 7, 1, 95],
  );
});

Deno.test("hypercallReturn: 64-bit two's complement, u32-truncated for non-64-bit callers", () => {
  assertEquals(hc.hypercallReturn(-1000, false), 0xfffffc18n); // the spec's example
  assertEquals(hc.hypercallReturn(-1000, true), 0xffff_ffff_ffff_fc18n);
  assertEquals(hc.hypercallReturn(-1000n, false), 0xfffffc18n);
  assertEquals(hc.hypercallReturn(0, false), 0n);
  assertEquals(hc.hypercallReturn(2, true), 2n);
  assertEquals(hc.hypercallReturn(0x1_2345_6789n, false), 0x2345_6789n); // VMM ret truncated
  assertEquals(hc.hypercallReturn(-(1n << 63n), true), 1n << 63n);
  assertEquals(hc.hypercallError(hc.KVM_EPERM, false), 0xffff_ffffn);
  assertEquals(hc.hypercallError(hc.KVM_EOPNOTSUPP, true), 0xffff_ffff_ffff_ffa1n);
});

Deno.test("decodeHypercallReturn reads RAX as the guest's signed long", () => {
  for (const longMode of [false, true]) {
    for (const v of [0n, 1n, 3n, -1n, -7n, -14n, -22n, -95n, -1000n]) {
      assertEquals(hc.decodeHypercallReturn(hc.hypercallReturn(v, longMode), longMode), v);
    }
  }
});

Deno.test("hypercallArgument masks to 32 bits outside 64-bit mode", () => {
  assertEquals(hc.hypercallArgument(0xffff_ffff_0000_000an, false), 0xan);
  assertEquals(hc.hypercallArgument(0xffff_ffff_0000_000an, true), 0xffff_ffff_0000_000an);
  assertEquals(hc.hypercallArgument(-1n, true), 0xffff_ffff_ffff_ffffn);
});

Deno.test("VMCALL / VMMCALL encodings and recognition", () => {
  assertEquals(hc.VMCALL_BYTES, [0x0f, 0x01, 0xc1]);
  assertEquals(hc.VMMCALL_BYTES, [0x0f, 0x01, 0xd9]);
  assertEquals(hc.HYPERCALL_INSN_LENGTH, 3);
  const code = new Uint8Array([0x90, 0x0f, 0x01, 0xc1, 0x0f, 0x01, 0xd9, 0x0f, 0x01]);
  assertEquals(hc.decodeHypercallInstruction(code, 1), "vmcall");
  assertEquals(hc.decodeHypercallInstruction(code, 4), "vmmcall");
  assertEquals(hc.decodeHypercallInstruction(code, 0), undefined);
  assertEquals(hc.decodeHypercallInstruction(code, 7), undefined); // truncated
  assertEquals(hc.decodeHypercallInstruction(code, -1), undefined);
  assertEquals(hc.decodeHypercallInstruction(new Uint8Array([0x0f, 0x01, 0xd8])), undefined);
  assertEquals(Object.isFrozen(hc.VMCALL_BYTES), true);
});

Deno.test("CLOCK_PAIRING and MAP_GPA_RANGE argument bits match spec §5", () => {
  assertEquals(hc.KVM_CLOCK_PAIRING_WALLCLOCK, 0);
  assertEquals(
    [
      hc.KVM_MAP_GPA_RANGE_PAGE_SZ_4K,
      hc.KVM_MAP_GPA_RANGE_PAGE_SZ_2M,
      hc.KVM_MAP_GPA_RANGE_PAGE_SZ_1G,
    ],
    [0n, 1n, 2n],
  );
  assertEquals(hc.KVM_MAP_GPA_RANGE_PAGE_SZ_MASK, 0xfn);
  assertEquals([hc.KVM_MAP_GPA_RANGE_ENCRYPTED, hc.KVM_MAP_GPA_RANGE_DECRYPTED], [0x10n, 0n]);
  assertEquals(
    hc.KVM_MAP_GPA_RANGE_PAGE_SZ_MASK | hc.KVM_MAP_GPA_RANGE_ENCRYPTED |
      hc.KVM_MAP_GPA_RANGE_RESERVED_MASK,
    0xffff_ffff_ffff_ffffn,
  );
  assertEquals(hc.KVM_EXIT_HYPERCALL_LONG_MODE, 1n);
});
