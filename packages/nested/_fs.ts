// File helpers of this package: reads and checks that treat a missing file as an answer.

/** The file's bytes, or undefined when it cannot be read. */
export function readBytesIfPresent(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The file's text without surrounding white space, or undefined when it cannot be read. */
export function readTextIfPresent(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return undefined;
  }
}

/** Whether something exists at `path` (without reading it). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes `path` (recursively); a missing one is fine. */
export function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
