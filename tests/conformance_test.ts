/**
 * The public KVM test cases (shared/spec/peer-tests.md A1, A1-V1, A1-V2, A2, A3, A5) as probe
 * files in tests/conformance/, run on the emulated backend. Each probe carries its own
 * expectations; this test runs them and checks what a probe cannot express (exit counts).
 */

import { assertEquals } from "@std/assert";
import { EmuProbeBackend } from "@pvkit/emu";
import { checkExpectations, loadProbeFile } from "@pvkit/probe";
import { optionalPlugins } from "@pvkit/pvkit";

const dir = new URL("./conformance/", import.meta.url);
const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"))
  .sort();
const backend = new EmuProbeBackend({ plugins: optionalPlugins });

Deno.test("the conformance set covers A1, A1-V1, A1-V2, A2, A3 and A5", () => {
  for (const prefix of ["a1-", "a1v1-", "a1v2-", "a2-", "a3-", "a5-"]) {
    assertEquals(files.some((f) => f.startsWith(prefix)), true, prefix);
  }
});

for (const file of files) {
  Deno.test(`conformance probe ${file} passes on the emulated backend`, async () => {
    const probe = await loadProbeFile(new URL(file, dir).pathname);
    const run = await backend.run(probe);
    assertEquals(checkExpectations(probe, run), []);
    assertEquals(run.notes, []);
  });
}

Deno.test("A1-V1: exactly one KVM_EXIT_HYPERCALL over the run", async () => {
  const probe = await loadProbeFile(new URL("a1v1-map-gpa-range.json", dir).pathname);
  const run = await backend.run(probe);
  assertEquals(run.vcpus[0].exits["userspace-hypercall"], 1);
});

Deno.test("A1 cases 1-3: the only exits are the MSR accesses and hypercalls themselves", async () => {
  const probe = await loadProbeFile(new URL("a1-pv-enforcement.json", dir).pathname);
  const { exits } = (await backend.run(probe)).vcpus[0];
  assertEquals([exits["msr-read"], exits["msr-write"], exits.hypercall, exits.io], [10, 10, 3, 0]);
});
