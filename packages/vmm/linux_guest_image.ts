/**
 * The Linux guest `pvkit boot` runs, provisioned reproducibly into pvkit's cache: Debian's kernel
 * (the same unpacked package `pvkit nested` uses, never installed) and a small initramfs pvkit
 * writes itself: the host's static busybox and the `/init` of {@link ./boot_init.ts}. The
 * kernel's built-in drivers (8250 UART, i8042, cpuidle-haltpoll, KVM guest support) are all the
 * guest needs, so the initramfs carries no modules.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import {
  type CpioEntry,
  cpioNewc,
  debianPackageInstalled,
  installDebianPackages,
  nestedCacheDir,
  type ProgressSink,
  provisionKernel,
  writeFileAtomic,
} from "@pvkit/nested";
import { BOOT_BUSYBOX, bootInitScript } from "./boot_init.ts";

/**
 * The files `pvkit boot` needs to boot the Linux guest.
 *
 * @example
 * ```ts
 * import type { LinuxGuestImage } from "@pvkit/vmm";
 * const show = (i: LinuxGuestImage) => `-kernel ${i.kernel} -initrd ${i.initrd}`;
 * console.log(typeof show);
 * ```
 */
export interface LinuxGuestImage {
  /** The bzImage (`<cache>/nested/kernel/<package>/boot/vmlinuz-<release>`). */
  readonly kernel: string;
  /** The initramfs (`<cache>/vmm/initramfs-<hash>.cpio`, an uncompressed newc archive). */
  readonly initrd: string;
  /** The kernel release, e.g. `6.1.0-57-amd64`. */
  readonly kernelVersion: string;
}

/**
 * How {@linkcode provisionLinuxGuest} runs.
 *
 * @example
 * ```ts
 * import type { LinuxGuestOptions } from "@pvkit/vmm";
 * const options: LinuxGuestOptions = { progress: (m) => console.error(m) };
 * console.log(typeof options.progress);
 * ```
 */
export interface LinuxGuestOptions {
  /** Told about slow steps (downloads, installs). Default: nothing. */
  readonly progress?: ProgressSink;
  /** The Debian kernel package, e.g. `linux-image-6.1.0-57-amd64`. Default: the cached one,
   * else the one `linux-image-amd64` depends on. */
  readonly kernelPackage?: string;
}

/** Where Debian's `busybox-static` puts busybox. */
const HOST_BUSYBOX = "/bin/busybox";
const BUSYBOX_PACKAGE = "busybox-static";

/**
 * pvkit's folder for the VMM's artefacts: `vmm/` next to the nested runner's cache
 * (`~/.cache/pvkit/vmm`, or under `$PVKIT_CACHE_DIR`). Not created here.
 *
 * @example
 * ```ts
 * import { vmmCacheDir } from "@pvkit/vmm";
 * console.log(vmmCacheDir()); // e.g. "/root/.cache/pvkit/vmm"
 * ```
 */
export function vmmCacheDir(): string {
  return nestedCacheDir().replace(/\/nested$/, "/vmm");
}

/**
 * The kernel and initramfs for `pvkit boot`, provisioning what the cache lacks: the kernel
 * package (downloaded and unpacked on first use), busybox-static (installed when missing, as
 * root), and the initramfs (written when no file with its content hash is there). With
 * everything cached nothing is written, so it also works on a read-only share of the cache
 * (inside `pvkit nested`).
 *
 * @example
 * ```ts ignore
 * import { provisionLinuxGuest } from "@pvkit/vmm";
 * const image = await provisionLinuxGuest({ progress: (m) => console.error(m) });
 * console.log(image.kernel, image.initrd, image.kernelVersion);
 * ```
 */
