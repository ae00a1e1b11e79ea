/**
 * `@pvkit/nested`: a real Linux KVM on any x86-64 Linux machine, by running a command inside a
 * QEMU TCG guest whose CPU model has AMD SVM, so `kvm_amd` loads there. Hypercalls, HLT and
 * kicks work in that KVM even where the host has no `/dev/kvm`, or one whose hypercalls hang.
 *
 * ```ts ignore
 * import { runNested } from "@pvkit/nested";
 * const r = await runNested({ command: ["deno", "task", "pvkit", "doctor"] });
 * console.log(r.status);
 * ```
 *
 * @module
 */

export { type CpioEntry, cpioNewc } from "./cpio.ts";
export { NestedError, type NestedErrorKind } from "./errors.ts";
export { FileTail } from "./file_tail.ts";
export { guestFailure } from "./guest_failure.ts";
export { guestEnvironment, NESTED_ENV } from "./guest_env.ts";
export {
  GUEST_BUSYBOX,
  GUEST_MODULE_DIR,
  GUEST_RUN_DIR,
  guestInitScript,
  INIT_MARK,
  NINEP_OPTIONS,
  RUN_TAG,
} from "./guest_init.ts";
export { findExecutable, type HostCommandResult, runHostCommand } from "./host_command.ts";
export { initramfsEntries, NESTED_GUEST_MODULES, provisionInitramfs } from "./initramfs.ts";
export { JOB_FILES, jobScript, type JobScriptInput, shareTag } from "./job_script.ts";
export { type KernelPackage, provisionKernel, resolveKernelPackage } from "./kernel_package.ts";
export { type ModuleInfo, parseModinfo } from "./modinfo.ts";
export {
  type KernelModule,
  listKernelModules,
  moduleLoadOrder,
  normalizeModuleName,
} from "./module_order.ts";
export { nestedCacheDir, userCacheDir, writeFileAtomic } from "./cache_dir.ts";
export {
  aptUpdateOnce,
  debianPackageInstalled,
  type HostTools,
  installDebianPackages,
  lastLine,
  type ProgressSink,
  provisionHostTools,
} from "./provision.ts";
export {
  NESTED_CPU_MODEL,
  NESTED_KERNEL_CMDLINE,
  type NestedMachine,
  nestedQemuArgs,
  qemuOptionValue,
} from "./qemu_command.ts";
export { type NestedOptions, type NestedResult, runNested } from "./run_nested.ts";
export { denoCacheDir, type NestedShare, nestedShares, projectRoot } from "./shares.ts";
export { shellQuote } from "./shell_quote.ts";
// Re-exported so this package's errors can be caught (and documented) without a second import.
export { PvkitError } from "@pvkit/machine";
