import { assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  composeMsiMessage,
  decideMsiExtDestId,
  decodeMsiDestination,
  tryToEnableX2apic,
} from "./msi.ts";
import { bits, info } from "./_fake_cpu.ts";

Deno.test("MSI ext dest ID: encode/decode round trip for every APIC ID 0..32767", () => {
  const warnings: string[] = [];
  for (let id = 0; id <= 32767; id++) {
    const m = composeMsiMessage(id, 0x31, { virtExtDestId: true, warnings });
    assertEquals(m.addressHi, 0);
    assertEquals(m.addressLo >>> 20, 0xfee);
    assertEquals((m.addressLo >>> 12) & 0xff, id & 0xff); // bits 19:12 = ID 7:0
    assertEquals((m.addressLo >>> 5) & 0x7f, id >>> 8); // bits 11:5 = ID 14:8
    assertEquals(m.addressLo & 0x1f, 0); // physical, no redirection hint, not remappable
    assertEquals(m.data, 0x31);
    if (decodeMsiDestination(m, { extDestId: true }) !== id) throw new Error(`round trip ${id}`);
  }
  assertEquals(warnings, []);
});

Deno.test("MSI without ext dest ID: 8 bits only; larger IDs warn and lose their high bits", () => {
  const warnings: string[] = [];
  for (let id = 0; id <= 255; id++) {
    const m = composeMsiMessage(id, 0x40, { virtExtDestId: false, warnings });
    assertEquals(decodeMsiDestination(m, { extDestId: false }), id);
  }
  assertEquals(warnings, []);
  const big = composeMsiMessage(0x1234, 0x40, { virtExtDestId: false, warnings });
  assertEquals(big.addressLo, 0xfee34000);
  assertEquals(decodeMsiDestination(big, { extDestId: true }), 0x34);
  assertEquals(warnings.length, 1);
  // Above 32767 even the extended ID cannot help.
  const huge = composeMsiMessage(0x8000, 0x40, { virtExtDestId: true, warnings });
  assertEquals(huge.addressLo, 0xfee00000);
  assertEquals(warnings.length, 2);
});

Deno.test("MSI: logical mode sets address bit 2; a remappable-format address is not swizzled", () => {
  const m = composeMsiMessage(0x101, 0x22, { virtExtDestId: true, destModeLogical: true });
  assertEquals(m.addressLo & 4, 4);
  assertEquals(
    decodeMsiDestination({ ...m, addressLo: m.addressLo | 0x10 }, { extDestId: true }),
    0x01,
  );
  // x2APIC-API format: APIC-ID bits 31:8 in address_hi.
  assertEquals(
    decodeMsiDestination({ addressLo: 0xfee01000, addressHi: 0x12300, data: 0 }, {
      extDestId: true,
    }),
    0x12301,
  );
});

Deno.test("composeMsiMessage: out-of-range fields are refused", () => {
  assertThrows(() => composeMsiMessage(-1, 0, { virtExtDestId: true }), PvkitError);
  assertThrows(() => composeMsiMessage(1, 256, { virtExtDestId: true }), PvkitError);
});

Deno.test("tryToEnableX2apic: x2apic_available is any KVM; bit 15 raises the limit to 32767", () => {
  const env = { cpuHasX2apic: true };
  assertEquals(tryToEnableX2apic(info(bits(15)), env), {
    x2apic: true,
    virtExtDestId: true,
    maxApicId: 32767,
    reason: "KVM_FEATURE_MSI_EXT_DEST_ID: MSIs reach APIC IDs up to 32767",
    kernelLines: { setupNox2apic: [], checkX2apic: [], tryToEnableX2apic: ["x2apic enabled"] },
  });
  const plain = tryToEnableX2apic(info(0), env);
  assertEquals([plain.x2apic, plain.virtExtDestId, plain.maxApicId], [true, false, 255]);
  const notKvm = tryToEnableX2apic(undefined, env);
  assertEquals([notKvm.x2apic, notKvm.maxApicId], [false, 254]); // xAPIC: default_apic_id_valid
  assertEquals(notKvm.kernelLines.tryToEnableX2apic, [
    "x2apic: IRQ remapping doesn't support X2APIC mode",
  ]);
  const ir = tryToEnableX2apic(undefined, { cpuHasX2apic: true, irqRemapX2apic: true });
  assertEquals([ir.x2apic, ir.virtExtDestId, ir.maxApicId], [true, false, 0xffff_ffff]);
});

