/**
 * Follows a file another process (here, the guest over 9p) appends to: each poll hands the new
 * bytes to a sink, or keeps them.
 *
 * @module
 */

/**
 * A reader of what has been appended to a file since the last poll.
 *
 * @example
 * ```ts
 * import { FileTail } from "@pvkit/nested";
 * const path = Deno.makeTempFileSync();
 * const tail = new FileTail(path);
 * Deno.writeTextFileSync(path, "one\n", { append: true });
 * tail.poll();
 * console.log(new TextDecoder().decode(tail.collected())); // "one\n"
 * Deno.removeSync(path);
 * ```
 */
export class FileTail {
  readonly #path: string;
  readonly #sink: ((chunk: Uint8Array) => void) | undefined;
  readonly #kept: Uint8Array[] = [];
  #offset = 0;

  /** Follows `path`; new bytes go to `sink`, or are kept for {@linkcode FileTail.collected}. */
  constructor(path: string, sink?: (chunk: Uint8Array) => void) {
    this.#path = path;
    this.#sink = sink;
  }

  /** Reads what was appended since the last poll; returns how many bytes (0 if it is missing). */
  poll(): number {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(this.#path);
    } catch {
      return 0;
    }
    const before = this.#offset;
    try {
      file.seekSync(this.#offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(1 << 16);
      for (;;) {
        const n = file.readSync(buf);
        if (n === null || n === 0) break;
        this.#offset += n;
        const chunk = buf.slice(0, n);
        if (this.#sink) this.#sink(chunk);
        else this.#kept.push(chunk);
      }
    } finally {
      file.close();
    }
    return this.#offset - before;
  }

  /** Everything read and not handed to a sink, in order. */
  collected(): Uint8Array {
    const out = new Uint8Array(this.#kept.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.#kept) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
