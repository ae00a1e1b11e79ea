/**
 * `--plugin FILE`: third-party plugins for the CLI. FILE is a module (relative to the caller's
 * folder) that exports one or more plugins made with `definePlugin()` from `@pvkit/machine`.
 *
 * @module
 */

import { PvkitError, type PvPlugin } from "@pvkit/machine";
import { callerPath } from "./caller_path.ts";

function isPlugin(value: unknown): value is PvPlugin {
  if (typeof value !== "object" || value === null || !("manifest" in value)) return false;
  const manifest = (value as { manifest: unknown }).manifest;
  return typeof manifest === "object" && manifest !== null &&
    typeof (manifest as { name?: unknown }).name === "string" &&
    typeof (manifest as { cpuid?: unknown }).cpuid === "object";
}

/**
 * Imports `file` and returns the plugins it exports, in export order.
 *
 * @throws {PvkitError} (`bad-plugin-file`) when the file cannot be imported or exports no plugin
 * @example
 * ```ts
 * import { loadPluginFile } from "@pvkit/cli";
 * const file = new URL("../../examples/acme_plugin.ts", import.meta.url).pathname;
 * const plugins = await loadPluginFile(file);
 * console.log(plugins.map((p) => p.manifest.name));
 * ```
 */
export async function loadPluginFile(file: string): Promise<PvPlugin[]> {
  const url = new URL(callerPath(file), "file:///").href;
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (e) {
    if (e instanceof PvkitError) throw e;
    const reason = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new PvkitError("bad-plugin-file", `--plugin ${file}: cannot load it: ${reason}`);
  }
  const plugins = Object.values(module).filter(isPlugin);
  if (plugins.length === 0) {
    throw new PvkitError(
      "bad-plugin-file",
      `--plugin ${file}: the module exports no pvkit plugin`,
      "export a plugin made with definePlugin() from @pvkit/machine",
    );
  }
  return plugins;
}

/**
 * Loads every `--plugin` file, in order.
 *
 * @throws {PvkitError} as {@linkcode loadPluginFile} does
 * @example
 * ```ts
 * import { loadPluginFiles } from "@pvkit/cli";
 * console.log((await loadPluginFiles([])).length); // 0
 * ```
 */
export async function loadPluginFiles(files: readonly string[]): Promise<PvPlugin[]> {
  const out: PvPlugin[] = [];
  for (const file of files) out.push(...await loadPluginFile(file));
  return out;
}
