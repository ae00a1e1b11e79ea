import { assertEquals } from "@std/assert";
import { MinHeap } from "./_min_heap.ts";
import { RunQueue } from "./_run_queue.ts";

Deno.test("MinHeap pops in order, and siftTop reorders after the first key grew", () => {
  const heap = new MinHeap<{ key: number }>((a, b) => a.key < b.key);
  const items = [5, 3, 9, 1, 7].map((key) => ({ key }));
  for (const item of items) heap.push(item);
  heap.peek()!.key = 8; // 1 → 8
  heap.siftTop();
  const out: number[] = [];
  while (heap.size > 0) out.push(heap.pop()!.key);
  assertEquals(out, [3, 5, 7, 8, 9]);
});

Deno.test("RunQueue is a FIFO of distinct items; moveToFront jumps the line", () => {
  const queue = new RunQueue<string>();
  for (const v of ["a", "b", "c"]) queue.push(v);
  assertEquals([queue.has("b"), queue.length], [true, 3]);
  assertEquals(queue.moveToFront("c"), true);
  assertEquals(queue.moveToFront("z"), false);
  assertEquals([queue.shift(), queue.shift(), queue.shift(), queue.shift()], [
    "c",
    "a",
    "b",
    undefined,
  ]);
  assertEquals(queue.length, 0);
});

Deno.test("RunQueue stays FIFO over many pushes and shifts (its head moves, the array compacts)", () => {
  const queue = new RunQueue<number>();
  const out: number[] = [];
  for (let i = 0; i < 5000; i++) {
    queue.push(i);
    if (i % 2 === 1) out.push(queue.shift()!);
  }
  while (queue.length > 0) out.push(queue.shift()!);
  assertEquals(out, Array.from({ length: 5000 }, (_, i) => i));
});
