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
  const env = (k: string) => Deno.env.get(k) || undefined;
  const root = env("PVKIT_CACHE_DIR") ??
    join(env("XDG_CACHE_HOME") ?? join(env("HOME") ?? "/tmp", ".cache"), "pvkit");
  return join(root, "nested");
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
