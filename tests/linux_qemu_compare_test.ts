// pvkit's VMM against QEMU (run by `deno task test:kvm`, inside pvkit nested where /dev/kvm is
// not real): for each composition of `_linux_boot_matrix.ts`, the same Debian kernel, initramfs,
// command line, -cpu, -smp and memory boot on pvkit's VMM and on Debian's `qemu-system-x86_64
// -accel kvm` (same KVM), and the kernel takes the same PV features under both (compared where
// both can tell: QEMU shows no MSR writes, so PV EOI and async PF are listed, not compared).
// Both get the matrix's command line without acpi=off (`comparisonCmdline`: QEMU names its
// vCPUs only in ACPI's MADT; pvkit's VMM has no ACPI tables, so nothing changes there).
// A boot that hangs (no console output for the idle limit; seen now and then on the nested
// KVM) is retried once, and the retry is printed.

import { assert } from "@std/assert";
import { kvmTest } from "@pvkit/kvm/testing";
import {
  bootLinux,
  bootWithQemu,
  compareVmmBoots,
  comparisonCmdline,
  linuxBootReport,
  provisionLinuxGuest,
  qemuBootReport,
  renderVmmComparison,
  vmmComparisonVerdict,
} from "@pvkit/vmm";
import type { BootStop } from "@pvkit/vmm";
import {
  BOOT_MATRIX,
  type BootComposition,
  MATRIX_CMDLINE,
  MATRIX_IDLE_MS,
  MATRIX_MEMORY_BYTES,
  MATRIX_TIMEOUT_MS,
} from "./_linux_boot_matrix.ts";

/** Runs `boot`, once more if it hung (said on stderr: the policy is one stated retry). */
async function withHangRetry<T extends { stop: BootStop }>(
  what: string,
  boot: () => Promise<T>,
): Promise<T> {
  const first = await boot();
  if (first.stop.kind !== "hang") return first;
  console.error(`linux qemu compare: ${what}: ${first.stop.message}; retrying once`);
  return await boot();
}

async function bootBoth(c: BootComposition) {
  const guest = await provisionLinuxGuest();
  const machine = {
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: comparisonCmdline(MATRIX_CMDLINE),
    cpu: c.cpu,
    smp: c.smp,
    memoryBytes: MATRIX_MEMORY_BYTES,
    timeoutMs: MATRIX_TIMEOUT_MS,
    idleTimeoutMs: MATRIX_IDLE_MS,
  };
  const pvkit = await withHangRetry(`${c.name} on pvkit`, () => bootLinux(machine));
  assert(!pvkit.stuck, `${c.name}: a vCPU thread of pvkit's VMM is stuck in KVM_RUN`);
  const qemu = await withHangRetry(`${c.name} on QEMU`, () => bootWithQemu(machine));
  return { pvkit, qemu };
}

for (const c of BOOT_MATRIX) {
  kvmTest(
    `linux boot: ${c.name} (-cpu ${c.cpu} -smp ${c.smp}) takes the same PV features on pvkit and QEMU`,
    async () => {
      const { pvkit, qemu } = await bootBoth(c);
      const tail = (text: string) => text.slice(-1500);
      assert(pvkit.stop.clean, `pvkit: ${pvkit.stop.message}\n${tail(pvkit.console)}`);
      assert(
        qemu.stop.clean,
        `QEMU (${qemu.argv.join(" ")}): ${qemu.stop.message}\n${qemu.stderr}\n${
          tail(qemu.console)
        }`,
      );
      const comparison = compareVmmBoots(
        linuxBootReport(pvkit).report,
        qemuBootReport(qemu).report,
      );
      const text = renderVmmComparison(comparison);
      assert(comparison.same, `${c.name}\n${text}`);
      console.error(
        `linux qemu compare: ${c.name}: ${vmmComparisonVerdict(comparison)}; /init after ${
          ((pvkit.toInitMs ?? 0) / 1000).toFixed(1)
        } s (pvkit, from the first KVM_RUN) and ${
          ((qemu.toInitMs ?? 0) / 1000).toFixed(1)
        } s (QEMU, from spawn)`,
      );
    },
    { sanitizeOps: false, sanitizeResources: false },
  );
}
