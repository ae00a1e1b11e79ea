import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { abbaOrder, benchBoot, bootBenchFigures, median, pvkitBootArgs } from "./mod.ts";

Deno.test("abbaOrder: pvkit first in even rounds, QEMU first in odd ones", () => {
  assertEquals([0, 1, 2, 3].map(abbaOrder), [
    ["pvkit", "qemu"],
    ["qemu", "pvkit"],
    ["pvkit", "qemu"],
    ["qemu", "pvkit"],
  ]);
});

Deno.test("bootBenchFigures: medians, and the ratio is the median of per-round ratios", () => {
  // Per-round ratios 0.5, 2, 1.1: their median is 1.1, not median(pvkit) / median(QEMU) = 1.
  assertEquals(bootBenchFigures([500, 4000, 2200], [1000, 2000, 2000]), {
    medianPvkitMs: 2200,
    medianQemuMs: 2000,
    ratio: 1.1,
  });
  assertEquals(median([5]), 5);
  let err: unknown;
  try {
    bootBenchFigures([1], [1, 2]);
  } catch (e) {
    err = e;
  }
  assert(err instanceof RangeError);
});

Deno.test("pvkitBootArgs: the same machine as QEMU's, quiet, with the limits", () => {
  assertEquals(
    pvkitBootArgs(
      {
        kernel: "/k",
        initrd: "/i",
        cpu: "qemu64",
        smp: 2,
        memoryBytes: 1 << 30,
        append: "console=ttyS0",
        machine: "pc",
      },
      90_500,
      30_000,
    ),
    [
      "boot",
      "-kernel",
      "/k",
      "-initrd",
      "/i",
      "-machine",
      "pc",
      "-cpu",
      "qemu64",
      "-smp",
      "2",
      "-m",
      "1024M",
      "-append",
      "console=ttyS0",
      "--quiet",
      "--timeout",
      "91",
      "--idle-timeout",
      "30",
    ],
  );
  assertEquals(pvkitBootArgs({ kernel: "/k" }, 1000).slice(5, 7), ["-smp", "1"]);
});

// Stand-ins for both VMMs: shell scripts that print the init line after a pause and then wait
// to be killed (the bench kills each boot at /init).
function fake(dir: string, name: string, pauseSeconds: string): string {
  const path = `${dir}/${name}`;
  Deno.writeTextFileSync(
    path,
    `#!/bin/sh\necho "$0" >> "${dir}/order"\nsleep ${pauseSeconds}\necho "pvkit-boot: init 1.0"\nexec sleep 60\n`,
  );
  Deno.chmodSync(path, 0o755);
  return path;
}

Deno.test("benchBoot: ABBA rounds, each boot timed to /init and killed there (fake VMMs)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pvkit-bench-boot-" });
  try {
    const progress: string[] = [];
    const r = await benchBoot({
      kernel: "/k",
      rounds: 2,
      pvkitCommand: [fake(dir, "pvkit", "0.05")],
      qemu: fake(dir, "qemu", "0.3"),
      timeoutMs: 20_000,
      progress: (m) => progress.push(m),
    });
    const order = Deno.readTextFileSync(`${dir}/order`).trim().split("\n").map((p) =>
      p.split("/").at(-1)
    );
    assertEquals(order, ["pvkit", "qemu", "qemu", "pvkit"]);
    assertEquals([r.pvkitMs.length, r.qemuMs.length, r.rounds], [2, 2, 2]);
    assert(r.medianPvkitMs < r.medianQemuMs, JSON.stringify(r));
    assert(r.ratio < 1, String(r.ratio));
    assertEquals(r.pvkitArgv.slice(1, 3), ["boot", "-kernel"]);
    assertEquals(r.qemuArgv.slice(1, 3), ["-accel", "kvm"]);
    assertEquals(progress.length, 4);
    assertStringIncludes(progress[0], "round 1/2: pvkit reached /init in");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("benchBoot: a hang is retried once and said so; a boot that never reaches /init fails", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pvkit-bench-boot-" });
  try {
    const progress: string[] = [];
    const silent = `${dir}/silent`;
    Deno.writeTextFileSync(silent, "#!/bin/sh\nexec sleep 60\n");
    Deno.chmodSync(silent, 0o755);
    const e = await assertRejects(
      () =>
        benchBoot({
          kernel: "/k",
          rounds: 1,
          pvkitCommand: [silent],
          qemu: silent,
          timeoutMs: 20_000,
          idleTimeoutMs: 200,
          progress: (m) => progress.push(m),
        }),
      PvkitError,
      "round 1/1: pvkit hung twice before /init",
    );
    assertEquals((e as PvkitError).code, "bench-boot-failed");
    assertEquals(progress.length, 1);
    assertStringIncludes(progress[0], "(a hang); retrying once");
    const early = `${dir}/early`;
    Deno.writeTextFileSync(early, "#!/bin/sh\necho oops >&2\nexit 3\n");
    Deno.chmodSync(early, 0o755);
    await assertRejects(
      () => benchBoot({ kernel: "/k", rounds: 1, pvkitCommand: [early], qemu: early }),
      PvkitError,
      "ended (status 3) before /init",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
