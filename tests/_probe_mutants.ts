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
  "64G",
  "0x1000000000000",
  0xffffffff,
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

/** A `depth`-deep nest of one-element arrays (a stack-overflow probe for recursive code). */
function deepArray(depth: number): Json {
  let node: Json = [];
  for (let i = 0; i < depth; i++) node = [node];
  return node;
}

/** The machine object of a probe mutant, created if the mutant has none. */
function machineOf(root: { [key: string]: Json }): { [key: string]: Json } {
  const m = root.machine;
  if (m !== null && typeof m === "object" && !Array.isArray(m)) return m;
  return (root.machine = {});
}

/** The steps array of vCPU 0 of a probe mutant, created if missing. */
function stepsOf(root: { [key: string]: Json }): Json[] {
  if (!Array.isArray(root.vcpus) || root.vcpus.length === 0) root.vcpus = [{ steps: [] }];
  const vcpu = root.vcpus[0];
  if (vcpu === null || typeof vcpu !== "object" || Array.isArray(vcpu)) {
    root.vcpus[0] = { steps: [] };
    return stepsOf(root);
  }
  if (!Array.isArray(vcpu.steps)) vcpu.steps = [];
  return vcpu.steps;
}

/**
 * The hostile inputs issue 10 found, as mutations: sizes past every limit, long chains and
 * deep nests, huge strings. Each crashed pvkit or took seconds to minutes once.
 */
const HOSTILE: readonly ((root: { [key: string]: Json }, rng: SplitMix64) => void)[] = [
  (r, rng) => void (machineOf(r).memory = rng.pick(["64G", "0x1000000000000", 2 ** 40, "2G"])),
  (r) => void (machineOf(r).tscKhz = 0xffffffff),
  (r) => {
    const steps = stepsOf(r);
    for (let i = 0; i < 10_000; i++) steps.push({ op: "barrier", id: `chain-${i}` });
  },
  (r) => {
    const steps = stepsOf(r);
    for (let i = 0; i < (1 << 17) + 1; i++) steps.push({ op: "cli" });
  },
  (r) => {
    const cpuid: { [key: string]: Json } = {};
    for (let i = 0; i < 100_000; i++) cpuid[`0x${(0x80000100 + i).toString(16)}`] = { eax: i };
    machineOf(r).cpuid = cpuid;
  },
  (r) => {
    machineOf(r).memory = "64M";
    stepsOf(r).push({ op: "zero", gpa: "0x0", length: 64 << 20 });
  },
  (r, rng) => {
    const items = Array.from({ length: 75_000 }, (_, i) => (i % 2 ? "kvm-pv-eoi=on" : "+kvmclock"));
    machineOf(r).cpu = rng.pick(["host", "qemu64"]) + "," + items.join(",");
  },
  (r) => void (machineOf(r).cpu = "host," + "a".repeat(1 << 20)),
  (r, rng) => {
    const containers = [r, machineOf(r), stepsOf(r)];
    const node = rng.pick(containers);
    if (Array.isArray(node)) node.push(deepArray(10_000));
    else node[rng.pick(["name", "memory", "cpuid", "vcpus", "clock"])] = deepArray(10_000);
  },
  (r) => {
    const steps = stepsOf(r);
    for (let i = 0; i < 20_000; i++) steps.push({ op: "rdtsc" });
    machineOf(r).tscKhz = 0x7ffffffe;
  },
];

/** How many hostile mutations {@linkcode hostileMutants} knows. */
export const HOSTILE_KINDS: number = HOSTILE.length;

/**
 * Mutants that each apply one hostile mutation (all of them in turn, `rounds` times) after 0
 * to 2 ordinary ones; checked like {@linkcode mutants}.
 */
export function* hostileMutants(bases: Json[], seed: bigint, rounds: number): Generator<Mutant> {
  const rng = new SplitMix64(seed);
  for (let round = 0; round < rounds; round++) {
    for (const [k, hostile] of HOSTILE.entries()) {
      const mutant = structuredClone(rng.pick(bases)) as { [key: string]: Json };
      for (let m = rng.intIn(0, 2); m > 0; m--) mutate(mutant, rng);
      hostile(mutant, rng);
      const name = `hostile-${k}-${round}.json`;
      let text: string;
      try {
        text = JSON.stringify(mutant).slice(0, 2000);
      } catch {
        text = `(hostile mutation ${k}, too deep to print)`;
      }
      try {
        yield { text, parsed: parseProbe(mutant, name) };
      } catch (e) {
        if (!(e instanceof ProbeError)) {
          throw new Error(`a mutant escaped the parser: ${e}\n${text}`);
        }
        assert(e.message.length > 0 && !e.message.includes("undefined"), `${e.message}\n${text}`);
        yield { text, parsed: e };
      }
    }
  }
}
