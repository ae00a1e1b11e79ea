import { assertEquals } from "@std/assert";
import { describeKernelFootprint, kernelFootprint } from "./kernel_footprint.ts";

const base = {
  payload: new Uint8Array(0x10000),
  relocatable: true,
  prefAddress: 0x1000000n,
  kernelAlignment: 0x200000,
  initSize: 0x800000,
};

Deno.test("kernelFootprint: a relocatable kernel at 1 MiB runs at pref_address (boot.rst)", () => {
  assertEquals(kernelFootprint(base), {
    loadGpa: 0x100000n,
    loadEnd: 0x110000n,
    runtimeStart: 0x1000000n,
    runtimeEnd: 0x1800000n,
    end: 0x1800000n,
  });
});

Deno.test("kernelFootprint: a load address above pref_address is aligned up to kernel_alignment", () => {
  const f = kernelFootprint({ ...base, prefAddress: 0x100000n }, 0x2100000n);
  assertEquals(f.runtimeStart, 0x2200000n);
  assertEquals(f.end, 0x2a00000n);
});

Deno.test("kernelFootprint: a non-relocatable kernel runs at pref_address", () => {
  const f = kernelFootprint({ ...base, relocatable: false, prefAddress: 0x1000000n }, 0x100000n);
  assertEquals(f.runtimeStart, 0x1000000n);
});

Deno.test("kernelFootprint: a payload reaching past runtime + init_size sets the end", () => {
  const f = kernelFootprint({ ...base, payload: new Uint8Array(0x2000000), initSize: 0x100000 });
  assertEquals(f.loadEnd, 0x2100000n);
  assertEquals(f.runtimeEnd, 0x1100000n);
  assertEquals(f.end, 0x2100000n);
});

Deno.test("describeKernelFootprint says where the kernel is and how far it reaches", () => {
  assertEquals(
    describeKernelFootprint(kernelFootprint(base)),
    "kernel 64 KiB at 0x100000, runs at 0x1000000 (init_size 8 MiB), needs RAM up to 24 MiB",
  );
});
