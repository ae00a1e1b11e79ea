/**
 * {@linkcode ConsoleRing}: the guest console's bytes on their way from the vCPU Workers (the
 * UART's transmitter) to the main thread, through a byte ring in a SharedArrayBuffer.
 *
 * Producers must be serialized by the caller (the UART pushes under its register lock, so one
 * ring per UART); there is one consumer, the main thread. A full ring makes `push` wait for
 * the consumer, at most {@linkcode ConsoleRing.fullWaitMs}, then drop and count the byte;
 * after such a give-up, bytes are dropped without waiting until the consumer has made room, so
 * a consumer that stopped draining slows the guest once, not on every byte.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";

/** Where a device sends the bytes it transmits (a {@linkcode ConsoleRing}, or a test's sink). */
export interface ByteSink {
  /** Takes one byte (0-255); false when it had to drop it. */
  push(byte: number): boolean;
}

/** Options of {@linkcode ConsoleRing.create}. */
export interface ConsoleRingOptions {
  /**
   * How long `push` waits for the consumer when the ring is full before dropping the byte, in
   * ms. Default {@linkcode CONSOLE_RING_FULL_WAIT_MS}.
   */
  fullWaitMs?: number;
}

/** The default ring size: 256 KiB, a few screens of boot log. */
export const CONSOLE_RING_BYTES = 256 * 1024;
/** The default bound on `push`'s wait for room, in ms. */
export const CONSOLE_RING_FULL_WAIT_MS = 100;

// Header words (Int32), then the data at HEADER_BYTES. HEAD and TAIL count bytes modulo 2^32;
// (HEAD - TAIL) >>> 0 is the fill, as long as the size stays below 2^31.
const HEAD = 0; // written by the producer
const TAIL = 1; // written by the consumer; producers sleep on it when the ring is full
const DROPPED = 2;
const CONSUMER_WAITING = 3; // 1 while the consumer sleeps on HEAD: producers then notify
const GAVE_UP = 4; // 1 after a push gave up waiting, until the consumer moves TAIL
const GAVE_UP_TAIL = 5;
const FULL_WAIT_MS = 6;
const SIZE = 7;
const MAGIC = 8;
const RING_MAGIC = 0x52494e47; // "RING"
const HEADER_BYTES = 64;
const MIN_BYTES = 16;
const MAX_BYTES = 1 << 30;

/**
 * A byte ring in a SharedArrayBuffer from serialized producers (vCPU Workers) to one consumer
 * (the main thread).
 *
 * @example
 * ```ts
 * import { ConsoleRing } from "@pvkit/vmm";
 * const ring = ConsoleRing.create(4096);
 * // In a vCPU Worker: ConsoleRing.attach(ring.buffer).push(byte), under the UART's lock.
 * for (const byte of new TextEncoder().encode("Linux version")) ring.push(byte);
 * console.log(new TextDecoder().decode(ring.drain())); // "Linux version"
 * ```
 */
