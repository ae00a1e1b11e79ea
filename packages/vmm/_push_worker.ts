// A test Worker that plays a vCPU transmitting console bytes, for the two-Worker tests of
// console_ring_test.ts and uart16550_test.ts. Not re-exported by mod.ts.
//
// "uart": `count` THR writes through its own Uart16550 over the shared state, byte i being
// `tag | (i & 0x7f)`. "runs": `count` runs of RUN_BYTES pushes straight into the ring, each run
// under the shared lock word (as the UART's lock serializes its pushes), every byte of run r
// being `tag | (r & 0x7f)`.

import { ConsoleRing } from "./console_ring.ts";
import { lockWord, unlockWord } from "./_spin_lock.ts";
import { Uart16550 } from "./uart16550.ts";

/** Bytes per run in "runs" mode. */
export const RUN_BYTES = 16;

/** The one message a push Worker receives. */
export interface PushWorkerJob {
  mode: "uart" | "runs";
  ring: SharedArrayBuffer;
  /** The UART state ("uart") or a lock word's buffer ("runs"). */
  state: SharedArrayBuffer;
  tag: number;
  count: number;
}

/** What a push Worker posts back when done. */
export interface PushWorkerDone {
  dropped: number;
}

interface WorkerScope {
  onmessage: ((event: MessageEvent<PushWorkerJob>) => void) | null;
  postMessage(message: PushWorkerDone): void;
}

const scope = self as unknown as WorkerScope;
scope.onmessage = (event) => {
  const { mode, ring: ringBuffer, state, tag, count } = event.data;
  const ring = ConsoleRing.attach(ringBuffer);
  let dropped = 0;
  if (mode === "uart") {
    const uart = new Uart16550(state, { ring, setIrq: () => {} });
    for (let i = 0; i < count; i++) uart.write(0, tag | (i & 0x7f));
  } else {
    const lock = new Int32Array(state);
    for (let r = 0; r < count; r++) {
      lockWord(lock, 0);
      for (let i = 0; i < RUN_BYTES; i++) if (!ring.push(tag | (r & 0x7f))) dropped++;
      unlockWord(lock, 0);
    }
  }
  scope.postMessage({ dropped });
};
