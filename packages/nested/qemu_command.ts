/**
 * The QEMU command line of the nested guest: TCG (multi-threaded) with an AMD EPYC CPU model that
 * has SVM and nested paging, so `kvm_amd` loads in the guest and offers a real KVM; no default
 * devices; the console on the serial port (QEMU's stdout); one virtio-9p device per share.
 *
 * @module
 */

import { RUN_TAG } from "./guest_init.ts";
import { shareTag } from "./job_script.ts";
import type { NestedShare } from "./shares.ts";

/**
 * The guest CPU: EPYC with SVM and NPT, less the features QEMU 7.2's TCG cannot emulate (with them
 * it only prints a warning per feature; see target/i386/tcg's TCG_*_FEATURES masks).
 */
export const NESTED_CPU_MODEL =
  "EPYC,+svm,+npt,-rdseed,-sha-ni,-fxsr-opt,-misalignsse,-3dnowprefetch,-osvw,-topoext,-nrip-save,-xsavec";

/** The guest kernel's command line: serial console, quiet, no reboot on panic, reliable TSC. */
export const NESTED_KERNEL_CMDLINE = "console=ttyS0 quiet panic=-1 mitigations=off tsc=reliable";

/** What the QEMU command line is made of. */
export interface NestedMachine {
  /** The bzImage. */
  kernel: string;
  /** The initramfs. */
  initramfs: string;
  /** The host folder shared as the run folder. */
  runDir: string;
  /** The job's shares, in mount order. */
  shares: readonly NestedShare[];
  /** vCPUs. */
  smp: number;
  /** Guest RAM in MiB. */
  memoryMiB: number;
}

/**
 * QEMU's arguments (without the program) for `machine`.
 *
 * @example
 * ```ts
 * import { nestedQemuArgs } from "@pvkit/nested";
 * const args = nestedQemuArgs({
 *   kernel: "vmlinuz", initramfs: "initrd.cpio", runDir: "/tmp/run", shares: [], smp: 2, memoryMiB: 4096,
 * });
 * console.log(args.slice(0, 2)); // [ "-accel", "tcg,thread=multi" ]
 * ```
 */
export function nestedQemuArgs(machine: NestedMachine): string[] {
  const virtfs = (path: string, tag: string, readonly: boolean) => [
    "-virtfs",
    `local,path=${qemuOptionValue(path)},mount_tag=${tag},security_model=none,multidevs=remap${
      readonly ? ",readonly=on" : ""
    }`,
  ];
  return [
    "-accel",
    "tcg,thread=multi",
    "-cpu",
    NESTED_CPU_MODEL,
    "-smp",
    String(machine.smp),
    "-m",
    `${machine.memoryMiB}M`,
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-kernel",
    machine.kernel,
    "-initrd",
    machine.initramfs,
    "-append",
    NESTED_KERNEL_CMDLINE,
    ...virtfs(machine.runDir, RUN_TAG, false),
    ...machine.shares.flatMap((s, i) => virtfs(s.hostPath, shareTag(i), s.access !== "rw")),
  ];
}

/** A value inside a QEMU `key=value,...` option: commas are doubled (QEMU's option syntax). */
export function qemuOptionValue(value: string): string {
  return value.replaceAll(",", ",,");
}
