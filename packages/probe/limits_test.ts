import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { loadProbeFile, parseProbe, PROBE_LIMITS, ProbeError } from "./mod.ts";

const probe = (machine: Record<string, unknown>, vcpus: unknown[] = [{ steps: [] }]) =>
  parseProbe({ name: "p", machine, vcpus });

Deno.test("memory above the 1G limit is refused before anything is allocated", () => {
  for (const memory of ["64G", "0x1000000000000", 2 ** 31]) {
    assertThrows(
      () => probe({ memory }),
      ProbeError,
      "is more than the 1G of RAM a probe may have",
    );
  }
  assertEquals(probe({ memory: "1G" }).machine.memory, PROBE_LIMITS.memoryBytes);
});

Deno.test("more steps than the limit, over all vCPUs, are refused before they are parsed", () => {
  const half = Array.from({ length: PROBE_LIMITS.steps / 2 + 1 }, () => ({ op: "cli" }));
  assertThrows(
    () => probe({}, [{ steps: half }, { steps: half }]),
    ProbeError,
    `probe.json: $.vcpus: has ${PROBE_LIMITS.steps + 2} steps in all; a probe may have at most`,
  );
});

Deno.test("more vCPUs than the largest machine are refused", () => {
  const vcpus = Array.from({ length: PROBE_LIMITS.vcpus + 1 }, () => ({ steps: [] }));
  assertThrows(() => probe({}, vcpus), ProbeError, "has 32769 vCPUs; a probe may have at most");
});

Deno.test("a chain of 10 000 barriers on one vCPU is checked without recursion", () => {
  const steps = Array.from({ length: 10_000 }, (_, i) => ({ op: "barrier", id: `b${i}` }));
  assertEquals(probe({}, [{ steps }]).vcpus[0].steps.length, 10_000);
  // The same chain met backwards by a second vCPU is a cycle, still found.
  assertThrows(
    () => probe({}, [{ steps }, { steps: [...steps].reverse() }]),
    ProbeError,
    "are met in different orders by different vCPUs",
  );
});

Deno.test("a FIFO as the probe path is refused without blocking", async () => {
  const dir = await Deno.makeTempDir();
  const fifo = `${dir}/probe.json`;
  try {
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    if (!made.success) throw new Error("mkfifo failed");
    await assertRejects(() => loadProbeFile(fifo), ProbeError, "is not a regular file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a device such as /dev/zero is refused instead of read until memory runs out", async () => {
  await assertRejects(() => loadProbeFile("/dev/zero"), ProbeError, "is not a regular file");
});

Deno.test("a probe file above the size limit is refused before it is read", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.truncate(file, PROBE_LIMITS.fileBytes + 1);
    await assertRejects(
      () => loadProbeFile(file),
      ProbeError,
      `is larger than the ${PROBE_LIMITS.fileBytes >> 20} MiB a probe file may be`,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("more CPUID overrides than KVM_MAX_CPUID_ENTRIES (256) are refused", () => {
  const cpuid = Object.fromEntries(
    Array.from({ length: 100_000 }, (_, i) => [`0x${(0x80000000 + i).toString(16)}`, { eax: 1 }]),
  );
  assertThrows(
    () => probe({ cpuid }),
    ProbeError,
    "has 100000 leaves; KVM_SET_CPUID2 takes at most 256 entries (KVM_MAX_CPUID_ENTRIES)",
  );
});

Deno.test("tscKhz must be one KVM_SET_TSC_KHZ accepts (below 0x7fffffff)", () => {
  assertThrows(
    () => probe({ tscKhz: 0xffffffff }),
    ProbeError,
    "is out of range (1 to 0x7ffffffe)",
  );
  assertEquals(probe({ tscKhz: 0x7ffffffe }).machine.tscKhz, 0x7ffffffe);
});
