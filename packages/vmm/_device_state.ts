// Device state in a SharedArrayBuffer: word 0 is the device's lock (see _spin_lock.ts), word 1
// a magic number naming the device, so that a state handed to the wrong constructor (or a
// plain ArrayBuffer, which a Worker would receive as a copy) is refused with a clear error.
// Not re-exported by mod.ts.

import { PvkitError } from "@pvkit/machine";

/** Index of the lock word. */
export const LOCK = 0;
/** Index of the magic word. */
export const MAGIC = 1;

/** A zeroed state of `bytes` bytes carrying `magic`. */
export function newDeviceState(bytes: number, magic: number): SharedArrayBuffer {
  const state = new SharedArrayBuffer(bytes);
  new Int32Array(state)[MAGIC] = magic;
  return state;
}

/** `state` as Int32 words, after checking that it is a `device` state made by `createState`. */
export function deviceWords(
  state: SharedArrayBuffer,
  bytes: number,
  magic: number,
  device: string,
): Int32Array {
  if (!(state instanceof SharedArrayBuffer) || state.byteLength !== bytes) {
    throw new PvkitError(
      "device-state",
      `${device}: the state is not a ${bytes}-byte SharedArrayBuffer`,
      `pass the SharedArrayBuffer that ${device}.createState() returned (post it to each vCPU ` +
        `Worker as is; a plain ArrayBuffer would arrive as a copy)`,
    );
  }
  const words = new Int32Array(state);
  if (words[MAGIC] !== magic) {
    throw new PvkitError(
      "device-state",
      `${device}: the state was made for another device (magic ${
        (words[MAGIC] >>> 0).toString(16)
      })`,
      `pass the SharedArrayBuffer that ${device}.createState() returned`,
    );
  }
  return words;
}
