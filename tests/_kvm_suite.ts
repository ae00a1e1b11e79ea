/**
 * `deno task test:kvm`: the tests and JSDoc examples that need KVM, run where KVM is real. On a
 * hardware KVM (or inside `pvkit nested`) they run here; where /dev/kvm is missing or hypercalls
 * hang (a PVM-backed /dev/kvm), they run inside `pvkit nested`, a QEMU TCG guest with a real KVM.
 * `PVKIT_KVM_SUITE=1` makes every KVM test run (and fail if it cannot), never skip.
 *
 * `deno task test:doc` uses the same list to leave out the JSDoc examples that need /dev/kvm where
 * it is unusable, saying so.
 */

import { detectKvmKind } from "@pvkit/kvm";
import { KVM_SUITE_ENV } from "@pvkit/kvm/testing";
import { NestedError, runNested } from "@pvkit/nested";
import { provisionLinuxGuest } from "@pvkit/vmm";

/** The test files and folders of the KVM suite (folders: their tests and JSDoc examples). */
export const KVM_TEST_PATHS: readonly string[] = [
  "packages/kvm",
  "packages/kvm-probe",
  "packages/cli/bench_command_test.ts",
  "packages/cli/doctor_command_test.ts",
  "tests/cli_kvm_test.ts",
  "tests/probe_fuzz_kvm_test.ts",
  "tests/linux_boot_test.ts",
  "tests/linux_boot_matrix_test.ts",
  "tests/linux_qemu_compare_test.ts",
];

/** Modules whose JSDoc examples need a usable /dev/kvm. */
export const KVM_DOC_PATHS: readonly string[] = [
  "packages/kvm",
  "packages/kvm-probe",
  "packages/cli/bench_command.ts",
  "packages/cli/diff_command.ts",
];

/** The KVM suite may take this long inside the nested guest (TCG is 20-50x slower). */
const NESTED_TIMEOUT_MS = 45 * 60_000;
/** No test of the suite runs this long without printing: silence this long is a hung guest. */
const NESTED_IDLE_MS = 8 * 60_000;

/** `deno test` arguments of the KVM suite. */
export function kvmSuiteArgs(): string[] {
  const paths = [...new Set([...KVM_TEST_PATHS, ...KVM_DOC_PATHS])];
  // Type checking already ran (`deno task check`); in the TCG guest it would cost minutes.
  return ["test", "-A", "--doc", "--no-check", "--permit-no-files", ...paths];
}

async function main(): Promise<number> {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const kind = await detectKvmKind();
  const args = kvmSuiteArgs();
  const env = { [KVM_SUITE_ENV.name]: KVM_SUITE_ENV.value };
  // The Linux guest the boot tests use, provisioned here: inside pvkit nested pvkit's cache is
  // read-only.
  const guest = await provisionLinuxGuest({ progress: (m) => console.error(`linux-guest: ${m}`) });
  console.error(`KVM suite: Linux guest ${guest.kernelVersion} (${guest.initrd})`);
  if (kind.real) {
    console.error(`KVM suite: ${kind.detail}; running here`);
    const child = new Deno.Command(Deno.execPath(), { args, cwd: root, env, stdin: "null" })
      .spawn();
    return (await child.status).code;
  }
  console.error(`KVM suite: ${kind.detail}; running it inside pvkit nested (QEMU TCG with KVM)`);
  const r = await runNested({
    command: [Deno.execPath(), ...args],
    cwd: root,
    workdir: root,
    env,
    timeoutMs: NESTED_TIMEOUT_MS,
    idleTimeoutMs: NESTED_IDLE_MS,
    progress: (m) => console.error(`pvkit nested: ${m}`),
    stdout: (c) => Deno.stdout.writeSync(c),
    stderr: (c) => Deno.stderr.writeSync(c),
  });
  console.error(
    `KVM suite: guest booted in ${(r.bootMs / 1000).toFixed(1)} s, ran ${
      (r.totalMs / 1000).toFixed(0)
    } s`,
  );
  return r.status;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (!(e instanceof NestedError)) throw e;
    console.error(`KVM suite: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    Deno.exit(125);
  }
}
