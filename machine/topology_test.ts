import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "./errors.ts";
import { apicIdLimit, apicIdOf, simpleTopology, validateTopology } from "./topology.ts";

Deno.test("APIC IDs pack thread, core, die and socket into power-of-two fields", () => {
  const t = { cpus: 12, maxCpus: 12, sockets: 2, dies: 1, cores: 3, threads: 2 };
  // threads: 1 bit, cores: 2 bits -> socket 1 starts at 1 << 3.
  assertEquals([0, 1, 2, 5, 6].map((i) => apicIdOf(t, i)), [0, 1, 2, 5, 8]);
  assertEquals(apicIdLimit(t), 14);
  assertEquals(apicIdLimit(simpleTopology(300)), 300);
});

Deno.test("validateTopology rejects inconsistent topologies", () => {
  assertThrows(
    () => validateTopology({ cpus: 4, maxCpus: 4, sockets: 3, dies: 1, cores: 1, threads: 1 }),
    PvkitError,
  );
  assertThrows(() => simpleTopology(0), PvkitError);
  assertThrows(() => simpleTopology(4, 2), PvkitError);
});
