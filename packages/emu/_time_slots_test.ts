import { assertEquals } from "@std/assert";
import { TimeSlots } from "./_time_slots.ts";

Deno.test("TimeSlots: times below and past 2^53 ns read back and compare exactly", () => {
  const slots = new TimeSlots(3);
  const edge = 2n ** 53n;
  const times = [edge - 1n, edge + 1n, edge + 2n]; // edge+1 and edge+2 are one number apart
  times.forEach((t, i) => slots.set(i, t));
  assertEquals(times.map((_, i) => slots.get(i)), times);
  assertEquals([slots.compare(0, 1), slots.compare(1, 2), slots.compare(2, 1)], [-1, -1, 1]);
  assertEquals(
    [slots.compareTo(1, edge + 1n), slots.compareTo(1, edge + 2n), slots.compareTo(1, edge)],
    [0, -1, 1],
  );
  assertEquals([slots.compareTo(0, edge - 1n), slots.compareTo(0, 0n)], [0, 1]);
});
