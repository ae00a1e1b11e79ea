import { assertEquals, assertThrows } from "@std/assert";
import {
  definePlugin,
  PluginHookError,
  type PluginHooks,
  type PluginManifestInput,
  PvkitError,
} from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { EmuMachine } from "./emu_machine.ts";
import type { EmuVcpu } from "./emu_vcpu.ts";

const MANIFEST: PluginManifestInput = {
  name: "acme-faulty",
  package: "@acme/faulty",
  summary: "a plugin whose host code throws",
  qemu: { name: null, aliases: [] },
  cpuid: { leaf: "0x40000001", register: "eax", bits: [20], abiName: "ACME_FAULTY" },
  defaultOn: false,
  host: { provider: "vmm", autoEnable: false },
  msrs: [],
  hypercalls: [{ nr: 100, name: "ACME_HC" }],
  since: {},
  rules: [],
};

function machineWith(createHooks: () => PluginHooks): EmuMachine {
  const plugin = definePlugin(MANIFEST, createHooks);
  return EmuMachine.create(
    compose({
      cpu: "host,acme-faulty=on",
      machine: "q35",
      smp: 1,
      host: "linux-6.18",
      plugins: [plugin],
    }),
  );
}

Deno.test("a plugin that throws while creating its hooks is named; the machine is not created", () => {
  const e = assertThrows(
    () =>
      machineWith(() => {
        throw new TypeError("cannot read properties of undefined");
      }),
    PluginHookError,
    "plugin acme-faulty failed in createHooks: cannot read properties of undefined",
  );
  assertEquals([e.plugin, e.hook, e.code], ["acme-faulty", "createHooks", "plugin-failed"]);
  assertEquals(e instanceof PvkitError, true); // the CLI exits with status 2
});

Deno.test("a plugin hook that throws during a run is named, and the machine runs again", () => {
  let calls = 0;
  const vm = machineWith(() => ({
    hypercalls: [{
      nr: 100,
      call() {
        if (++calls === 1) throw new RangeError("bad index");
        return 7n;
      },
    }],
  }));
  const program = function* (cpu: EmuVcpu) {
    results.push(cpu.hypercall(100n));
    yield { kind: "yield" as const };
  };
  const results: bigint[] = [];
  assertThrows(
    () => vm.run([program]),
    PluginHookError,
    "plugin acme-faulty failed in hypercalls.call: bad index",
  );
  const summary = vm.run([program]);
  assertEquals([results, summary.blocked, summary.stepLimitReached], [[7n], [], false]);
});

Deno.test("a lifecycle hook that throws on entry is named with the hook", () => {
  const vm = machineWith(() => ({
    lifecycle: [{
      onEntry() {
        throw new Error("entry failed");
      },
    }],
  }));
  assertThrows(
    () => vm.run([function* () {}]),
    PluginHookError,
    "plugin acme-faulty failed in lifecycle.onEntry: entry failed",
  );
});

Deno.test("two plugins whose hooks handle one hypercall are refused, both named", () => {
  const handler = () => ({ hypercalls: [{ nr: 5, call: () => 0n }] });
  const quiet = definePlugin({ ...MANIFEST, hypercalls: [] }, handler); // undeclared KICK_CPU
  const composed = compose({
    cpu: "host,kvm-pv-unhalt=on",
    machine: "q35",
    smp: 2,
    host: "linux-6.18",
    plugins: [quiet],
  });
  assertThrows(
    () => EmuMachine.create(composed),
    PvkitError,
    "hypercall 5 is handled by two plugins: kvm-pv-unhalt and acme-faulty",
  );
});
