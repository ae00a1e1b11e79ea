/**
 * Paths on the command line are relative to the caller's folder. `deno task` runs a task in the
 * folder of its `deno.json` and passes the folder it was started from in `INIT_CWD` (as npm
 * does), so `deno task pvkit probe a2-steal-time.json` inside tests/conformance finds the file.
 *
 * @module
 */

import { isAbsolute, join } from "./_path.ts";

/**
 * The caller's folder: `INIT_CWD` when set (under `deno task`), else the current directory.
 *
 * @example
 * ```ts
 * import { callerFolder } from "@pvkit/cli";
 * console.log(callerFolder());
 * ```
 */
export function callerFolder(): string {
  let init: string | undefined;
  try {
    init = Deno.env.get("INIT_CWD");
  } catch {
    // Without --allow-env the caller's folder is the current directory.
  }
  return init && isAbsolute(init) ? init : Deno.cwd();
}

/**
 * Resolves a path argument against {@linkcode callerFolder} (absolute paths are kept).
 *
 * @example
 * ```ts
 * import { callerPath } from "@pvkit/cli";
 * console.log(callerPath("/tmp/a.json")); // "/tmp/a.json"
 * ```
 */
export function callerPath(path: string): string {
  return isAbsolute(path) ? path : join(callerFolder(), path);
}
