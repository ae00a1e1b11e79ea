// The Linux boot matrix on pvkit's VMM (run by `deno task test:kvm`, inside pvkit nested where
// /dev/kvm is not real): for each composition of `_linux_boot_matrix.ts`, Debian's kernel boots
// to pvkit's /init and reboots cleanly; the CPUID it was offered is the one `pvkit describe`
// prints; and what the kernel took (PV MSR writes the VMM saw, its own log lines) equals what
// `@pvkit/guest` predicts for that CPUID, vCPU count and command line. A boot that hangs (no
// console output for the idle limit; seen now and then on the nested KVM) is retried once,
// and the retry is printed.

import { assert, assertEquals } from "@std/assert";
import { kvmTest } from "@pvkit/kvm/testing";
import {
  bootLinux,
  linuxBootReport,
  type LinuxBootResult,
  provisionLinuxGuest,
  renderPvReport,
} from "@pvkit/vmm";
import { compose } from "@pvkit/pvkit";
import {
  BOOT_MATRIX,
  type BootComposition,
  MATRIX_CMDLINE,
  MATRIX_IDLE_MS,
  MATRIX_MEMORY_BYTES,
  MATRIX_TIMEOUT_MS,
} from "./_linux_boot_matrix.ts";

async function bootOnce(c: BootComposition): Promise<LinuxBootResult> {
  const guest = await provisionLinuxGuest();
  return await bootLinux({
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: MATRIX_CMDLINE,
    cpu: c.cpu,
    smp: c.smp,
    memoryBytes: MATRIX_MEMORY_BYTES,
    timeoutMs: MATRIX_TIMEOUT_MS,
    idleTimeoutMs: MATRIX_IDLE_MS,
  });
}

/** Boots `c`, once more if the first boot hung (said on stderr). */
export async function bootWithRetry(c: BootComposition): Promise<LinuxBootResult> {
  const first = await bootOnce(c);
  if (first.stop.kind !== "hang") return first;
  console.error(`linux boot matrix: ${c.name}: ${first.stop.message}; retrying once`);
  return await bootOnce(c);
}

for (const c of BOOT_MATRIX) {
  kvmTest(
    `linux boot: ${c.name} (-cpu ${c.cpu} -smp ${c.smp}) takes what @pvkit/guest predicts`,
    async () => {
      const result = await bootWithRetry(c);
      const { report, summary } = linuxBootReport(result);
      const text = `${result.stop.message}\n${renderPvReport(report, summary)}\n--- console ---\n${
        result.console.slice(-2000)
      }`;
      assert(result.stop.clean, text);
      assert(result.toInitMs !== undefined, `/init never printed its line\n${text}`);

      // The leaves the guest got are the ones describe prints for the same options.
      const described = compose({ cpu: c.cpu, smp: c.smp, host: "kvm" });
      const leaf = (fn: number) => result.cpuid.find((e) => e.function === fn && e.index === 0);
      const pv = described.leaves["0x40000001"];
      if (pv === undefined) {
        assertEquals(leaf(0x40000000), undefined, "kvm=off: no KVM signature leaf");
        assertEquals(leaf(0x40000001), undefined, "kvm=off: no KVM features leaf");
      } else {
        assertEquals(leaf(0x40000001)?.eax, Number(pv.eax) >>> 0, `0x40000001.eax\n${text}`);
        assertEquals(leaf(0x40000001)?.edx, Number(pv.edx) >>> 0, `0x40000001.edx\n${text}`);
      }

      for (const row of report.rows) {
        assert(
          row.agree !== false,
          `${row.feature}: taken ${row.taken}, predicted ${row.predicted}\n${text}`,
        );
      }
      for (const [feature, taken] of Object.entries(c.expect)) {
        const row = report.rows.find((r) => r.feature === feature);
        assertEquals(row?.taken, taken, `${feature}\n${text}`);
      }
      console.error(
        `linux boot matrix: ${c.name}: /init after ${
          ((result.toInitMs ?? 0) / 1000).toFixed(1)
        } s, ` +
          `${
            report.rows.filter((r) => r.taken === true).map((r) => r.feature).join(", ") ||
            "no PV feature"
          }`,
      );
    },
    { sanitizeOps: false, sanitizeResources: false },
  );
}
