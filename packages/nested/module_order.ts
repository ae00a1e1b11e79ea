/**
 * Works out which kernel modules to load, and in which order, for a set of wanted modules: each
 * module after the modules its `.modinfo` says it depends on (what `modprobe --show-depends`
 * prints, without needing kmod or a `modules.dep`).
 *
 * @module
 */

import { join } from "./_path.ts";
import { NestedError } from "./errors.ts";
import { type ModuleInfo, parseModinfo } from "./modinfo.ts";

/** A module to load: its name and the path of its `.ko` file. */
export interface KernelModule {
  /** The module's name, e.g. `kvm_amd`. */
  name: string;
  /** The `.ko` file's path. */
  path: string;
}

/** Module names compare with `-` and `_` alike (kmod's `modname_normalize`). */
export function normalizeModuleName(name: string): string {
  return name.replaceAll("-", "_");
}

/**
 * Lists every `.ko` file below `moduleDir` (a kernel's `lib/modules/<version>`) by module name.
 *
 * @example
 * ```ts ignore
 * import { listKernelModules } from "@pvkit/nested";
 * const files = listKernelModules("/lib/modules/6.1.0-57-amd64");
 * console.log(files.get("kvm_amd"));
 * ```
 */
export function listKernelModules(moduleDir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) walk(path);
      else if (e.isFile && e.name.endsWith(".ko")) {
        found.set(normalizeModuleName(e.name.slice(0, -3)), path);
      }
    }
  };
  walk(join(moduleDir, "kernel"));
  return found;
}

/**
 * Orders `wanted` and everything they depend on so that each module follows its dependencies.
 * `files` maps module names to `.ko` paths ({@linkcode listKernelModules}); `readInfo` reads a
 * module's `.modinfo` (by default from its file). Names a kernel builds in are absent from
 * `files` and `builtin` lists them; anything else missing is an error.
 *
 * @example
 * ```ts
 * import { moduleLoadOrder } from "@pvkit/nested";
 * const info = new Map([
 *   ["kvm_amd", ["kvm", "ccp"]],
 *   ["kvm", ["irqbypass"]],
 *   ["ccp", []],
 *   ["irqbypass", []],
 * ]);
 * const order = moduleLoadOrder(["kvm_amd"], new Map([...info.keys()].map((n) => [n, `${n}.ko`])), {
 *   readInfo: (m) => ({ name: m.name, depends: info.get(m.name)! }),
 * });
 * console.log(order.map((m) => m.name)); // [ "irqbypass", "kvm", "ccp", "kvm_amd" ]
 * ```
 */
export function moduleLoadOrder(
  wanted: readonly string[],
  files: ReadonlyMap<string, string>,
  options: { builtin?: ReadonlySet<string>; readInfo?: (m: KernelModule) => ModuleInfo } = {},
): KernelModule[] {
  const readInfo = options.readInfo ??
    ((m: KernelModule) => parseModinfo(Deno.readFileSync(m.path), m.path));
  const order: KernelModule[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (raw: string, neededBy: string | undefined) => {
    const name = normalizeModuleName(raw);
    if (state.get(name) === "done" || options.builtin?.has(name)) return;
    if (state.get(name) === "visiting") {
      throw new NestedError(
        "module-failed",
        `kernel modules depend on each other in a cycle at ${name}`,
      );
    }
    const path = files.get(name);
    if (path === undefined) {
      throw new NestedError(
        "module-failed",
        `kernel module ${name}${
          neededBy ? ` (needed by ${neededBy})` : ""
        } is not in this kernel package`,
        "pick a kernel package that ships it as a module, or one that builds it in",
      );
    }
    state.set(name, "visiting");
    const module = { name, path };
    for (const dep of readInfo(module).depends) visit(dep, name);
    state.set(name, "done");
    order.push(module);
  };
  for (const w of wanted) visit(w, undefined);
  return order;
}
