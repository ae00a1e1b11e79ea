/** Runs `runCli` in-process and collects what it writes (a helper of the CLI tests). */

import { runCli } from "@pvkit/cli";

/** What one `pvkit` invocation wrote, and its status. */
export interface CliRun {
  /** The exit status. */
  readonly status: number;
  /** Everything written to stdout. */
  readonly out: string;
  /** Everything written to stderr. */
  readonly err: string;
}

/** Runs `pvkit ...argv` in this process. */
export async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status, out: out.join("\n"), err: err.join("\n") };
}

/** Runs the real `pvkit` executable (`deno run -A packages/cli/main.ts`) with pipes. */
export async function pvkitProcess(
  argv: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const main = new URL("../packages/cli/main.ts", import.meta.url);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main.href, ...argv],
    stdout: "piped",
    stderr: "piped",
    ...options,
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { status: output.code, out: text(output.stdout), err: text(output.stderr) };
}
