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
