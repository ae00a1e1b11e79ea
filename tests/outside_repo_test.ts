/**
 * pvkit from outside the repository, the two ways README.md documents: a user's project that
 * links the clone (`"links"` in its deno.json) and imports `@pvkit/pvkit` and single plugins,
 * and the `pvkit` command installed with `deno install -g --config`.
 */

import { assertEquals, assertStringIncludes } from "@std/assert";

const CLONE = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Runs deno in `cwd` with `args`; the environment of a shell (no INIT_CWD from a task). */
async function deno(args: string[], cwd: string) {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, out: text(output.stdout), err: text(output.stderr) };
}

const USER_MAIN = `import { MachineBuilder } from "@pvkit/pvkit";
import { kvmPvEoi } from "@pvkit/kvm-pv-eoi";
import { kvmStealTime } from "@pvkit/kvm-steal-time";
import { EmuProbeBackend } from "@pvkit/emu";
import { parseProbe, probeReport } from "@pvkit/probe";

const builder = new MachineBuilder().use(kvmPvEoi).use(kvmStealTime).smp(2);
const machine = builder.build();
const eax = machine.leaves["0x40000001"].eax;
const probe = parseProbe({
  name: "my-machine",
  machine: { cpu: builder.cpuOption(), machine: builder.machineOption(), smp: 2 },
  vcpus: [
    { steps: [{ op: "cpuid", leaf: "0x40000001", expect: { eax } }] },
    { steps: [{ op: "wrmsr", msr: "0x4b564d03", value: "0x100001", expect: { fault: null } }] },
  ],
});
const report = probeReport(probe, await new EmuProbeBackend().run(probe));
console.log(JSON.stringify({ ok: machine.ok, eax, passed: report.passed }));
`;

Deno.test("a project outside the repo links the clone and composes and probes a machine", async () => {
  const project = await Deno.makeTempDir({ prefix: "pvkit-user-" });
  try {
    await Deno.writeTextFile(
      `${project}/deno.json`,
      JSON.stringify({ links: [CLONE] }, null, 2),
    );
    await Deno.writeTextFile(`${project}/main.ts`, USER_MAIN);
    const checked = await deno(["check", "main.ts"], project);
    assertEquals(checked.code, 0, checked.err);
    const run = await deno(["run", "-A", "main.ts"], project);
    assertEquals(run.code, 0, run.err);
    // kvm-pv-eoi is bit 6, kvm-steal-time bit 5; the builder starts from no features.
    assertEquals(JSON.parse(run.out), { ok: true, eax: "0x00000060", passed: true });
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});

Deno.test("deno install -g --config <clone>/deno.json installs a pvkit that works anywhere", async () => {
  const root = await Deno.makeTempDir({ prefix: "pvkit-install-" });
  const elsewhere = await Deno.makeTempDir({ prefix: "pvkit-cwd-" });
  try {
    const installed = await deno([
      "install",
      "-g",
      "-A",
      "-f",
      "-n",
      "pvkit",
      "--root",
      root,
      "--config",
      `${CLONE}/deno.json`,
      `${CLONE}/packages/cli/main.ts`,
    ], elsewhere);
    assertEquals(installed.code, 0, installed.err);
    await Deno.copyFile(
      `${CLONE}/tests/conformance/a5-cpuid-signature.json`,
      `${elsewhere}/a5.json`,
    );
    // The installed script runs `deno` from PATH: this test's deno.
    const denoDir = Deno.execPath().replace(/\/[^/]+$/, "");
    const env = Deno.env.toObject();
    delete env.INIT_CWD;
    const output = await new Deno.Command(`${root}/bin/pvkit`, {
      args: ["probe", "a5.json", "--json"],
      cwd: elsewhere,
      clearEnv: true,
      env: { ...env, PATH: `${denoDir}:${env.PATH ?? ""}` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, err);
    const [report] = JSON.parse(new TextDecoder().decode(output.stdout));
    assertEquals(report.passed, true);
    assertStringIncludes(report.probe, "cpuid");
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});
