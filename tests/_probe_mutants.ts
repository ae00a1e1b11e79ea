/**
 * The probe-file mutator the fuzz tests share: seeds (the conformance and example probes) and
 * seeded structural mutations of them, and a run check that lets only pvkit's own errors out.
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
import { SplitMix64 } from "../packages/abi/_test_prng.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export async function seeds(): Promise<Json[]> {
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
export function* mutants(bases: Json[], seed: bigint, count: number): Generator<Mutant> {
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
export async function runs(
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
