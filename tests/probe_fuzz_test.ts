/**
 * Fuzzing probe files: 20 000 seeded structural mutations of the conformance and example probes
 * (values replaced by other JSON types, out-of-range numbers and junk strings, keys deleted or
 * added, arrays truncated or grown). Every mutant either parses or fails with a ProbeError that
 * names where; one in 25 of those that parse also runs on the emulated backend, which either
 * reports or fails with pvkit's own error. Where /dev/kvm is usable, 30 parsing mutants also
 * run on KVM under the vCPU watchdog. Nothing else escapes.
 */

import { assert } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  parseProbe,
  type Probe,
  type ProbeBackend,
  ProbeError,
  type ProbeRunOptions,
} from "@pvkit/probe";
import { EmuProbeBackend } from "@pvkit/emu";
import { probeKvm } from "@pvkit/kvm";
import { KvmProbeBackend } from "@pvkit/kvm-probe";
import { SplitMix64 } from "../packages/abi/_test_prng.ts";

const MUTANTS = 20_000;
const RUN_EVERY = 25;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

async function seeds(): Promise<Json[]> {
  const out: Json[] = [];
  for (const dir of ["tests/conformance", "packages/probe/examples"]) {
    for await (const entry of Deno.readDir(new URL(`../${dir}`, import.meta.url))) {
      if (!entry.name.endsWith(".json")) continue;
      const url = new URL(`../${dir}/${entry.name}`, import.meta.url);
      out.push(JSON.parse(await Deno.readTextFile(url)));
    }
  }
  return out;
}

const JUNK: readonly Json[] = [
  null,
  true,
  false,
  0,
  -1,
  0.5,
  2 ** 53,
  -(2 ** 63),
  1e300,
  "",
  "0x",
  "0xZZ",
  "0x1_0000_0000_0000_0000",
  "-0x1",
  "GP",
  "UD",
  "rdmsr",
  "hypercall",
  "__proto__",
  "constructor",
  "q35,kernel-irqchip=split",
  "host,kvm-pv-ipi=maybe",
  [],
  [null],
  {},
  { op: "nope" },
  { value: "0x1" },
  { fault: "GP" },
];

/** Every container node of `root` with a way to edit it. */
function containers(root: Json): (Json[] | { [key: string]: Json })[] {
  const out: (Json[] | { [key: string]: Json })[] = [];
  const walk = (node: Json) => {
    if (node === null || typeof node !== "object") return;
    out.push(node);
    for (const child of Array.isArray(node) ? node : Object.values(node)) walk(child);
  };
  walk(root);
  return out;
}

function mutate(root: Json, rng: SplitMix64): void {
  const nodes = containers(root);
  const node = rng.pick(nodes);
  const junk = (): Json => structuredClone(rng.pick(JUNK));
  if (Array.isArray(node)) {
    if (node.length === 0) {
      node.push(junk());
      return;
    }
    const i = rng.intIn(0, node.length - 1);
    switch (rng.intIn(0, 3)) {
      case 0:
        node[i] = junk();
        break;
      case 1:
        node.splice(i, 1);
        break;
      case 2:
        node.push(structuredClone(node[i]));
        break;
      default:
        node.length = i;
    }
    return;
  }
  const keys = Object.keys(node);
  switch (rng.intIn(0, 2)) {
    case 0:
      if (keys.length > 0) node[rng.pick(keys)] = junk();
      break;
    case 1:
      if (keys.length > 0) delete node[rng.pick(keys)];
      break;
    default:
      node[rng.pick(["extra", "steps", "expect", "vcpus", "machine", "value", "nr"])] = junk();
  }
}

/** One mutant: its JSON text and what the parser made of it. */
interface Mutant {
  readonly text: string;
  readonly parsed: Probe | ProbeError;
}

/**
 * `count` seeded mutants (1 to 3 mutations each). A parser failure other than a ProbeError
 * with a message that names no `undefined` fails the test here, with the mutant's text.
 */
function* mutants(bases: Json[], seed: bigint, count: number): Generator<Mutant> {
  const rng = new SplitMix64(seed);
  for (let i = 0; i < count; i++) {
    const mutant = structuredClone(rng.pick(bases));
    for (let m = rng.intIn(1, 3); m > 0; m--) mutate(mutant, rng);
    const text = JSON.stringify(mutant);
    try {
      yield { text, parsed: parseProbe(mutant, `mutant-${i}.json`) };
    } catch (e) {
      if (!(e instanceof ProbeError)) throw new Error(`a mutant escaped the parser: ${e}\n${text}`);
      assert(e.message.length > 0 && !e.message.includes("undefined"), `${e.message}\n${text}`);
      yield { text, parsed: e };
    }
  }
}

/** Runs a mutant that parsed: true for a report, false for a pvkit error; anything else fails. */
async function runs(
  backend: ProbeBackend,
  probe: Probe,
  text: string,
  options: ProbeRunOptions = {},
): Promise<boolean> {
  try {
    await backend.run(probe, options);
    return true;
  } catch (e) {
    if (!(e instanceof PvkitError)) {
      throw new Error(`a mutant escaped the ${backend.name} backend: ${e}\n${text}`);
    }
    return false;
  }
}

const KVM = probeKvm();

Deno.test({
  name: KVM.usable
    ? "30 mutated probes that parse run on KVM: a report or a pvkit error, never a hang"
    : `30 mutated probes on KVM (skipped: /dev/kvm unusable: ${KVM.reason})`,
  ignore: !KVM.usable,
  permissions: "inherit",
  sanitizeResources: false,
  async fn() {
    const backend = new KvmProbeBackend();
    let tried = 0, reported = 0;
    for (const m of mutants(await seeds(), 0x6b766dn, Number.MAX_SAFE_INTEGER)) {
      if (m.parsed instanceof ProbeError) continue;
      if (await runs(backend, m.parsed, m.text, { timeoutMs: 2000 })) reported++;
      if (++tried === 30) break;
    }
    assert(reported > 0);
  },
});

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
