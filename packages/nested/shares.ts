/**
 * The host folders a nested job sees, each a 9p share mounted at the same path in the guest:
 * the host's `/usr` (read-only: the programs and libraries the job runs), Deno's binary folder
 * (read-only), Deno's cache (read-only, under a guest-local writable overlay: Deno's SQLite caches
 * cannot be opened over 9p), pvkit's cache (read-only: artefacts provisioned on the host, such as
 * the Linux guest `pvkit boot` runs) and the job's working folder (read-write). Nothing else of
 * the host is visible.
 *
 * @module
 */

import { exists } from "./_fs.ts";
import { nestedCacheDir, userCacheDir } from "./cache_dir.ts";
import { dirname, join } from "./_path.ts";
import { NestedError } from "./errors.ts";

/** One host folder shared into the guest. */
export interface NestedShare {
  /** The host folder. */
  hostPath: string;
  /** Where the guest mounts it (the same path as on the host). */
  guestPath: string;
  /** `ro`: read-only; `rw`: read-write; `overlay`: read-only under a guest-local tmpfs layer. */
  access: "ro" | "rw" | "overlay";
}

/**
 * Deno's cache folder on this host: `$DENO_DIR`, else `$XDG_CACHE_HOME/deno`, else
 * `~/.cache/deno` (what `deno info` reports as "DENO_DIR location" on Linux).
 */
export function denoCacheDir(): string {
  return Deno.env.get("DENO_DIR") || join(userCacheDir(), "deno");
}

/**
 * The project folder that holds `cwd`: the nearest folder upward with a `deno.json`,
 * `deno.jsonc`, `package.json` or `.git`, else `cwd` itself.
 *
 * @example
 * ```ts
 * import { projectRoot } from "@pvkit/nested";
 * console.log(projectRoot(Deno.cwd()));
 * ```
 */
export function projectRoot(cwd: string): string {
  for (let dir = cwd;; dir = dirname(dir)) {
    for (const marker of ["deno.json", "deno.jsonc", "package.json", ".git"]) {
      if (exists(join(dir, marker))) return dir;
    }
    if (dir === "/") return cwd;
  }
}

/**
 * The shares of a job whose working folder is `workdir`, run by the Deno binary `denoExec`.
 * pvkit's cache folder `pvkitCache` (default: the folder holding the nested runner's cache,
 * `~/.cache/pvkit`) is shared read-only when it exists and no other share shows it already.
 * Sharing `/` read-write is refused.
 *
 * @example
 * ```ts
 * import { nestedShares } from "@pvkit/nested";
 * const shares = nestedShares(
 *   "/work/app",
 *   "/opt/deno/bin/deno",
 *   "/root/.cache/deno",
 *   "/root/.cache/pvkit",
 * );
 * console.log(shares.map((s) => `${s.guestPath}:${s.access}`));
 * // [ "/usr:ro", "/work/app:rw", "/opt/deno/bin:ro", "/root/.cache/deno:overlay",
 * //   "/root/.cache/pvkit:ro" ] (the caches when they exist)
 * ```
 */
export function nestedShares(
  workdir: string,
  denoExec: string,
  denoDir: string,
  pvkitCache: string = dirname(nestedCacheDir()),
): NestedShare[] {
  if (workdir === "/" || workdir === "/usr" || workdir.startsWith("/usr/")) {
    throw new NestedError(
      "bad-option",
      `refusing to share ${workdir} read-write with the guest`,
      "run from a project folder, or pass --workdir DIR",
    );
  }
  const shares: NestedShare[] = [{ hostPath: "/usr", guestPath: "/usr", access: "ro" }];
  const denoBin = dirname(denoExec);
  if (!denoBin.startsWith("/usr/")) {
    shares.push({ hostPath: denoBin, guestPath: denoBin, access: "ro" });
  }
  if (exists(denoDir)) shares.push({ hostPath: denoDir, guestPath: denoDir, access: "overlay" });
  shares.push({ hostPath: workdir, guestPath: workdir, access: "rw" });
  const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
  if (exists(pvkitCache) && !shares.some((s) => inside(pvkitCache, s.hostPath))) {
    shares.push({ hostPath: pvkitCache, guestPath: pvkitCache, access: "ro" });
  }
  // A folder inside another one is mounted after it (fewer path segments first; stable).
  const depth = (s: NestedShare) => s.guestPath.split("/").length;
  return shares.sort((a, b) => depth(a) - depth(b));
}
