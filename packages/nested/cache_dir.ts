/**
 * Where the nested runner keeps what it provisions: `$PVKIT_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/pvkit`, else `~/.cache/pvkit`; the nested runner uses its `nested/` folder.
 *
 * @module
 */

import { join } from "./_path.ts";

/**
 * The nested runner's cache folder (not created here).
 *
 * @example
 * ```ts
 * import { nestedCacheDir } from "@pvkit/nested";
 * console.log(nestedCacheDir()); // e.g. "/root/.cache/pvkit/nested"
 * ```
 */
export function nestedCacheDir(): string {
  return join(Deno.env.get("PVKIT_CACHE_DIR") || join(userCacheDir(), "pvkit"), "nested");
}

/**
 * The user's cache folder: `$XDG_CACHE_HOME`, else `~/.cache` (the XDG Base Directory
 * specification's default; `/tmp/.cache` without a HOME).
 *
 * @example
 * ```ts
 * import { userCacheDir } from "@pvkit/nested";
 * console.log(userCacheDir()); // e.g. "/root/.cache"
 * ```
 */
export function userCacheDir(): string {
  return Deno.env.get("XDG_CACHE_HOME") || join(Deno.env.get("HOME") || "/tmp", ".cache");
}

/**
 * Writes `data` to `path` through a temporary file and a rename, so a concurrent reader never
 * sees half a file.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${Deno.pid}.tmp`;
  if (typeof data === "string") Deno.writeTextFileSync(tmp, data);
  else Deno.writeFileSync(tmp, data);
  Deno.renameSync(tmp, path);
}
