/**
 * The PV-feature report of a finished boot: what the machine offered (vCPU 0's CPUID), what the
 * guest took (the PV MSR writes the VMM observed, KVM's hypercall counts, the kernel's own log
 * lines from the console), and what `@pvkit/guest` predicted; plus exits by reason and the
 * time to `/init`.
 *
 * @module
 */

import type { CpuidEntry } from "@pvkit/kvm";
import { parseGuestConsole } from "./boot_console.ts";
import type { LinuxBootResult } from "./linux_vm.ts";
import type { PvOffer } from "./pv_prediction.ts";
import { buildPvReport, type PvReport } from "./pv_report.ts";
import type { BootSummary } from "./pv_report_text.ts";

/** A boot's report and summary, ready for `renderPvReport` / `pvReportJson`. */
export interface LinuxBootReport {
  /** One row per PV feature, and the kernel-log comparison. */
  readonly report: PvReport;
  /** How the guest ended, timings, exits by reason. */
  readonly summary: BootSummary;
}

/**
 * The {@linkcode PvOffer} of a CPUID table (vCPU 0's): the KVM feature and hint words of
 * 0x40000001 when the KVM signature leaf 0x40000000 is there, and CPUID 1 ECX.
 *
 * @example
 * ```ts
 * import { pvOfferFromCpuid } from "@pvkit/vmm";
 * const e = (fn: number, eax: number, ecx = 0, edx = 0) => ({ function: fn, index: 0, flags: 0, eax, ebx: 0, ecx, edx });
 * const offer = pvOfferFromCpuid([e(1, 0, 1 << 31), e(0x40000000, 0x40000001), e(0x40000001, 0x01007efb)], 2);
 * console.log(offer.leaf40000001?.eax.toString(16), offer.vcpus); // 1007efb 2
 * ```
 */
export function pvOfferFromCpuid(cpuid: readonly CpuidEntry[], vcpus: number): PvOffer {
  const leaf = (fn: number) => cpuid.find((e) => e.function === fn && e.index === 0);
  const kvmSignature = leaf(0x40000000);
  const features = leaf(0x40000001);
  return {
    ...(kvmSignature && features ? { leaf40000001: { eax: features.eax, edx: features.edx } } : {}),
    leaf1Ecx: leaf(1)?.ecx ?? 0,
    vcpus,
  };
}

/**
 * Builds the report of a boot.
 *
 * @example
 * ```ts ignore
 * import { bootLinux, linuxBootReport, renderPvReport } from "@pvkit/vmm";
 * const result = await bootLinux({ kernel: "bzImage", initrd: "initrd.cpio", smp: 2 });
 * const { report, summary } = linuxBootReport(result);
 * console.log(renderPvReport(report, summary));
 * ```
 */
export function linuxBootReport(result: LinuxBootResult): LinuxBootReport {
  const report = buildPvReport({
    offered: pvOfferFromCpuid(result.cpuid, result.observations.vcpus.length),
    observed: {
      msrWrites: result.observations.vcpus.map((v) => v.msrTrace),
      hypercalls: result.observations.vcpus.map((v) => v.kvmStats.hypercalls ?? 0),
    },
    console: parseGuestConsole(result.console),
    cmdline: result.cmdline,
  });
  const exitsByReason: Record<string, number> = {};
  for (const v of result.observations.vcpus) {
    for (const [name, n] of Object.entries(v.userspaceExits)) {
      const key = name.replace(/^KVM_EXIT_/, "").toLowerCase();
      exitsByReason[key] = (exitsByReason[key] ?? 0) + n;
    }
  }
  return {
    report,
    summary: {
      ended: result.stop.message,
      ...(result.toInitMs !== undefined ? { wallToInitSeconds: result.toInitMs / 1000 } : {}),
      wallSeconds: result.runMs / 1000,
      exitsByReason,
    },
  };
}
