import { assertEquals } from "@std/assert";
import { PluginRegistry, type PvkitError } from "@pvkit/machine";
import { classifyCpuItems } from "./cpu_settings.ts";
import { parseCpuOption } from "./cpu_option.ts";
import { QEMU_VERSIONS, qemuDialect } from "./qemu_dialect.ts";

Deno.test("every flag name QEMU accepts parses, in all three spellings", () => {
  const registry = new PluginRegistry();
  for (const version of QEMU_VERSIONS) {
    const dialect = qemuDialect(version);
    const model = dialect.models.get("qemu64")!;
    const boolAliases = [...dialect.aliases].filter(([, target]) =>
      dialect.flagSet.has(target) || dialect.properties.get(target) === "bool"
    ).map(([alias]) => alias);
    for (const flag of new Set([...dialect.flags, ...boolAliases])) {
      const option = parseCpuOption(`qemu64,${flag}=on,+${flag},-${flag}`);
      try {
        classifyCpuItems(option, model, dialect, registry, "qemu");
      } catch (e) {
        throw new Error(`QEMU ${version}: ${flag} was refused: ${(e as PvkitError).message}`);
      }
    }
  }
});

Deno.test("machine types resolve with QEMU's limits and defaults", () => {
  const q72 = qemuDialect("7.2");
  const now = qemuDialect("current");
  assertEquals(q72.resolveMachine("q35")?.name, "pc-q35-7.2");
  assertEquals(q72.resolveMachine("q35")?.maxCpus, 288);
  assertEquals(q72.resolveMachine("pc")?.maxCpus, 255);
  assertEquals(q72.resolveMachine("pc-q35-4.0")?.defaultIrqchip, "split");
  assertEquals(q72.resolveMachine("pc-q35-4.0.1")?.defaultIrqchip, "on");
  assertEquals(q72.resolveMachine("microvm")?.defaultIrqchip, "split");
  assertEquals(q72.resolveMachine("pc-q35-5.1")?.msiExtDestIdOff, true);
  assertEquals(q72.resolveMachine("pc-q35-5.2")?.msiExtDestIdOff, false);
  assertEquals(q72.resolveMachine("pc-i440fx-1.4")?.deprecated !== undefined, true);
  assertEquals(q72.resolveMachine("pc-q35-2.3"), undefined);
  assertEquals(now.resolveMachine("q35")?.maxCpus, 4096);
  assertEquals(now.resolveMachine("pc-q35-8.1")?.maxCpus, 1024);
  assertEquals(now.resolveMachine("pc-q35-2.4"), undefined);
  assertEquals(now.resolveMachine("toString"), undefined);
});

Deno.test("7.2 lacks kvm-asyncpf-vmexit; current has it", () => {
  assertEquals(qemuDialect("7.2").flagSet.has("kvm-asyncpf-vmexit"), false);
  assertEquals(qemuDialect("current").flagSet.has("kvm-asyncpf-vmexit"), true);
  assertEquals(qemuDialect("7.2").flags.filter((f) => f === "kvmclock").length, 2);
});
