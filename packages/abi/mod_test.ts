import { assertEquals } from "@std/assert";
import * as abi from "./mod.ts";

Deno.test("mod.ts re-exports the public surface of every module", async () => {
  const files = [
    "cpuid.ts",
    "msr.ts",
    "hypercall.ts",
    "pvclock_vcpu_time_info.ts",
    "pvclock_wall_clock.ts",
    "kvm_steal_time.ts",
    "kvm_vcpu_pv_apf_data.ts",
    "kvm_clock_pairing.ts",
    "seqlock.ts",
    "pvclock.ts",
  ];
  for (const file of files) {
    const module = await import(`./${file}`);
    for (const name of Object.keys(module)) {
      assertEquals(name in abi, true, `${name} from ${file}`);
    }
  }
  // Test helpers stay private.
  assertEquals("SplitMix64" in abi, false);
  assertEquals("RecordingMemory" in abi, false);
});