export async function provisionLinuxGuest(
  options: LinuxGuestOptions = {},
): Promise<LinuxGuestImage> {
  const progress = options.progress ?? (() => {});
  const kernel = await provisionKernel(nestedCacheDir(), progress, options.kernelPackage);
  const busybox = await staticBusybox(progress);
  const archive = cpioNewc(bootInitramfsEntries(busybox));
  const initrd = `${vmmCacheDir()}/initramfs-${await contentHash(archive)}.cpio`;
  if (fileSize(initrd) !== archive.length) {
    progress(`writing the guest initramfs ${initrd}`);
    Deno.mkdirSync(vmmCacheDir(), { recursive: true });
    writeFileAtomic(initrd, archive);
  }
  return { kernel: kernel.vmlinuz, initrd, kernelVersion: kernel.release };
}

/**
 * The initramfs members: `/bin/busybox` (the given bytes) with `/bin/sh` linking to it, the
 * mount points, and `/init`. `/dev/console` comes from the kernel's built-in initramfs
 * (usr/default_cpio_list), which the kernel unpacks before this one.
 *
 * @example
 * ```ts
 * import { bootInitramfsEntries } from "@pvkit/vmm";
 * const paths = bootInitramfsEntries(new Uint8Array([0x7f])).map((e) => e.path);
 * console.log(paths); // [ "bin", "dev", "proc", "sys", "tmp", "bin/busybox", "bin/sh", "init" ]
 * ```
 */
export function bootInitramfsEntries(busybox: Uint8Array): CpioEntry[] {
  const enc = new TextEncoder();
  return [
    ...["bin", "dev", "proc", "sys", "tmp"].map((path): CpioEntry => ({ kind: "dir", path })),
    { kind: "file", path: BOOT_BUSYBOX.slice(1), data: busybox, mode: 0o755 },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
    { kind: "file", path: "init", data: enc.encode(bootInitScript()), mode: 0o755 },
  ];
}

/**
 * Whether `elf` is an x86-64 ELF executable without a program interpreter (PT_INTERP), i.e. one
 * that runs before any shared library exists: what the initramfs's busybox must be.
 *
 * @example
 * ```ts
 * import { isStaticElf } from "@pvkit/vmm";
 * console.log(isStaticElf(new Uint8Array(4))); // false: not an ELF file
 * ```
 */
export function isStaticElf(elf: Uint8Array): boolean {
  // ELF64 header (System V ABI): e_ident "\x7fELF", EI_CLASS 2 = 64-bit, EI_DATA 1 = little end.
  if (elf.length < 64 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) {
    return false;
  }
  if (elf[4] !== 2 || elf[5] !== 1) return false;
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = Number(view.getBigUint64(0x20, true));
  const phentsize = view.getUint16(0x36, true);
  const phnum = view.getUint16(0x38, true);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > elf.length) return false;
    if (view.getUint32(at, true) === PT_INTERP) return false;
  }
  return true;
}

async function staticBusybox(progress: ProgressSink): Promise<Uint8Array> {
  let bytes = readIfPresent(HOST_BUSYBOX);
  if (bytes === undefined || !isStaticElf(bytes)) {
    if (!(await debianPackageInstalled(BUSYBOX_PACKAGE))) {
      await installDebianPackages([BUSYBOX_PACKAGE], progress);
    }
    bytes = readIfPresent(HOST_BUSYBOX);
  }
  if (bytes === undefined || !isStaticElf(bytes)) {
    throw new PvkitError(
      "busybox-not-static",
      `${HOST_BUSYBOX} is not a statically linked x86-64 busybox`,
      `install Debian's ${BUSYBOX_PACKAGE} (apt-get install ${BUSYBOX_PACKAGE})`,
    );
  }
  return bytes;
}

async function contentHash(bytes: Uint8Array): Promise<string> {
  // A copy: digest() takes an ArrayBuffer-backed view.
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  return [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function readIfPresent(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}

function fileSize(path: string): number | undefined {
  try {
    return Deno.statSync(path).size;
  } catch {
    return undefined;
  }
}
