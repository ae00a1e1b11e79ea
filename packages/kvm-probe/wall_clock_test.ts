// The wall clock KVM writes (MSR_KVM_WALL_CLOCK_NEW) is the host's realtime at kvmclock 0;
// plus kvmclock now it is the time now: within 5 s of the host's own clock.

import { hostTimeScale } from "@pvkit/kvm";
import { assertEquals } from "@std/assert";
import { kvmTest } from "@pvkit/kvm/testing";
import { parseProbe } from "@pvkit/probe";
import { KvmProbeBackend } from "./kvm_probe_backend.ts";

kvmTest("wall clock on KVM: boot time + kvmclock is within 5 s of the host's time", async () => {
  const probe = parseProbe({
    name: "wall-clock",
    machine: { cpu: "host" },
    vcpus: [{
      steps: [
        { op: "wrmsr", msr: "0x4b564d01", value: "0x1001" },
        { op: "wrmsr", msr: "0x4b564d00", value: "0x2000" },
        { op: "out", port: "0xf4", size: 1, value: 0 },
        { op: "read", gpa: "0x2004", size: 4, label: "sec" },
        { op: "read", gpa: "0x2008", size: 4, label: "nsec" },
        { op: "read", gpa: "0x1010", size: 8, label: "system_time" },
      ],
    }],
  });
  const run = await new KvmProbeBackend().run(probe, { timeoutMs: 5000 * hostTimeScale() });
  const value = (i: number) => {
    const r = run.vcpus[0].results[i];
    return r && "value" in r ? r.value : 0n;
  };
  const bootNs = value(3) * 1_000_000_000n + value(4);
  const guestNowMs = Number((bootNs + value(5)) / 1_000_000n);
  const skew = Math.abs(guestNowMs - Date.now());
  assertEquals(skew < 5000, true, `guest wall clock is ${skew} ms off the host's`);
});
