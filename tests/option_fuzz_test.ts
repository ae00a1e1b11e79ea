/**
 * Fuzzing the QEMU option parser: 100 000 seeded strings built from real flag names, values,
 * separators and junk. Every parser and the full composition either succeed or fail with
 * pvkit's own error type; nothing else escapes.
 */

import { assertEquals } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  composeQemu,
  parseAccelOption,
  parseCpuOption,
  parseMachineOption,
  parseSmpOption,
  qemuDialect,
} from "@pvkit/qemu";
import { builtinRegistry } from "@pvkit/pvkit";
import { parseDescribeArgs } from "@pvkit/cli";
import { SplitMix64 } from "../packages/abi/_test_prng.ts";

const STRINGS = 100_000;
const FULL_COMPOSE_EVERY = 10;

const dialect = qemuDialect("current");
const registry = builtinRegistry();
const host = {
  name: "fuzz",
  kvmLeaf: { eax: 0x01007efb, edx: 0 },
  x2apicApi: true,
  maxVcpus: 1024,
};

const words = [
  ...registry.names(),
  ...dialect.flags.slice(0, 60),
  "host",
  "max",
  "base",
  "qemu64",
  "EPYC",
  "q35",
  "pc",
  "microvm",
  "pvkit",
  "pc-q35-5.1",
  "kernel-irqchip",
  "accel",
  "kvm",
  "tcg",
  "check",
  "enforce",
  "migratable",
  "tsc-freq",
  "hv-relaxed",
  "family",
  "model-id",
  "cpus",
  "maxcpus",
  "sockets",
  "cores",
  "threads",
  "dies",
  "on",
  "off",
  "split",
  "yes",
  "no",
  "y",
  "n",
  "true",
  "false",
  "ON",
  "maybe",
  "0",
  "1",
  "4",
  "256",
  "32769",
  "-1",
  "0x10",
  "99999999999999999999",
  "",
  " ",
  "é",
  "\u0000",
  "💥",
  "__proto__",
  "constructor",
  "toString",
];
const separators = [",", "=", "+", "-", ",,", "=", "_", ".", " "];

function fuzzString(rng: SplitMix64): string {
  const n = rng.intIn(0, 8);
  let s = rng.intIn(0, 3) === 0 ? "" : rng.pick(words);
  for (let i = 0; i < n; i++) s += rng.pick(separators) + rng.pick(words);
  if (rng.intIn(0, 9) === 0) {
    const at = rng.intIn(0, s.length);
    s = s.slice(0, at) + String.fromCharCode(rng.intIn(0, 0xffff)) + s.slice(at);
  }
  return s;
}

/** A well-formed -cpu string: a model and modelled flags in the three spellings. */
function wellFormedCpu(rng: SplitMix64): string {
  const items = [rng.pick(["qemu64", "host", "max", "EPYC", "base"])];
  for (let i = rng.intIn(0, 6); i > 0; i--) {
    const flag = rng.pick(registry.names().filter((n) => !n.includes("_")));
    items.push(
      rng.pick([`${flag}=${rng.pick(["on", "off", "yes", "n"])}`, `+${flag}`, `-${flag}`, flag]),
    );
  }
  return items.join(",");
}

function onlyPvkitErrors(fn: () => unknown, input: string): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof PvkitError)) {
      throw new Error(`non-pvkit error for ${JSON.stringify(input)}: ${e}`, { cause: e });
    }
  }
}

Deno.test(`fuzzing ${STRINGS} option strings raises only PvkitError`, () => {
  const rng = new SplitMix64(0x5eed_f00dn);
  let failures = 0;
  let successes = 0;
  for (let i = 0; i < STRINGS; i++) {
    const s = fuzzString(rng);
    onlyPvkitErrors(() => parseCpuOption(s), s);
    onlyPvkitErrors(() => parseMachineOption(s, dialect), s);
    onlyPvkitErrors(() => parseSmpOption(s), s);
    onlyPvkitErrors(() => parseAccelOption(s), s);
    onlyPvkitErrors(() => parseDescribeArgs(s.split(" ")), s);
    if (i % FULL_COMPOSE_EVERY === 0) {
      const m = composeQemu(
        {
          cpu: rng.pick([s, `qemu64,${s}`, wellFormedCpu(rng), wellFormedCpu(rng)]),
          machine: rng.intIn(0, 3) === 0 ? fuzzString(rng) : rng.pick(["q35", "pc", "pvkit"]),
          smp: rng.intIn(1, 300),
          accel: rng.pick(["kvm", "kvm", "tcg", s]),
        },
        { registry, host, rules: rng.pick(["strict", "qemu"] as const) },
      );
      if (m.ok) successes++;
      else failures++;
      // The JSON is always complete, whatever the input.
      assertEquals(Object.keys(m.toJSON()).length, 10);
    }
  }
  // The generator must exercise both outcomes.
  assertEquals(failures > 0 && successes > 0, true, `${successes} composed, ${failures} refused`);
});
