import { assertEquals } from "@std/assert";
import { EmuMachine } from "@pvkit/emu";
import { compose } from "@pvkit/pvkit";
import { decodeMsiDestination } from "./mod.ts";

const MSI_BASE = 0xfee00000;

/** The address a Linux guest composes for `apicId` (virt_destid_8_14 in bits 11:5 with bit 15). */
function linuxMsiAddress(apicId: number, extDestId: boolean): number {
  const low = (apicId & 0xff) << 12;
  return (MSI_BASE | low | (extDestId ? ((apicId >> 8) & 0x7f) << 5 : 0)) >>> 0;
}

/** QEMU's kvm_swizzle_msi_ext_dest_id on the 64-bit address, then KVM's 32-bit-ID decode. */
function reference(lo: number, hi: number): number | undefined {
  let address = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const ext = address & 0xff0n;
  if (ext !== 0n && (ext & 0x10n) === 0n && address >> 32n === 0n) {
    address = (address & ~ext) | (ext << 35n);
  }
  const addressHi = Number(address >> 32n);
  if ((addressHi & 0xff) !== 0) return undefined;
  return (Number((address >> 12n) & 0xffn) | (addressHi & 0xffffff00)) >>> 0;
}

function emu(cpu: string, machine = "q35,kernel-irqchip=split", smp = 2) {
  return EmuMachine.create(compose({ cpu, machine, smp, host: "linux-6.12" }));
}

Deno.test("ext dest ID: every APIC ID 0..32767 round-trips through the guest's encoding", () => {
  for (let id = 0; id < 32768; id++) {
    const got = decodeMsiDestination(linuxMsiAddress(id, true), 0, true);
    if (got !== id) assertEquals(got, id, `APIC ID ${id}`);
  }
});

Deno.test("without the feature the destination is address bits 19:12 only (8-bit)", () => {
  assertEquals(decodeMsiDestination(linuxMsiAddress(0xab, false), 0, false), 0xab);
  // Bits 11:5 mean nothing then: APIC ID 0x1234 reaches 0x34.
  assertEquals(decodeMsiDestination(linuxMsiAddress(0x1234, true), 0, false), 0x34);
  assertEquals(decodeMsiDestination(linuxMsiAddress(0x12, false), 0x100, false), 0x12);
});

Deno.test("QEMU leaves the address alone when bits 11:4 are zero", () => {
  assertEquals(decodeMsiDestination(MSI_BASE | (0x7f << 12), 0, true), 0x7f);
  // Bits 3:0 (redirection hint, destination mode) are not part of the field.
  assertEquals(decodeMsiDestination(MSI_BASE | (0x7f << 12) | 0xc, 0, true), 0x7f);
});

Deno.test("QEMU leaves a remappable-format address (bit 4) alone", () => {
  const lo = MSI_BASE | (0x22 << 12) | (0x33 << 5) | 0x10;
  assertEquals(decodeMsiDestination(lo, 0, true), 0x22);
});

Deno.test("QEMU leaves the address alone when address_hi ≠ 0; KVM reads address_hi bits 31:8", () => {
  const lo = MSI_BASE | (0x22 << 12) | (0x33 << 5);
  assertEquals(decodeMsiDestination(lo, 0x0001_0000, true), 0x0001_0022);
  assertEquals(decodeMsiDestination(lo, 0x0000_0100, true), 0x122);
  // X2APIC_API: address_hi bits 7:0 must be 0, otherwise the route is invalid.
  assertEquals(decodeMsiDestination(lo, 0x1, true), undefined);
});

Deno.test("decodeMsiDestination agrees with QEMU's 64-bit swizzle + KVM's decode", () => {
  let seed = 0x2545f491;
  const next = () => (seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0);
  for (let n = 0; n < 20000; n++) {
    const lo = next();
    const hi = n % 4 === 0 ? next() & 0xffff_ff00 : n % 7 === 0 ? next() : 0;
    assertEquals(decodeMsiDestination(lo, hi, true), reference(lo, hi), `lo=${lo} hi=${hi}`);
  }
});

Deno.test("the machine's MSI hook follows the composition: on with a split irqchip", () => {
  const on = emu("host");
  assertEquals(on.composed.isEnabled("kvm-msi-ext-dest-id"), true);
  assertEquals(on.hooks.msi?.destination(linuxMsiAddress(4095, true), 0), 4095);
  assertEquals(on.hooks.msi?.destination(linuxMsiAddress(32767, true), 0), 32767);
});

Deno.test("the machine's MSI hook decodes 8 bits when the feature is off or unsupported", () => {
  const off = emu("host,kvm-msi-ext-dest-id=off");
  assertEquals(off.composed.isEnabled("kvm-msi-ext-dest-id"), false);
  assertEquals(off.hooks.msi?.destination(linuxMsiAddress(0x1234, true), 0), 0x34);
  // kernel-irqchip=on: QEMU cannot provide the feature (the in-kernel IOAPIC cannot decode it).
  const inKernel = emu("host", "q35,kernel-irqchip=on");
  assertEquals(inKernel.composed.isEnabled("kvm-msi-ext-dest-id"), false);
  assertEquals(inKernel.hooks.msi?.destination(linuxMsiAddress(0x1234, true), 0), 0x34);
});

Deno.test("a 4096-vCPU q35 machine reaches every APIC ID through MSIs", () => {
  const vm = emu("host", "q35,kernel-irqchip=split", 4096);
  for (const v of vm.vcpus) {
    const dest = vm.hooks.msi?.destination(linuxMsiAddress(v.apicId, true), 0);
    if (dest !== v.apicId) assertEquals(dest, v.apicId);
    if (vm.vcpuByApicId(dest!) !== v) assertEquals(vm.vcpuByApicId(dest!)?.index, v.index);
  }
});
