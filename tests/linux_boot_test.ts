// pvkit boot on a real KVM (run by `deno task test:kvm`, inside pvkit nested where /dev/kvm is
// not real): how a Linux guest's bad ends are reported, each by the `pvkit` process itself,
// which must end on its own (no thread or child left behind). The guest is Debian's kernel with
// pvkit's initramfs (`deno task linux-guest`); its /init crashes or hangs on request
// (`pvkit.test=panic|hang`).

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { hostTimeScale } from "@pvkit/kvm";
import { kvmTest } from "@pvkit/kvm/testing";
import { DEFAULT_BOOT_CMDLINE, provisionLinuxGuest } from "@pvkit/vmm";
import { pvkitProcess } from "./_cli.ts";

/** A boot that runs away still ends within this (the test's own bound, not the guest's). */
const TEST_TIMEOUT_MS = 240_000 * Math.min(hostTimeScale(), 2);

async function boot(extraArgs: string[], append: string) {
  const guest = await provisionLinuxGuest();
  const started = performance.now();
  const run = await withDeadline(
    pvkitProcess([
      "boot",
      "-kernel",
      guest.kernel,
      "-initrd",
      guest.initrd,
      "-append",
      `${DEFAULT_BOOT_CMDLINE} ${append}`,
      "-smp",
      "2",
      ...extraArgs,
    ]),
    TEST_TIMEOUT_MS,
  );
  const seconds = (performance.now() - started) / 1000;
  // For assertion messages: what the guest and pvkit said last.
  const tail = `${run.err}\n--- console (last lines) ---\n${run.out.slice(-3000)}`;
  return { ...run, seconds, tail };
}

async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`pvkit boot did not end within ${ms} ms`)), ms)
  );
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

kvmTest(
  "pvkit boot: a kernel panic is reported as one, not as the reboot that follows it",
  async () => {
    const r = await boot(["--timeout", "300"], "pvkit.test=panic");
    assertEquals(r.status, 1, r.tail);
    assertStringIncludes(r.out, "pvkit-boot: test panic");
    assertStringIncludes(r.err, "the guest kernel panicked (Kernel panic - not syncing:");
  },
);

kvmTest(
  "pvkit boot: a guest that stops printing is stopped as hung, with its last lines",
  async () => {
    const r = await boot(["--timeout", "300", "--idle-timeout", "30"], "pvkit.test=hang");
    assertEquals(r.status, 124, r.err);
    assertStringIncludes(r.err, "the guest hung: no console output for 30 s");
    assertStringIncludes(r.err, "pvkit-boot: test hang");
  },
);

kvmTest("pvkit boot: --timeout stops a guest that has not ended", async () => {
  const r = await boot(["--timeout", "3"], "");
  assertEquals(r.status, 124, r.tail);
  assertStringIncludes(r.err, "the guest did not end within 3 s");
  assert(r.seconds < 60, `the process ended ${r.seconds.toFixed(1)} s after it started`);
});
