import { assertEquals } from "@std/assert";
import { parseProbe } from "@pvkit/probe";
import { EmuProbeBackend } from "./probe_backend.ts";

Deno.test("a probe run that reaches the step limit says so (not 'still blocked')", async () => {
  const probe = parseProbe({
    name: "long",
    machine: {},
    vcpus: [{ steps: Array.from({ length: 10 }, () => ({ op: "cli" })) }],
  });
  const run = await new EmuProbeBackend({ maxSteps: 3 }).run(probe);
  assertEquals(run.notes, [
    "the run stopped at its limit of 3 scheduling steps with vCPU(s) 0 not finished",
  ]);
  assertEquals(run.vcpus[0].results.length, 3);
});
