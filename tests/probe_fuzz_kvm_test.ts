/**
 * Fuzzing probe files on KVM: 30 seeded mutants that parse run on KVM under the vCPU watchdog;
 * each ends in a report or a pvkit error, never a hang or another exception.
 */

import { hostTimeScale } from "@pvkit/kvm";
import { assert } from "@std/assert";
import { kvmTest } from "@pvkit/kvm/testing";
import { KvmProbeBackend } from "@pvkit/kvm-probe";
import { ProbeError } from "@pvkit/probe";
import { mutants, runs, seeds } from "./_probe_mutants.ts";

kvmTest(
  "30 mutated probes that parse run on KVM: a report or a pvkit error, never a hang",
  async () => {
    const backend = new KvmProbeBackend();
    let tried = 0, reported = 0;
    for (const m of mutants(await seeds(), 0x6b766dn, Number.MAX_SAFE_INTEGER)) {
      if (m.parsed instanceof ProbeError) continue;
      if (await runs(backend, m.parsed, m.text, { timeoutMs: 2000 * hostTimeScale() })) reported++;
      if (++tried === 30) break;
    }
    assert(reported > 0);
  },
  { permissions: "inherit", sanitizeResources: false },
);
