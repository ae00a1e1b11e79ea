import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { parseProbe } from "@pvkit/probe";
import { composeProbeMachine } from "./mod.ts";

const probe = (plugins: string[]) =>
  parseProbe({ name: "p", machine: { plugins }, vcpus: [{ steps: [] }] });

Deno.test("composeProbeMachine: a probe may name pvkit's opt-in plugins by default", () => {
  const composed = composeProbeMachine(probe(["kvm-hc-map-gpa-range"]), {
    backend: "emulated",
    host: "linux-6.18",
  });
  assert(composed.registry.plugins.some((p) => p.manifest.name === "kvm-hc-map-gpa-range"));
});

Deno.test("composeProbeMachine: an unknown plugin is an error that lists what is available", () => {
  const e = assertThrows(
    () => composeProbeMachine(probe(["kvm-nope"]), { backend: "emulated", host: "linux-6.18" }),
    PvkitError,
    'probe p: no plugin named "kvm-nope" is available to the emulated backend',
  );
  assertEquals(e.hint, "available: kvm-hc-map-gpa-range, kvm-migration-control");
  assertThrows(
    () =>
      composeProbeMachine(probe(["kvm-hc-map-gpa-range"]), {
        backend: "kvm",
        host: "linux-6.18",
        plugins: new Map(),
      }),
    PvkitError,
    "available to the kvm backend",
  );
});
