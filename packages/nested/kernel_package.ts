/**
 * The nested guest's kernel: a Debian kernel package (`linux-image-<version>-amd64`) downloaded
 * with `apt-get download` and unpacked with `dpkg-deb -x` into the cache, never installed.
 *
 * @module
 */

import { readTextIfPresent, removeIfPresent } from "./_fs.ts";
import { join } from "./_path.ts";
import { writeFileAtomic } from "./cache_dir.ts";
import { NestedError } from "./errors.ts";
import { runHostCommand } from "./host_command.ts";
import { aptUpdateOnce, lastLine, type ProgressSink } from "./provision.ts";

/** An unpacked kernel package in the cache. */
export interface KernelPackage {
  /** The Debian package, e.g. `linux-image-6.1.0-57-amd64`. */
  package: string;
  /** The kernel release, e.g. `6.1.0-57-amd64` (the folder under `lib/modules`). */
  release: string;
  /** The bzImage, `boot/vmlinuz-<release>`. */
  vmlinuz: string;
  /** `lib/modules/<release>` (with `kernel/` and `modules.builtin`). */
  moduleDir: string;
}

/** The metapackage whose dependency names Debian's current kernel. */
const KERNEL_METAPACKAGE = "linux-image-amd64";
const COMPLETE = ".pvkit-complete";
const CURRENT = "current";

/**
 * The kernel package to use: `wanted` if given, else the one `linux-image-amd64` depends on.
 */
export async function resolveKernelPackage(
  progress: ProgressSink,
  wanted?: string,
): Promise<string> {
  if (wanted !== undefined) return wanted;
  const ask = async () => {
    const r = await runHostCommand("apt-cache", ["depends", KERNEL_METAPACKAGE]);
    return /Depends:\s*(linux-image-\S+)/.exec(r.stdout)?.[1];
  };
  const name = (await ask()) ?? (await aptUpdateOnce(progress), await ask());
  if (name === undefined) {
    throw new NestedError(
      "kernel-not-found",
      `no kernel package found: apt-cache knows no dependency of ${KERNEL_METAPACKAGE}`,
      "check Debian's package archive is reachable, or name one with --kernel-package",
    );
  }
  return name;
}

/**
 * The unpacked kernel `name` from the cache, downloading and unpacking it on first use; without a
 * name, the kernel the cache used last, or Debian's current one.
 *
 * @example
 * ```ts ignore
 * import { nestedCacheDir, provisionKernel } from "@pvkit/nested";
 * const k = await provisionKernel(nestedCacheDir(), (m) => console.error(m));
 * console.log(k.release, k.vmlinuz);
 * ```
 */
export async function provisionKernel(
  cacheDir: string,
  progress: ProgressSink,
  name?: string,
): Promise<KernelPackage> {
  const kernels = join(cacheDir, "kernel");
  Deno.mkdirSync(kernels, { recursive: true });
  const current = readTextIfPresent(join(kernels, CURRENT));
  const pkg = name ??
    (current && unpacked(kernels, current) ? current : await resolveKernelPackage(progress));
  const dir = join(kernels, pkg);
  if (!unpacked(kernels, pkg)) await downloadAndUnpack(kernels, pkg, progress);
  if (current !== pkg) writeFileAtomic(join(kernels, CURRENT), pkg);
  const release = [...Deno.readDirSync(join(dir, "lib/modules"))].find((e) => e.isDirectory)?.name;
  if (release === undefined) {
    throw new NestedError(
      "kernel-not-found",
      `${pkg} has no lib/modules/<release> folder`,
      "pick another kernel package",
    );
  }
  return {
    package: pkg,
    release,
    vmlinuz: join(dir, "boot", `vmlinuz-${release}`),
    moduleDir: join(dir, "lib/modules", release),
  };
}

function unpacked(kernels: string, pkg: string): boolean {
  return readTextIfPresent(join(kernels, pkg, COMPLETE)) !== undefined;
}

async function downloadAndUnpack(
  kernels: string,
  pkg: string,
  progress: ProgressSink,
): Promise<void> {
  const work = Deno.makeTempDirSync({ dir: kernels, prefix: ".download-" });
  try {
    progress(`downloading ${pkg} (apt-get download; first run only)`);
    const download = () => runHostCommand("apt-get", ["download", "-qq", pkg], { cwd: work });
    let r = await download();
    if (r.code !== 0 && /Unable to locate|no installation candidate/.test(r.stderr)) {
      await aptUpdateOnce(progress);
      r = await download();
    }
    const deb = [...Deno.readDirSync(work)].find((e) => e.name.endsWith(".deb"))?.name;
    if (r.code !== 0 || deb === undefined) {
      throw new NestedError(
        "kernel-not-found",
        `could not download kernel package ${pkg}: ${
          lastLine(r.stderr) || `apt-get exit ${r.code}`
        }`,
        "list the available ones with `apt-cache search linux-image-` and pass --kernel-package",
      );
    }
    progress(`unpacking ${deb}`);
    const root = join(work, "root");
    r = await runHostCommand("dpkg-deb", ["-x", join(work, deb), root]);
    if (r.code !== 0) {
      throw new NestedError(
        "kernel-not-found",
        `dpkg-deb -x ${deb} failed: ${lastLine(r.stderr)}`,
        "check the free disk space of the cache folder",
      );
    }
    Deno.writeTextFileSync(join(root, COMPLETE), `${pkg}\n`);
    // A folder left by an interrupted run (no completion mark) is replaced.
    removeIfPresent(join(kernels, pkg));
    Deno.renameSync(root, join(kernels, pkg));
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
}
