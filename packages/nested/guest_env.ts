/**
 * The environment a nested job sees: a fixed PATH (Deno's folder first), HOME, Deno's cache, the
 * host variables that shape output or pvkit (colour, CI, locale, `PVKIT_*`, `DENO_*`), the
 * caller's additions, and `PVKIT_NESTED=tcg` so tools know where they run.
 *
 * @module
 */

import { dirname } from "./_path.ts";
import { denoCacheDir } from "./shares.ts";

/** Host variables passed through to the job. */
const PASSED =
  /^(NO_COLOR|FORCE_COLOR|CI|TERM|LANG|LANGUAGE|LC_[A-Z]+|TZ|PVKIT_[A-Z0-9_]+|DENO_[A-Z0-9_]+)$/;
/** Host variables that name host-only places, and are not passed. */
const HOST_ONLY = new Set(["DENO_DIR", "DENO_INSTALL_ROOT", "PVKIT_CACHE_DIR"]);

/** The variable that tells a program it runs inside `pvkit nested`, and its value. */
export const NESTED_ENV = { name: "PVKIT_NESTED", value: "tcg" } as const;

/**
 * The job's environment, with `extra` added last.
 *
 * @example
 * ```ts
 * import { guestEnvironment } from "@pvkit/nested";
 * console.log(guestEnvironment({ A: "1" }).PVKIT_NESTED); // "tcg"
 * ```
 */
export function guestEnvironment(extra: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${dirname(Deno.execPath())}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin`,
    HOME: "/root",
    TMPDIR: "/tmp",
    DENO_DIR: denoCacheDir(),
  };
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (PASSED.test(k) && !HOST_ONLY.has(k)) env[k] = v;
  }
  env[NESTED_ENV.name] = NESTED_ENV.value;
  return { ...env, ...extra };
}