Deno.test("check_x2apic before try_to_enable_x2apic: no X86_FEATURE_X2APIC never asks kvm_msi_ext_dest_id", () => {
  // check_x2apic sets X2APIC_DISABLED; try_to_enable_x2apic returns first, so bit 15 is moot.
  const none = tryToEnableX2apic(info(bits(15)), { cpuHasX2apic: false });
  assertEquals([none.x2apic, none.virtExtDestId, none.maxApicId], [false, false, 254]);
  assertEquals(none.kernelLines, { setupNox2apic: [], checkX2apic: [], tryToEnableX2apic: [] });
  assertEquals(decideMsiExtDestId(info(bits(15)), { cpuHasX2apic: false }).used, false);
  // Interrupt remapping in x2APIC mode: no virt_ext_dest_id even with bit 15.
  assertEquals(
    decideMsiExtDestId(info(bits(15)), { cpuHasX2apic: true, irqRemapX2apic: true }).used,
    false,
  );
});

Deno.test("check_x2apic: firmware-enabled x2APIC stays on and prints its own line, not 'x2apic enabled'", () => {
  const fw = tryToEnableX2apic(info(bits(15)), { cpuHasX2apic: true, enabledByFirmware: true });
  assertEquals([fw.x2apic, fw.virtExtDestId], [true, true]);
  assertEquals(fw.kernelLines, {
    setupNox2apic: [],
    checkX2apic: ["x2apic: enabled by BIOS, switching to x2apic ops"],
    tryToEnableX2apic: [], // x2apic_enable: state is already X2APIC_ON
  });
  // Without the KVM platform (nopv): x2apic_available() is false, x2apic_disable undoes it.
  const nopv = tryToEnableX2apic(undefined, { cpuHasX2apic: true, enabledByFirmware: true });
  assertEquals(nopv.x2apic, false);
  assertEquals(nopv.kernelLines.tryToEnableX2apic, [
    "x2apic: IRQ remapping doesn't support X2APIC mode",
    "x2apic disabled",
  ]);
  const high = tryToEnableX2apic(undefined, {
    cpuHasX2apic: true,
    enabledByFirmware: true,
    bootApicId: 300,
  });
  assertEquals(
    high.kernelLines.tryToEnableX2apic[1],
    "Kernel panic - not syncing: Cannot disable x2apic, id: 0000012c",
  );
});

Deno.test("setup_nox2apic: clears X86_FEATURE_X2APIC, undoing firmware x2APIC below APIC ID 255", () => {
  const off = tryToEnableX2apic(info(bits(15)), { cpuHasX2apic: true, nox2apic: true });
  assertEquals([off.x2apic, off.virtExtDestId, off.reason], [false, false, "nox2apic"]);
  const fw = tryToEnableX2apic(info(bits(15)), {
    cpuHasX2apic: true,
    enabledByFirmware: true,
    nox2apic: true,
  });
  assertEquals(fw.x2apic, false);
  assertEquals(fw.kernelLines.setupNox2apic, ["x2apic already enabled.", "x2apic disabled"]);
  const stuck = tryToEnableX2apic(info(bits(15)), {
    cpuHasX2apic: true,
    enabledByFirmware: true,
    nox2apic: true,
    bootApicId: 255,
  });
  assertEquals(stuck.x2apic, true);
  assertEquals(stuck.kernelLines.setupNox2apic, ["Apicid: 000000ff, cannot enforce nox2apic"]);
});
