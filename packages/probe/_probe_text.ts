/**
 * Reading a probe file without trusting it: a regular file (a FIFO would block forever, a
 * device such as /dev/zero never ends), at most {@linkcode PROBE_LIMITS.fileBytes} long.
 *
 * @module
 */

import { ProbeError } from "./errors.ts";
import { PROBE_LIMITS } from "./limits.ts";

function unreadable(path: string, e: unknown): ProbeError {
  if (e instanceof Deno.errors.NotFound) {
    return new ProbeError(path, undefined, "no such file", "check the path to the probe file");
  }
  return new ProbeError(path, undefined, `cannot be read: ${(e as Error).message}`);
}

/** The text of the probe file at `path`, checked before it is opened. */
export async function readProbeText(path: string): Promise<string> {
  const limit = PROBE_LIMITS.fileBytes;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path); // stat, unlike open, does not block on a FIFO
  } catch (e) {
    throw unreadable(path, e);
  }
  if (info.isDirectory) throw new ProbeError(path, undefined, "is a directory, not a probe file");
  if (!info.isFile) {
    throw new ProbeError(
      path,
      undefined,
      "is not a regular file (a pipe, socket or device), so it may never end",
      "save the probe to a file first",
    );
  }
  const tooLarge = () =>
    new ProbeError(path, undefined, `is larger than the ${limit >> 20} MiB a probe file may be`);
  if (info.size > limit) throw tooLarge();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw unreadable(path, e);
  }
  // Read in chunks and stop past the limit: the file may have grown since stat.
  const chunks: Uint8Array[] = [];
  let used = 0;
  try {
    for (;;) {
      const chunk = new Uint8Array(64 * 1024);
      const n = await file.read(chunk);
      if (n === null) break;
      chunks.push(chunk.subarray(0, n));
      used += n;
      if (used > limit) throw tooLarge();
    }
  } catch (e) {
    throw e instanceof ProbeError ? e : unreadable(path, e);
  } finally {
    file.close();
  }
  const bytes = new Uint8Array(used);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}
