/**
 * Runs the host tools the nested runner needs (apt-get, dpkg-deb, dpkg-query) and finds
 * executables on PATH.
 *
 * @module
 */

import { join } from "./_path.ts";

/** The outcome of a host command: its exit code and its output as text. */
export interface HostCommandResult {
  /** The exit code (-1 when the command could not be started). */
  code: number;
  /** What it printed on stdout. */
  stdout: string;
  /** What it printed on stderr, or why it could not be started. */
  stderr: string;
}

/**
 * Runs `command args...` to completion with no input, capturing its output. Never throws for a
 * missing command: the result has code -1 and the reason in `stderr`.
 *
 * @example
 * ```ts
 * import { runHostCommand } from "@pvkit/nested";
 * const r = await runHostCommand("sh", ["-c", "echo hi"]);
 * console.log(r.code, r.stdout); // 0 "hi\n"
 * ```
 */
export async function runHostCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<HostCommandResult> {
  try {
    const out = await new Deno.Command(command, {
      args: [...args],
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  } catch (e) {
    return { code: -1, stdout: "", stderr: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The full path of executable `name` on PATH (or in `extraDirs`), or undefined.
 *
 * @example
 * ```ts
 * import { findExecutable } from "@pvkit/nested";
 * console.log(findExecutable("sh")); // e.g. "/usr/bin/sh"
 * ```
 */
export function findExecutable(
  name: string,
  extraDirs: readonly string[] = [],
): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), ...extraDirs].filter((d) => d !== "");
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      const info = Deno.statSync(path);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return path;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