export class ConsoleRing implements ByteSink {
  /** The shared memory: post it to each vCPU Worker and {@linkcode ConsoleRing.attach} it there. */
  readonly buffer: SharedArrayBuffer;
  /** Capacity in bytes (a power of two). */
  readonly size: number;
  /** The bound on `push`'s wait for room when the ring is full, in ms. */
  readonly fullWaitMs: number;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #mask: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#words = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.size = this.#words[SIZE];
    this.fullWaitMs = this.#words[FULL_WAIT_MS];
    this.#bytes = new Uint8Array(buffer, HEADER_BYTES, this.size);
    this.#mask = this.size - 1;
  }

  /**
   * Makes an empty ring of `size` bytes (a power of two, 16 B to 1 GiB).
   *
   * @example
   * ```ts
   * import { ConsoleRing } from "@pvkit/vmm";
   * const ring = ConsoleRing.create(); // 256 KiB, waits up to 100 ms when full
   * console.log(ring.size, ring.fullWaitMs); // 262144 100
   * ```
   */
  static create(size: number = CONSOLE_RING_BYTES, options: ConsoleRingOptions = {}): ConsoleRing {
    if (!Number.isInteger(size) || size < MIN_BYTES || size > MAX_BYTES || (size & (size - 1))) {
      throw new PvkitError(
        "console-ring-size",
        `console ring: size ${size} is not a power of two from ${MIN_BYTES} to ${MAX_BYTES}`,
        `use e.g. ${CONSOLE_RING_BYTES} (256 KiB)`,
      );
    }
    const fullWaitMs = options.fullWaitMs ?? CONSOLE_RING_FULL_WAIT_MS;
    if (!Number.isInteger(fullWaitMs) || fullWaitMs < 0 || fullWaitMs > 60_000) {
      throw new PvkitError(
        "console-ring-wait",
        `console ring: fullWaitMs ${fullWaitMs} is not a whole number of ms from 0 to 60000`,
        `use e.g. ${CONSOLE_RING_FULL_WAIT_MS}; 0 drops at once when the ring is full`,
      );
    }
    const buffer = new SharedArrayBuffer(HEADER_BYTES + size);
    const words = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    words[SIZE] = size;
    words[FULL_WAIT_MS] = fullWaitMs;
    words[MAGIC] = RING_MAGIC;
    return new ConsoleRing(buffer);
  }

  /**
   * Maps a ring made by {@linkcode ConsoleRing.create} (in this or another thread).
   *
   * @example
   * ```ts
   * import { ConsoleRing } from "@pvkit/vmm";
   * const main = ConsoleRing.create(64);
   * const worker = ConsoleRing.attach(main.buffer); // what a vCPU Worker does
   * worker.push(0x41);
   * console.log(main.drain()); // Uint8Array(1) [ 65 ]
   * ```
   */
  static attach(buffer: SharedArrayBuffer): ConsoleRing {
    const ok = buffer instanceof SharedArrayBuffer &&
      buffer.byteLength >= HEADER_BYTES + MIN_BYTES &&
      new Int32Array(buffer, 0, HEADER_BYTES / 4)[MAGIC] === RING_MAGIC &&
      buffer.byteLength === HEADER_BYTES + new Int32Array(buffer, 0, HEADER_BYTES / 4)[SIZE];
    if (!ok) {
      throw new PvkitError(
        "console-ring-buffer",
        "console ring: the buffer is not a ring made by ConsoleRing.create",
        "post ring.buffer (the SharedArrayBuffer itself) to the Worker and attach that",
      );
    }
    return new ConsoleRing(buffer);
  }

  /** Bytes dropped so far because the ring stayed full (all producers together). */
  get dropped(): number {
    return Atomics.load(this.#words, DROPPED) >>> 0;
  }

  /** Bytes waiting for the consumer. */
  get length(): number {
    return (Atomics.load(this.#words, HEAD) - Atomics.load(this.#words, TAIL)) >>> 0;
  }

  /**
   * Appends one byte; the caller serializes producers. When the ring is full, waits up to
   * {@linkcode ConsoleRing.fullWaitMs} for the consumer, then drops the byte (counted in
   * {@linkcode ConsoleRing.dropped}) and returns false. Allocates nothing.
   *
   * @example
   * ```ts
   * import { ConsoleRing } from "@pvkit/vmm";
   * const ring = ConsoleRing.create(16, { fullWaitMs: 0 });
   * for (let i = 0; i < 20; i++) ring.push(i);
   * console.log(ring.length, ring.dropped); // 16 4
   * ```
   */
  push(byte: number): boolean {
    const words = this.#words;
    const head = Atomics.load(words, HEAD);
    if (((head - Atomics.load(words, TAIL)) >>> 0) >= this.size && !this.#waitForRoom(head)) {
      Atomics.add(words, DROPPED, 1);
      return false;
    }
    this.#bytes[head & this.#mask] = byte;
    Atomics.store(words, HEAD, (head + 1) | 0);
    if (Atomics.load(words, CONSUMER_WAITING) !== 0) Atomics.notify(words, HEAD);
    return true;
  }

  /** Waits (bounded) until the consumer moves TAIL past a full ring; false on give-up. */
  #waitForRoom(head: number): boolean {
    const words = this.#words;
    let tail = Atomics.load(words, TAIL);
    // Gave up before and the consumer has not drained since: drop without waiting again.
    if (words[GAVE_UP] === 1 && words[GAVE_UP_TAIL] === tail) return false;
    const deadline = performance.now() + this.fullWaitMs;
    while (((head - tail) >>> 0) >= this.size) {
      const left = deadline - performance.now();
      if (left <= 0) {
        words[GAVE_UP] = 1;
        words[GAVE_UP_TAIL] = tail;
        return false;
      }
      Atomics.wait(words, TAIL, tail, left);
      tail = Atomics.load(words, TAIL);
    }
    words[GAVE_UP] = 0;
    return true;
  }

  /**
   * Takes every byte waiting (the consumer's side; one consumer only). Returns a new array,
   * empty when nothing is there, and wakes producers waiting for room.
   *
   * @example
   * ```ts
   * import { ConsoleRing } from "@pvkit/vmm";
   * const ring = ConsoleRing.create(16);
   * ring.push(1);
   * console.log(ring.drain(), ring.drain()); // Uint8Array(1) [ 1 ] Uint8Array(0) []
   * ```
   */
  drain(): Uint8Array {
    const words = this.#words;
    const tail = Atomics.load(words, TAIL);
    const head = Atomics.load(words, HEAD);
    const count = (head - tail) >>> 0;
    const out = new Uint8Array(count);
    if (count === 0) return out;
    const start = tail & this.#mask;
    const first = Math.min(count, this.size - start);
    out.set(this.#bytes.subarray(start, start + first));
    if (first < count) out.set(this.#bytes.subarray(0, count - first), first);
    Atomics.store(words, TAIL, head);
    Atomics.notify(words, TAIL);
    return out;
  }

  /**
   * Resolves once bytes are waiting (true) or after `timeoutMs` without any (false), without
   * blocking the consumer's event loop (Atomics.waitAsync on the producers' index).
   *
   * @example
   * ```ts
   * import { ConsoleRing } from "@pvkit/vmm";
   * const ring = ConsoleRing.create(64);
   * console.log(await ring.waitForData(10)); // false
   * ring.push(0x0a);
   * console.log(await ring.waitForData(10)); // true
   * ```
   */
  async waitForData(timeoutMs: number): Promise<boolean> {
    const words = this.#words;
    // Announce the wait before reading HEAD; a producer stores HEAD before reading the flag, so
    // either it notifies, or this read sees its byte (both sides use sequentially consistent
    // Atomics), and waitAsync returns at once if HEAD moved in between.
    Atomics.store(words, CONSUMER_WAITING, 1);
    try {
      const head = Atomics.load(words, HEAD);
      if (head !== Atomics.load(words, TAIL)) return true;
      const wait = Atomics.waitAsync(words, HEAD, head, timeoutMs);
      if (wait.async) {
        // A pending waitAsync neither keeps Deno's event loop alive nor reliably ends it at its
        // timeout (observed in Deno 2.9.6): a timer of the same length bounds the wait.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
        try {
          await Promise.race([wait.value, timeout]);
        } finally {
          clearTimeout(timer);
        }
      }
      return Atomics.load(words, HEAD) !== Atomics.load(words, TAIL);
    } finally {
      Atomics.store(words, CONSUMER_WAITING, 0);
    }
  }
}
