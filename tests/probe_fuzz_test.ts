/**
 * Fuzzing probe files: 20 000 seeded structural mutations of the conformance and example probes
 * (values replaced by other JSON types, out-of-range numbers and junk strings, keys deleted or
 * added, arrays truncated or grown). Every mutant either parses or fails with a ProbeError that
 * names where; one in 25 of those that parse also runs on the emulated backend, which either
 * reports or fails with pvkit's own error. (probe_fuzz_kvm_test.ts runs mutants on KVM.) Nothing else escapes.
 * Hostile mutants (sizes past every limit, long chains, deep nests, huge strings: the crashes
 * issue 10 found) and paths that are not regular files go through the same checks.
 */

import { assert, assertRejects } from "@std/assert";
import { loadProbeFile, ProbeError } from "@pvkit/probe";
import { EmuProbeBackend } from "@pvkit/emu";
import { HOSTILE_KINDS, hostileMutants, mutants, runs, seeds } from "./_probe_mutants.ts";

const MUTANTS = 20_000;
const RUN_EVERY = 25;

Deno.test({
  name:
    `${MUTANTS} mutated probe files: only ProbeError from the parser, only pvkit errors from a run`,
  permissions: { read: true },
  async fn() {
    const bases = await seeds();
    assert(bases.length >= 10, `only ${bases.length} seed probes`);
    const backend = new EmuProbeBackend();
    let parsed = 0, rejected = 0, ran = 0;
    for (const m of mutants(bases, 0x9e0be_f022n, MUTANTS)) {
      if (m.parsed instanceof ProbeError) {
        rejected++;
        continue;
      }
      if (++parsed % RUN_EVERY === 0 && await runs(backend, m.parsed, m.text)) ran++;
    }
    assert(
      rejected > MUTANTS / 4 && parsed > MUTANTS / 20,
      `parsed ${parsed}, rejected ${rejected}`,
    );
    assert(ran > 0);
    console.log(`parsed ${parsed}, rejected ${rejected}, ran ${ran}`);
  },
});

Deno.test({
  name: "hostile mutants (issue 10's reproducers): refused with a ProbeError, or run to a report",
  permissions: { read: true },
  async fn() {
    const backend = new EmuProbeBackend();
    let rejected = 0, ran = 0;
    for (const m of hostileMutants(await seeds(), 0x4057_11e5n, 2)) {
      if (m.parsed instanceof ProbeError) rejected++;
      else if (await runs(backend, m.parsed, m.text)) ran++;
    }
    assert(rejected > 0 && ran > 0, `rejected ${rejected}, ran ${ran}`);
    console.log(`${HOSTILE_KINDS} kinds: rejected ${rejected}, ran ${ran}`);
  },
});

Deno.test({
  name: "probe paths that are not regular files are refused with a ProbeError, never read",
  permissions: { read: true, write: true, run: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const fifo = `${dir}/fifo.json`;
      assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
      for (const path of [fifo, "/dev/zero", "/dev/null", "/dev/urandom", dir, `${dir}/none`]) {
        await assertRejects(() => loadProbeFile(path), ProbeError, path);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
