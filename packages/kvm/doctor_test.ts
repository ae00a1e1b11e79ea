import { assert, assertEquals } from "@std/assert";
import { DOCTOR_CAPABILITIES, HYPERCALLS_UNAVAILABLE, runKvmDoctor } from "./mod.ts";
import { kvmTest } from "./_test_utils.ts";

Deno.test("runKvmDoctor reports an unusable device instead of throwing", async () => {
  const r = await runKvmDoctor({ device: "/nonexistent/kvm", pioExits: 0 });
  assertEquals(r.usable, false);
  assert(r.reason !== null && r.reason.length > 0);
  assertEquals(r.capabilities, []);
});

kvmTest("runKvmDoctor on this host", async () => {
  const r = await runKvmDoctor({ pioExits: 2000, hypercallTimeoutMs: 1000 });
  assertEquals(r.usable, true);
  assertEquals(r.apiVersion, 12);
  assertEquals(r.capabilities.map((c) => c.name), Object.keys(DOCTOR_CAPABILITIES));
  const cap = (name: string) => r.capabilities.find((c) => c.name === name)?.value;
  assertEquals(cap("KVM_CAP_ENFORCE_PV_FEATURE_CPUID"), 1);
  assert(r.pvLeafEax !== null && (r.pvLeafEax & 1) === 1, "KVM_FEATURE_CLOCKSOURCE");
  assert(r.tscKhz !== null && r.tscKhz > 0, r.tscKhzError);
  assert(r.pioExitUs !== null && r.pioExitUs > 0, r.pioExitError);
  if (r.hypercalls.status === "unavailable") {
    assert(r.hypercalls.detail.startsWith(HYPERCALLS_UNAVAILABLE));
  } else {
    assertEquals(r.hypercalls.status, "works", r.hypercalls.detail);
  }
});
