/**
 * Makes sure the host has what the nested KVM needs, installing it from Debian's packages when
 * it may (as root): QEMU (`qemu-system-x86`, whose TCG emulates AMD SVM) and a static busybox
 * (`busybox-static`) for the guest's init.
 *
 * @module
 */

import { NestedError } from "./errors.ts";
import { findExecutable, runHostCommand } from "./host_command.ts";

/** The host tools the nested runner uses, as paths. */
export interface HostTools {
  /** `qemu-system-x86_64`. */
  qemu: string;
  /** A statically linked busybox (it runs in the guest before any library is there). */
  busybox: string;
}

/** Reports a slow step (a package install, a download) to the user. */
export type ProgressSink = (message: string) => void;

/** Where Debian's `busybox-static` installs busybox. */
const STATIC_BUSYBOX = "/bin/busybox";
const SBIN = ["/usr/sbin", "/sbin"];

let aptUpdated = false;

/**
 * Runs `apt-get update` once per process (a fresh machine has no package lists: `apt-get
 * install` and `apt-cache` find nothing before it).
 */
export async function aptUpdateOnce(progress: ProgressSink): Promise<void> {
  if (aptUpdated) return;
  progress("updating Debian's package lists (apt-get update)");
  const r = await runHostCommand("apt-get", ["update", "-qq"]);
  if (r.code !== 0) {
    throw new NestedError(
      "package-missing",
      `apt-get update failed (exit ${r.code}): ${lastLine(r.stderr)}`,
      "check that Debian's package archive is reachable",
    );
  }
  aptUpdated = true;
}

/** Whether Debian package `name` is installed (`dpkg-query -W`). */
export async function debianPackageInstalled(name: string): Promise<boolean> {
  const r = await runHostCommand("dpkg-query", ["-W", "-f=${Status}", name]);
  return r.code === 0 && r.stdout.endsWith("installed") && !r.stdout.includes("not-installed");
}

/**
 * Installs Debian packages with `apt-get install --no-install-recommends` (updating the package
 * lists once if the first try fails). Needs root; otherwise the error says what to run.
 */
export async function installDebianPackages(
  packages: readonly string[],
  progress: ProgressSink,
): Promise<void> {
  const command = `apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  if (findExecutable("apt-get", SBIN) === undefined) {
    throw new NestedError(
      "package-missing",
      `cannot install ${packages.join(", ")}: no apt-get`,
      `install them by hand`,
    );
  }
  if (Deno.uid() !== 0) {
    throw new NestedError(
      "package-missing",
      `${packages.join(", ")} ${
        packages.length > 1 ? "are" : "is"
      } not installed, and only root can install packages`,
      `run: sudo ${command}`,
    );
  }
  const install = () =>
    runHostCommand("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
  progress(`installing ${packages.join(", ")} from Debian's packages (first run only)`);
  let r = await install();
  if (r.code !== 0) {
    await aptUpdateOnce(progress);
    r = await install();
  }
  if (r.code !== 0) {
    throw new NestedError(
      packages.some((p) => p.startsWith("qemu")) ? "qemu-missing" : "package-missing",
      `${command} failed (exit ${r.code}): ${lastLine(r.stderr)}`,
      "install the packages by hand and run again",
    );
  }
}

/**
 * Finds QEMU and a static busybox, installing `qemu-system-x86` and `busybox-static` when they
 * are missing.
 *
 * @example
 * ```ts ignore
 * import { provisionHostTools } from "@pvkit/nested";
 * const tools = await provisionHostTools((m) => console.error(m));
 * console.log(tools.qemu); // "/usr/bin/qemu-system-x86_64"
 * ```
 */
export async function provisionHostTools(progress: ProgressSink): Promise<HostTools> {
  const missing: string[] = [];
  if (findExecutable("qemu-system-x86_64") === undefined) missing.push("qemu-system-x86");
  if (!(await debianPackageInstalled("busybox-static"))) missing.push("busybox-static");
  if (missing.length) await installDebianPackages(missing, progress);
  const qemu = findExecutable("qemu-system-x86_64");
  if (qemu === undefined) {
    throw new NestedError(
      "qemu-missing",
      "qemu-system-x86_64 is not on PATH although qemu-system-x86 is installed",
      "put /usr/bin on PATH",
    );
  }
  return { qemu, busybox: STATIC_BUSYBOX };
}

/** The last non-empty line of a command's output (apt's error is there). */
export function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}
