import { assertEquals } from "@std/assert";
import { EmuProbeBackend } from "@pvkit/emu";
import { optionalPlugins } from "@pvkit/pvkit";
import { runFeatureProbes } from "./feature_table.ts";

Deno.test("every built-in feature probe passes on the emulated backend", async () => {
  const rows = await runFeatureProbes(new EmuProbeBackend({ plugins: optionalPlugins }));
  assertEquals(rows.filter((r) => !r.passed), []);
  assertEquals(rows.length >= 10, true);
});
