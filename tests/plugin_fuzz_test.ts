/**
 * Fuzzing third-party plugins: seeded mutations of the built-in manifests (claims on another
 * plugin's CPUID bit, MSR, hypercall or I/O port, leaves outside 0x40000001, misspelt and deeply
 * nested conditions, junk values) registered beside the built-in plugins, with host hooks that
 * throw at random. Every outcome is a result or a PvkitError: definePlugin, compose,
 * EmuMachine.create and a run let nothing else out, and a machine whose plugin threw runs
 * again.
 */

import { assert } from "@std/assert";
import {
  definePluginFromJson,
  PluginHookError,
  type PluginHooks,
  PvkitError,
  type PvPlugin,
} from "@pvkit/machine";
import { EmuMachine, type EmuVcpu, type GuestBlock } from "@pvkit/emu";
import { builtinPlugins, compose } from "@pvkit/pvkit";
import { SplitMix64 } from "../packages/abi/_test_prng.ts";

const ROUNDS = 400;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function deepCondition(depth: number): Json {
  let c: Json = { feature: "kvmclock" };
  for (let i = 0; i < depth; i++) c = { not: c };
  return c;
}

/** One hostile edit of a manifest (JSON), in the ways issue 10 found plugins could clash. */
function mutateManifest(m: { [key: string]: Json }, rng: SplitMix64): void {
  const other = rng.pick(builtinPlugins).manifest;
  switch (rng.intIn(0, 9)) {
    case 0: // another plugin's CPUID bit
      m.cpuid = { leaf: "0x40000001", register: "eax", bits: [...other.cpuid.bits], abiName: "X" };
      break;
    case 1: // another plugin's MSR
      m.msrs = other.msrs.map((r) => ({ index: r.index, name: r.name }));
      break;
    case 2: // another plugin's hypercall
      m.hypercalls = other.hypercalls.map((h) => ({ nr: h.nr, name: h.name }));
      break;
    case 3:
      m.ioPorts = [{ first: rng.pick([0x80, 0x70, 0x3f8]), name: "port" }];
      break;
    case 4: // a leaf the guest never sees
      m.cpuid = {
        leaf: rng.pick(["0x40000003", "0x1", "0x80000001"]),
        register: "ecx",
        bits: [30],
        abiName: "X",
      };
      break;
    case 5: // a misspelt feature
      m.defaultOn = { feature: rng.pick(["kvm-stael-time", "kvmclok", "x2apix"]) };
      break;
    case 6:
      m.rules = [{
        id: "fuzz/r",
        level: "error",
        require: deepCondition(rng.pick([40, 10_000])),
        message: "m",
      }];
      break;
    case 7:
      m[rng.pick(["name", "cpuid", "msrs", "host", "rules"])] = rng.pick<Json>([
        null,
        7,
        "",
        [],
        {},
      ]);
      break;
    default: // a fresh bit: registers fine
      m.cpuid = { leaf: "0x40000001", register: "eax", bits: [rng.intIn(17, 23)], abiName: "X" };
  }
}

/** Hooks that answer KICK_CPU-like calls and throw now and then. */
function flakyHooks(rng: SplitMix64, nr: number): () => PluginHooks {
  const fail = () => {
    if (rng.intIn(0, 99) === 0) throw new Error("fuzz: the plugin failed");
  };
  return () => {
    fail();
    return {
      hypercalls: [{ nr, call: () => (fail(), 0n) }],
      lifecycle: [{ onEntry: fail, onExit: fail }],
    };
  };
}

function* program(cpu: EmuVcpu): Generator<GuestBlock, void, void> {
  for (let i = 0; i < 4; i++) {
    cpu.hypercall(100n + BigInt(i));
    yield { kind: "spin", ns: 100 };
  }
}

Deno.test(`${ROUNDS} mutated third-party plugins: results or PvkitErrors, nothing else`, () => {
  const rng = new SplitMix64(0x9_1061_f022n);
  let refused = 0, composed = 0, ran = 0, hookFailures = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const base = structuredClone(rng.pick(builtinPlugins).manifest) as unknown as {
      [key: string]: Json;
    };
    base.name = `fuzz-${round}`;
    base.package = `@fuzz/p${round}`;
    base.qemu = { name: null, aliases: [] };
    base.cpuid = { leaf: "0x40000001", register: "eax", bits: [20], abiName: "X" };
    base.msrs = [];
    base.hypercalls = [{ nr: 100 + (round % 4), name: "FUZZ" }];
    base.rules = [];
    mutateManifest(base, rng);
    const outcome = (() => {
      let plugin: PvPlugin;
      try {
        plugin = definePluginFromJson(base, flakyHooks(rng, 100 + (round % 4)));
      } catch (e) {
        assert(e instanceof PvkitError, `definePlugin let out ${e}`);
        return "refused";
      }
      const machine = compose({
        cpu: `host,${plugin.manifest.name}=on`,
        machine: "q35",
        smp: 2,
        host: "linux-6.18",
        plugins: [plugin],
      });
      if (!machine.ok) return "refused";
      let vm: EmuMachine;
      try {
        vm = EmuMachine.create(machine);
      } catch (e) {
        assert(e instanceof PvkitError, `EmuMachine.create let out ${e}`);
        if (e instanceof PluginHookError) hookFailures++;
        return "composed";
      }
      for (let attempt = 0; attempt < 8; attempt++) {
        try {
          vm.run([program, program]);
          return "ran";
        } catch (e) {
          assert(e instanceof PluginHookError, `a run let out ${e}`);
          hookFailures++; // and the next attempt runs the same machine again
        }
      }
      return "composed";
    })();
    if (outcome === "refused") refused++;
    else if (outcome === "ran") ran++;
    else composed++;
  }
  assert(refused > 0 && ran > 0 && hookFailures > 0, `${refused} ${ran} ${hookFailures}`);
  console.log(
    `refused ${refused}, composed ${composed}, ran ${ran}, hook failures ${hookFailures}`,
  );
});
