import { assertEquals } from "@std/assert";
import { ClockHeap } from "./_clock_heap.ts";

function drain(heap: ClockHeap): number[] {
  const out: number[] = [];
  for (let id = heap.top(); id >= 0; id = heap.top()) {
    out.push(id);
    heap.pop();
  }
  return out;
}

Deno.test("ClockHeap: earliest key first, the lower id on a tie, keys moved either way", () => {
  const heap = new ClockHeap(5);
  for (const [id, key] of [[3, 10n], [1, 10n], [4, 5n], [0, 20n], [2, 7n]] as const) {
    heap.set(id, key);
  }
  heap.set(0, 1n); // moved earlier
  heap.set(4, 30n); // moved later
  assertEquals(drain(heap), [0, 2, 1, 3, 4]);
  assertEquals(heap.has(2), false);
});

Deno.test("ClockHeap: keys past 2^53 ns, equal as numbers, still order exactly", () => {
  const heap = new ClockHeap(2);
  const big = 2n ** 60n;
  heap.set(0, big + 1n);
  heap.set(1, big);
  assertEquals(Number(big) === Number(big + 1n), true);
  assertEquals(drain(heap), [1, 0]);
});
