import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { CONSOLE_RING_BYTES, CONSOLE_RING_FULL_WAIT_MS, ConsoleRing } from "./console_ring.ts";
import { type PushWorkerDone, type PushWorkerJob, RUN_BYTES } from "./_push_worker.ts";

Deno.test("console ring: defaults", () => {
  const ring = ConsoleRing.create();
  assertEquals([ring.size, ring.fullWaitMs, ring.length, ring.dropped], [
    CONSOLE_RING_BYTES,
    CONSOLE_RING_FULL_WAIT_MS,
    0,
    0,
  ]);
  assertEquals(ring.buffer.byteLength, 64 + 256 * 1024);
});

Deno.test("console ring: bytes wrap around the end in order", () => {
  const ring = ConsoleRing.create(16);
  let next = 0;
  const seen: number[] = [];
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 11; i++) assert(ring.push(next++ & 0xff));
    assertEquals(ring.length, 11);
    seen.push(...ring.drain());
  }
  assertEquals(seen, [...Array(110).keys()]);
  assertEquals(ring.drain().length, 0);
});

Deno.test("console ring: the indices wrap past 2^31 and 2^32", () => {
  const ring = ConsoleRing.create(16);
  // Start just below the Int32 boundary, as after 2 GiB of console output.
  const words = new Int32Array(ring.buffer, 0, 2);
  words[0] = words[1] = 0x7ffffff8;
  for (let i = 0; i < 16; i++) ring.push(i);
  assertEquals(ring.length, 16);
  assertEquals([...ring.drain()], [...Array(16).keys()]);
  words[0] = words[1] = -4; // 0xfffffffc
  for (let i = 0; i < 8; i++) ring.push(i);
  assertEquals([...ring.drain()], [...Array(8).keys()]);
});

Deno.test("console ring: a full ring waits up to fullWaitMs, then drops and counts", () => {
  const ring = ConsoleRing.create(16, { fullWaitMs: 30 });
  for (let i = 0; i < 16; i++) assert(ring.push(i));
  let t0 = performance.now();
  assertEquals(ring.push(0xee), false);
  const waited = performance.now() - t0;
  assert(waited >= 25 && waited < 1000, `waited ${waited} ms`);
  assertEquals(ring.dropped, 1);
  // Once it gave up, it drops without waiting until the consumer drains.
  t0 = performance.now();
  for (let i = 0; i < 100; i++) assertEquals(ring.push(0xee), false);
  assert(performance.now() - t0 < 20, "no second wait while the consumer is away");
  assertEquals(ring.dropped, 101);
  assertEquals([...ring.drain()], [...Array(16).keys()]);
  // After a drain, pushes go through again and a full ring waits again.
  for (let i = 0; i < 16; i++) assert(ring.push(i));
  t0 = performance.now();
  assertEquals(ring.push(0xee), false);
  assert(performance.now() - t0 >= 25);
  assertEquals(ring.dropped, 102);
});

Deno.test("console ring: fullWaitMs 0 drops at once", () => {
  const ring = ConsoleRing.create(16, { fullWaitMs: 0 });
  for (let i = 0; i < 20; i++) ring.push(i);
  assertEquals([ring.length, ring.dropped], [16, 4]);
});

Deno.test("console ring: waitForData resolves on a push from a Worker, or times out", async () => {
  const ring = ConsoleRing.create(64);
  let t0 = performance.now();
  assertEquals(await ring.waitForData(30), false);
  assert(performance.now() - t0 >= 25);
  const state = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./_push_worker.ts", import.meta.url), { type: "module" });
  const job: PushWorkerJob = { mode: "runs", ring: ring.buffer, state, tag: 0, count: 1 };
  const workerDone = new Promise((resolve) => worker.onmessage = resolve);
  t0 = performance.now();
  const waiting = ring.waitForData(10_000);
  worker.postMessage(job);
  assertEquals(await waiting, true);
  assert(performance.now() - t0 < 5_000);
  await workerDone;
  worker.terminate();
  assertEquals(ring.drain().length, RUN_BYTES);
});

Deno.test("console ring: runs pushed under one lock from two Workers stay whole", async () => {
  const runs = 5_000;
  // A small ring, so that the producers often find it full and wait for this consumer.
  const ring = ConsoleRing.create(256, { fullWaitMs: 5_000 });
  const lock = new SharedArrayBuffer(4);
  const tags = [0x00, 0x80];
  const done = tags.map((tag) => {
    const worker = new Worker(new URL("./_push_worker.ts", import.meta.url), { type: "module" });
    const job: PushWorkerJob = { mode: "runs", ring: ring.buffer, state: lock, tag, count: runs };
    return new Promise<PushWorkerDone>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<PushWorkerDone>) => {
        worker.terminate();
        resolve(e.data);
      };
      worker.onerror = (e) => {
        worker.terminate();
        reject(e.message);
      };
      worker.postMessage(job);
    });
  });
  const received: number[] = [];
  let finished = false;
  const all = Promise.all(done).then((results) => {
    finished = true;
    return results;
  });
  while (!finished || ring.length > 0) {
    await ring.waitForData(20);
    for (const byte of ring.drain()) received.push(byte);
  }
  const results = await all;
  assertEquals(results.map((r) => r.dropped), [0, 0]);
  assertEquals(ring.dropped, 0);
  assertEquals(received.length, 2 * runs * RUN_BYTES);
  const nextRun = new Map(tags.map((tag) => [tag, 0]));
  for (let i = 0; i < received.length; i += RUN_BYTES) {
    const run = received.slice(i, i + RUN_BYTES);
    const tag = run[0] & 0x80;
    const r = nextRun.get(tag)!;
    assert(run.every((b) => b === (tag | (r & 0x7f))), `run at ${i} interleaved: ${run}`);
    nextRun.set(tag, r + 1);
  }
  assertEquals([...nextRun.values()], [runs, runs]);
});

Deno.test("console ring: bad sizes, waits and buffers are refused", () => {
  for (const size of [0, 8, 100, 1.5, 2 ** 31]) {
    const e = assertThrows(() => ConsoleRing.create(size));
    assert(e instanceof PvkitError && e.code === "console-ring-size", String(e));
  }
  const e = assertThrows(() => ConsoleRing.create(64, { fullWaitMs: -1 }));
  assert(e instanceof PvkitError && e.code === "console-ring-wait");
  for (const buffer of [new SharedArrayBuffer(128), new SharedArrayBuffer(4)]) {
    const err = assertThrows(() => ConsoleRing.attach(buffer));
    assert(err instanceof PvkitError && err.code === "console-ring-buffer");
  }
  const plain = new ArrayBuffer(128) as unknown as SharedArrayBuffer;
  assertThrows(() => ConsoleRing.attach(plain), PvkitError);
});
