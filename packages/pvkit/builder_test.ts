import { assertEquals, assertThrows } from "@std/assert";
import { definePlugin, PvkitError, type PvPlugin } from "@pvkit/machine";
import { compose } from "./compose.ts";
import { MachineBuilder } from "./builder.ts";

Deno.test("use(undefined) (a misspelt import) is a clear error, not a TypeError", () => {
  assertThrows(
    () => new MachineBuilder().use(undefined as unknown as PvPlugin),
    PvkitError,
    "MachineBuilder.use() needs a plugin, got undefined",
  );
  assertThrows(
    () => new MachineBuilder().disable({} as PvPlugin),
    PvkitError,
    "MachineBuilder.disable() needs a plugin, got object",
  );
});

Deno.test("compose() reports a plugin rule that names a feature no plugin provides", () => {
  const misspelt = definePlugin({
    name: "acme-needs-steal",
    package: "@acme/needs-steal",
    summary: "a rule with a misspelt feature",
    qemu: { name: null, aliases: [] },
    cpuid: { leaf: "0x40000001", register: "eax", bits: [20], abiName: "ACME" },
    defaultOn: false,
    host: { provider: "vmm", autoEnable: false },
    msrs: [],
    hypercalls: [],
    since: {},
    rules: [{
      id: "acme/needs-steal",
      level: "error",
      require: { feature: "kvm-stael-time" },
      message: "{feature} needs steal time",
    }],
  });
  const composed = compose({ cpu: "host", host: "linux-6.18", plugins: [misspelt] });
  assertEquals(composed.errors, [
    'plugin manifest acme-needs-steal.rules[0].require: names the feature "kvm-stael-time", ' +
    "which no registered plugin provides",
  ]);
});
