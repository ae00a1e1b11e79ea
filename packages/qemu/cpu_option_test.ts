import { assertEquals, assertThrows } from "@std/assert";
import { featureToProperty, parseCpuOption } from "./cpu_option.ts";
import { QemuOptionError } from "./option_error.ts";

Deno.test("the model is split off at the first comma; empty items vanish", () => {
  const cpu = parseCpuOption("EPYC,,kvm-pv-ipi=on,,");
  assertEquals(cpu.model, "EPYC");
  assertEquals(cpu.items, [{
    kind: "property",
    name: "kvm-pv-ipi",
    value: "on",
    written: "kvm-pv-ipi=on",
  }]);
});

Deno.test("+/- names stay verbatim; name=value converts '_' and a bare name means on", () => {
  const cpu = parseCpuOption("host,+kvm_pv_eoi,-kvm_steal_time,kvm_pv_ipi,tsc-freq=2G");
  assertEquals(
    cpu.items.map((i) => i.kind === "property" ? `${i.name}=${i.value}` : `${i.kind}:${i.name}`),
    [
      "plus:kvm_pv_eoi",
      "minus:kvm_steal_time",
      "kvm-pv-ipi=on",
      "tsc-frequency=2G",
    ],
  );
  assertEquals(featureToProperty("a_b_c"), "a-b-c");
});

Deno.test("a name=value after +name/-name warns, then once about compatibility", () => {
  const cpu = parseCpuOption("qemu64,+kvm-pv-eoi,kvm-pv-eoi=off,-kvm-pv-ipi,kvm-pv-ipi=on");
  assertEquals(cpu.warnings, [
    `Ambiguous CPU model string. Don't mix both "+kvm-pv-eoi" and "kvm-pv-eoi=off"`,
    `Ambiguous CPU model string. Don't mix both "-kvm-pv-ipi" and "kvm-pv-ipi=on"`,
    "Compatibility of ambiguous CPU model strings won't be kept on future QEMU versions",
  ]);
  // The comparison is against the unconverted +/- text (tests/qemu72: qemu64-us-ambiguous).
  assertEquals(parseCpuOption("qemu64,+kvm_pv_eoi,kvm_pv_eoi=off").warnings, []);
  // Order matters: name=value before +name does not warn.
  assertEquals(parseCpuOption("qemu64,kvm-pv-eoi=off,+kvm-pv-eoi").warnings, []);
});

Deno.test("an empty -cpu is QEMU's error", () => {
  const e = assertThrows(() => parseCpuOption(""), QemuOptionError);
  assertEquals((e as Error).message, "-cpu option cannot be empty");
});
