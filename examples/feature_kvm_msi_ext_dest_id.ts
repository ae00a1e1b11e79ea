/**
 * kvm-msi-ext-dest-id (CPUID 0x40000001 EAX bit 15): without an IOMMU doing interrupt
 * remapping, an MSI address has 8 bits for the destination APIC ID (bits 19:12), so device
 * interrupts reach APIC IDs 0-255 only. With bit 15 the guest puts APIC-ID bits 14:8 in address
 * bits 11:5 and the VMM decodes them: up to 32768 APIC IDs. On a 300-vCPU machine the guest
 * composes an MSI for every vCPU (composeMsiMessage), the VMM decodes it (the plugin's MSI
 * hook) and delivers it; the table counts where the interrupts landed.
 *
 * Run: deno run -A examples/feature_kvm_msi_ext_dest_id.ts
 */

import { composeMsiMessage, tryToEnableX2apic } from "@pvkit/guest";
import { boot, table } from "./_harness.ts";

const VCPUS = 300;
const VECTOR = 0x41; // a device vector

const rows: (string | number)[][] = [];
for (const cpu of ["host", "host,kvm-msi-ext-dest-id=off"]) {
  const { vm, guest, composed } = boot({ cpu, smp: VCPUS });
  for (const w of composed.warnings) console.log(`warning (${cpu}): ${w}`);
  const setup = tryToEnableX2apic(guest.info, { cpuHasX2apic: true });
  let reached = 0, misrouted = 0, lost = 0;
  const samples: string[] = [];
  for (const target of vm.vcpus) {
    const msg = composeMsiMessage(target.apicId, VECTOR, { virtExtDestId: setup.virtExtDestId });
    const dest = vm.hooks.msi?.destination(msg.addressLo, msg.addressHi) ??
      (msg.addressLo >>> 12) & 0xff; // no plugin hook: bits 19:12 only
    const hit = vm.vcpuByApicId(dest);
    hit?.requestInterrupt({
      destination: dest,
      vector: VECTOR,
      deliveryMode: "fixed",
      level: true,
      levelTriggered: false,
    });
    if (hit === target) reached++;
    else if (hit) misrouted++;
    else lost++;
    if ([255, 256, 299].includes(target.apicId)) {
      samples.push(`${target.apicId}→0x${msg.addressLo.toString(16)}→${dest}`);
    }
    hit?.apic?.reset();
  }
  rows.push([
    `-cpu ${cpu}`,
    setup.maxApicId,
    reached,
    misrouted,
    lost,
    samples.join(" "),
  ]);
}
console.log();
table([
  "machine",
  "guest's max APIC ID",
  "MSIs reaching their vCPU",
  "misrouted",
  "lost",
  "APIC ID → MSI address → decoded",
], rows);
console.log(
  `benefit: device interrupts reach ${rows[0][2]}/${VCPUS} vCPUs with kvm-msi-ext-dest-id vs ` +
    `${rows[1][2]}/${VCPUS} without (the ${rows[1][3]} above APIC ID 255 land on vCPU ` +
    `APIC ID & 0xff, and Linux keeps those CPUs offline)`,
);
