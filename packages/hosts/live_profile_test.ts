import { assertEquals } from "@std/assert";
import { readLiveProfile } from "./live_profile.ts";

const live = readLiveProfile();
const reason = "reason" in live ? live.reason : "";

Deno.test({
  name: `live kvm profile matches KVM's guaranteed PV bits${reason ? ` (skipped: ${reason})` : ""}`,
  ignore: "reason" in live,
  fn() {
    if (!("profile" in live)) return;
    const { kvmLeaf } = live.profile;
    // arch/x86/kvm/cpuid.c: bits 0, 1, 3, 24 always reported; 2, 15, 16, 17 never.
    for (const bit of [0, 1, 3, 24]) assertEquals((kvmLeaf.eax >>> bit) & 1, 1);
    for (const bit of [2, 15, 16, 17]) assertEquals((kvmLeaf.eax >>> bit) & 1, 0);
    assertEquals(kvmLeaf.edx, 0); // KVM never reports the REALTIME hint
    assertEquals(live.profile.name, "kvm");
  },
});

Deno.test("an absent device gives a reason, not an exception", () => {
  const missing = readLiveProfile("/dev/no-such-kvm");
  assertEquals("reason" in missing && missing.reason.includes("does not exist"), true);
});
