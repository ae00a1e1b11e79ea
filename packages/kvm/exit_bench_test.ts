import { hostTimeScale } from "./kvm_kind.ts";
import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  compileCExitLoop,
  exitLoopProgram,
  pairedRatio,
  runCExitLoop,
  runExitLoop,
} from "./mod.ts";
import { expectKind, kvmTest } from "./_test_utils.ts";

Deno.test("exitLoopProgram is the C baseline's loop (short jumps)", () => {
  const hex = Array.from(exitLoopProgram(3), (b) => b.toString(16).padStart(2, "0")).join(" ");
  assertEquals(hex, "b9 03 00 00 00 66 ba 10 00 ee ff c9 75 fb 66 ba 11 00 ee f4 eb fd");
});

Deno.test({
  name: "the C exit loop compiles with gcc -O2",
  permissions: { read: true, write: true, run: true, env: true },
  async fn() {
    const built = await compileCExitLoop();
    if ("error" in built) {
      assert(built.error.includes("not found"), built.error); // only a missing gcc is tolerated
      console.warn(`skipped: ${built.error}`);
      return;
    }
    try {
      assert((await Deno.stat(built.exe)).isFile);
    } finally {
      await Deno.remove(built.dir, { recursive: true });
    }
  },
});

kvmTest("runExitLoop counts every exit (guarded by the timer watchdog)", () => {
  const r = expectKind(runExitLoop({ count: 2000, timeoutMs: 1000 * hostTimeScale() }), "done");
  assertEquals(r.exits, 2000); // 1999 loop exits after the first, plus the done exit
  assert(r.usPerExit > 0 && r.usPerExit < 1000, String(r.usPerExit));
});

kvmTest("the C exit loop runs the same loop", async () => {
  const built = await compileCExitLoop();
  if ("error" in built) throw new Error(`the C baseline is needed here: ${built.error}`);
  try {
    const c = expectKind(await runCExitLoop(built.exe, 2000, { timeoutMs: 30_000 }), "done");
    assertEquals(c.exits, 2000);
    const real = expectKind(
      await runCExitLoop(built.exe, 2000, { timeoutMs: 30_000, realMode: true }),
      "done",
    );
    assertEquals(real.exits, 2000);
  } finally {
    await Deno.remove(built.dir, { recursive: true });
  }
});

Deno.test("pairedRatio: one round where the host changed mid-round does not move the ratio", () => {
  // Host cost drifts between 7 and 9 µs; Deno is 2% slower than C in every round except the
  // third, where the host got quieter before C ran. Ratio of medians: 9.18 / 7 = 1.31.
  const deno = [7, 9, 9, 7, 9].map((x) => x * 1.02);
  const c = [7, 9, 7, 7, 9];
  assertEquals(pairedRatio(deno, c).toFixed(6), "1.020000");
  assertThrows(() => pairedRatio([1, 2], [1]), RangeError, "paired rounds differ");
});
