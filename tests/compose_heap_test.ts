/**
 * Composing the 32768-vCPU machine with every feature stays under 64 MiB (JS heap plus the
 * typed arrays' external memory), measured with the result still alive.
 */

import { assertEquals } from "@std/assert";
import { compose } from "@pvkit/pvkit";
import { ALL_FEATURES_32768, EVERY_FEATURE } from "./_big_machine.ts";

const LIMIT = 64 * 1024 * 1024;

Deno.test("a 32768-vCPU machine with every feature composes under 64 MiB", () => {
  compose({ host: ALL_FEATURES_32768.host!, machine: "pvkit" }); // warm up module state
  const before = Deno.memoryUsage();
  const machine = compose(ALL_FEATURES_32768);
  const after = Deno.memoryUsage();
  assertEquals(machine.errors, []);
  assertEquals(machine.vcpus?.count, 32768);
  assertEquals(machine.vcpus?.apicId(32767), 32767);
  for (const f of EVERY_FEATURE) assertEquals(machine.isEnabled(f), true, f);
  const used = (after.heapUsed - before.heapUsed) + (after.external - before.external);
  assertEquals(used < LIMIT, true, `${(used / 2 ** 20).toFixed(1)} MiB`);
  console.log(`heap + external growth: ${(used / 2 ** 20).toFixed(2)} MiB`);
});
