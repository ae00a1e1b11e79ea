import { assert, assertEquals } from "@std/assert";
import { inKvmSuite, kvmTest } from "@pvkit/kvm/testing";
import { runCli } from "./cli.ts";
import { kvmLeafBitNames } from "./doctor_command.ts";

function capture(): {
  lines: string[];
  errs: string[];
  io: { out(t: string): void; err(t: string): void };
} {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, io: { out: (t) => lines.push(t), err: (t) => errs.push(t) } };
}

Deno.test("kvmLeafBitNames names the leaf's bits after the plugin manifests", () => {
  assertEquals(kvmLeafBitNames(0x01000009, "eax"), [
    "KVM_FEATURE_CLOCKSOURCE",
    "KVM_FEATURE_CLOCKSOURCE2",
    "KVM_FEATURE_CLOCKSOURCE_STABLE_BIT",
  ]);
  assertEquals(kvmLeafBitNames(1 << 30, "eax"), ["bit 30"]);
  assertEquals(kvmLeafBitNames(1, "edx"), ["KVM_HINTS_REALTIME"]);
});

kvmTest("pvkit doctor --json on this host", async () => {
  const { lines, errs, io } = capture();
  assertEquals(await runCli(["doctor", "--json"], io), 0, errs.join("\n"));
  const j = JSON.parse(lines[0]) as Record<string, unknown>;
  for (const v of Object.values(j)) {
    assert(v === null || typeof v !== "object" || Array.isArray(v), "flat object");
  }
  assertEquals(j.usable, true);
  assertEquals(j.apiVersion, 12);
  // The KVM suite runs only where KVM is real: there hypercalls work, and inside pvkit nested
  // doctor says where it is.
  if (inKvmSuite()) assertEquals(j.hypercalls, "works");
  if (Deno.env.get("PVKIT_NESTED") === "tcg") assertEquals(j.kind, "nested-tcg");
  assertEquals(j.KVM_CAP_IRQCHIP, 1);
  assertEquals(j.KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 1);
  for (
    const k of [
      "KVM_CAP_SPLIT_IRQCHIP",
      "KVM_CAP_X2APIC_API",
      "KVM_CAP_EXIT_HYPERCALL",
      "KVM_CAP_X86_USER_SPACE_MSR",
      "KVM_CAP_X86_MSR_FILTER",
      "KVM_CAP_ADJUST_CLOCK",
      "KVM_CAP_KVMCLOCK_CTRL",
      "KVM_CAP_STEAL_TIME",
      "KVM_CAP_ASYNC_PF",
      "KVM_CAP_ASYNC_PF_INT",
      "KVM_CAP_NR_VCPUS",
      "KVM_CAP_MAX_VCPUS",
      "KVM_CAP_BINARY_STATS_FD",
      "KVM_CAP_IMMEDIATE_EXIT",
    ]
  ) assertEquals(typeof j[k], "number", k);
  assertEquals(typeof j.pvLeafEax, "number");
  assert((j.pvFeatures as string[]).includes("KVM_FEATURE_CLOCKSOURCE"));
  assert(typeof j.tscKhz === "number" && j.tscKhz > 0);
  assert(j.hypercalls === "works" || j.hypercalls === "unavailable", String(j.hypercallDetail));
  if (j.hypercalls === "unavailable") {
    assert(
      String(j.hypercallDetail).includes("hypercalls unavailable on this host (the vCPU hangs)"),
    );
  }
  assert(typeof j.pioExitUs === "number" && j.pioExitUs > 0);
});

kvmTest("pvkit doctor prints a table", async () => {
  const { lines, io } = capture();
  assertEquals(await runCli(["doctor"], io), 0);
  const text = lines.join("\n");
  assert(text.includes("KVM API version"));
  assert(text.includes("KVM_CAP_EXIT_HYPERCALL (201)"));
  assert(text.includes("port-I/O exit round trip"));
});

Deno.test("pvkit doctor rejects unknown options with exit 2", async () => {
  const { errs, io } = capture();
  assertEquals(await runCli(["doctor", "--bogus"], io), 2);
  assert(errs[0].includes("unknown option --bogus"));
});
