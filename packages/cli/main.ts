/**
 * The `pvkit` executable: `deno task pvkit <command> …`.
 *
 * @module
 */

import { runCli } from "./cli.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
