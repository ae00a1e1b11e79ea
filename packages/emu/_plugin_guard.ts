/**
 * Plugin hooks behind a guard: an exception a plugin's code throws comes out as a
 * {@linkcode PluginHookError} naming the plugin and the hook, not as a raw error from deep in
 * the run loop. Errors pvkit raises for a user mistake (a {@linkcode PvkitError}) pass through.
 *
 * @module
 */

import { PluginHookError, type PluginHooks, PvkitError } from "@pvkit/machine";

type AnyFunction = (...args: unknown[]) => unknown;

/** Calls `fn`, turning what a plugin throws into a {@linkcode PluginHookError}. */
export function callPlugin<T>(plugin: string, hook: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof PvkitError ? e : new PluginHookError(plugin, hook, e);
  }
}

/** A copy of `hook` whose methods (own or inherited) are guarded; data fields are copied. */
function guard<T extends object>(plugin: string, kind: string, hook: T): T {
  const out: Record<string, unknown> = {};
  for (let o: object | null = hook; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === "constructor" || key in out) continue;
      const value = (hook as Record<string, unknown>)[key];
      if (typeof value === "function") {
        const method = value as AnyFunction;
        const name = `${kind}.${key}`;
        out[key] = (...args: unknown[]) => {
          try {
            return method.apply(hook, args);
          } catch (e) {
            throw e instanceof PvkitError ? e : new PluginHookError(plugin, name, e);
          }
        };
      } else if (key === "gated" && typeof value === "object" && value !== null) {
        out[key] = guard(plugin, `${kind}.${key}`, value); // MsrHook.gated: the gated handlers
      } else {
        out[key] = value;
      }
    }
  }
  return out as T;
}

/** The hooks a plugin created, each guarded (see the module doc). */
export function guardHooks(plugin: string, hooks: PluginHooks): PluginHooks {
  const list = <T extends object>(kind: string, items: readonly T[] | undefined) =>
    items?.map((h) => guard(plugin, kind, h));
  return {
    ...(hooks.cpuid ? { cpuid: list("cpuid", hooks.cpuid) } : {}),
    ...(hooks.msrs ? { msrs: list("msrs", hooks.msrs) } : {}),
    ...(hooks.hypercalls ? { hypercalls: list("hypercalls", hooks.hypercalls) } : {}),
    ...(hooks.ioPorts ? { ioPorts: list("ioPorts", hooks.ioPorts) } : {}),
    ...(hooks.lifecycle ? { lifecycle: list("lifecycle", hooks.lifecycle) } : {}),
    ...(hooks.msi ? { msi: guard(plugin, "msi", hooks.msi) } : {}),
  };
}
