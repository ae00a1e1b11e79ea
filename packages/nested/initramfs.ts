/**
 * Builds (and caches) the nested guest's initramfs: busybox, the kernel modules KVM and the 9p
 * shares need, in load order, the `/init` script, and the few `/etc` files glibc programs read.
 * The host's `/usr` is shared into the guest read-only, so `/bin`, `/lib`, `/lib64` and `/sbin`
 * are the merged-/usr symbolic links Debian has.
 *
 * @module
 */

import { exists, readBytesIfPresent } from "./_fs.ts";
import { join } from "./_path.ts";
import { writeFileAtomic } from "./cache_dir.ts";
import { type CpioEntry, cpioNewc } from "./cpio.ts";
import { GUEST_BUSYBOX, GUEST_MODULE_DIR, guestInitScript } from "./guest_init.ts";
import type { KernelPackage } from "./kernel_package.ts";
import { listKernelModules, moduleLoadOrder, normalizeModuleName } from "./module_order.ts";

/**
 * The modules the guest loads: KVM for AMD (TCG emulates SVM), virtio PCI and 9p for the shared
 * folders, overlay for a writable layer over the read-only Deno cache. Their dependencies
 * (irqbypass, ccp, netfs, ...) come from each module's `.modinfo`.
 */
export const NESTED_GUEST_MODULES: readonly string[] = [
  "kvm_amd",
  "virtio_pci",
  "9pnet_virtio",
  "9p",
  "overlay",
];

/** Host files copied into the guest's `/etc` when present (the dynamic loader's cache, users). */
const ETC_FILES = ["ld.so.cache", "ld.so.conf", "passwd", "group", "nsswitch.conf", "hosts"];
const MERGED_USR_LINKS = ["bin", "lib", "lib64", "sbin"];
const DIRS = ["proc", "sys", "dev", "tmp", "run", "root", "etc", "mnt", "usr", ".pvkit"];

/**
 * The initramfs's members for `kernel`, with busybox read from `busybox`.
 *
 * @example
 * ```ts ignore
 * import { initramfsEntries } from "@pvkit/nested";
 * ```
 */
export function initramfsEntries(kernel: KernelPackage, busybox: string): CpioEntry[] {
  const entries: CpioEntry[] = DIRS.map((path) => ({ kind: "dir", path }));
  for (const link of MERGED_USR_LINKS) {
    entries.push({ kind: "symlink", path: link, target: `usr/${link}` });
  }
  for (const name of ETC_FILES) {
    const data = readBytesIfPresent(join("/etc", name));
    if (data) entries.push({ kind: "file", path: `etc/${name}`, data });
  }
  entries.push({
    kind: "file",
    path: GUEST_BUSYBOX,
    data: Deno.readFileSync(busybox),
    mode: 0o755,
  });
  entries.push({ kind: "dir", path: GUEST_MODULE_DIR });
  const modules = moduleLoadOrder(NESTED_GUEST_MODULES, listKernelModules(kernel.moduleDir), {
    builtin: builtinModules(kernel.moduleDir),
  });
  for (const m of modules) {
    entries.push({
      kind: "file",
      path: `${GUEST_MODULE_DIR}/${m.name}.ko`,
      data: Deno.readFileSync(m.path),
    });
  }
  const order = modules.map((m) => `${m.name}\n`).join("");
  entries.push({
    kind: "file",
    path: `${GUEST_MODULE_DIR}/modules.order`,
    data: new TextEncoder().encode(order),
  });
  entries.push({
    kind: "file",
    path: "init",
    data: new TextEncoder().encode(guestInitScript()),
    mode: 0o755,
  });
  return entries;
}

/**
 * The path of the initramfs for `kernel` in `cacheDir`, building it when the cache has none for
 * these inputs (kernel package, busybox, init script, host `/etc` files).
 *
 * @example
 * ```ts ignore
 * import { nestedCacheDir, provisionInitramfs } from "@pvkit/nested";
 * ```
 */
export async function provisionInitramfs(
  cacheDir: string,
  kernel: KernelPackage,
  busybox: string,
): Promise<string> {
  const key = await cacheKey(kernel, busybox);
  const path = join(cacheDir, `initramfs-${key}.cpio`);
  if (!exists(path)) {
    writeFileAtomic(path, cpioNewc(initramfsEntries(kernel, busybox)));
  }
  return path;
}

async function cacheKey(kernel: KernelPackage, busybox: string): Promise<string> {
  const bb = Deno.statSync(busybox);
  const etc = ETC_FILES.map((n) =>
    new TextDecoder().decode(readBytesIfPresent(join("/etc", n)) ?? new Uint8Array())
  );
  const text = JSON.stringify([
    kernel.package,
    kernel.release,
    bb.size,
    bb.mtime?.getTime(),
    guestInitScript(),
    etc,
    NESTED_GUEST_MODULES,
  ]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest).subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function builtinModules(moduleDir: string): Set<string> {
  const text = new TextDecoder().decode(
    readBytesIfPresent(join(moduleDir, "modules.builtin")) ?? new Uint8Array(),
  );
  return new Set(
    text.split("\n").filter((l) => l.endsWith(".ko")).map((l) =>
      normalizeModuleName(l.slice(l.lastIndexOf("/") + 1, -3))
    ),
  );
}
