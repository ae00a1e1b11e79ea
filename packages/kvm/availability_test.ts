import { assertEquals } from "@std/assert";
import { probeKvm } from "./availability.ts";
import { Errno } from "./errno.ts";
import { ffiPermitted } from "./libc.ts";
import { openFailureReason } from "./_open_failure.ts";
import { ffiTest, KVM, kvmTest } from "./_test_utils.ts";

Deno.test("probeKvm never throws and always gives a version or a reason", () => {
  for (const path of ["/dev/kvm", "/nonexistent/kvm", "/dev/null", "/", "bad\0path"]) {
    const r = probeKvm(path);
    if (r.usable) assertEquals(r.apiVersion, 12);
    else assertEquals(r.reason.length > 0, true);
  }
  if (!ffiPermitted()) {
    assertEquals(KVM, {
      usable: false,
      reason: "Deno FFI is not permitted (run with --allow-ffi)",
    });
  }
});

ffiTest("probeKvm explains a missing device and a device that is not KVM", () => {
  assertEquals(probeKvm("/nonexistent/kvm"), {
    usable: false,
    reason: "/nonexistent/kvm does not exist",
  });
  assertEquals(probeKvm("/dev/null"), {
    usable: false,
    reason: "/dev/null is not a KVM device (KVM_GET_API_VERSION failed: ENOTTY (25))",
  });
});

Deno.test("open failures read as actionable reasons", () => {
  assertEquals(openFailureReason("/dev/kvm", Errno.ENOENT), "/dev/kvm does not exist");
  assertEquals(openFailureReason("/dev/kvm", Errno.EACCES), "permission denied opening /dev/kvm");
  assertEquals(openFailureReason("/dev/kvm", Errno.EPERM), "permission denied opening /dev/kvm");
  assertEquals(
    openFailureReason("/dev/kvm", Errno.ENXIO),
    "/dev/kvm has no KVM driver behind it (ENXIO)",
  );
  assertEquals(openFailureReason("/dev/kvm", Errno.EBUSY), "opening /dev/kvm failed: EBUSY (16)");
});

const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

Deno.test({
  name: canRun
    ? "probeKvm without --allow-ffi says FFI is not permitted"
    : "probeKvm without --allow-ffi says FFI is not permitted (skipped: needs --allow-run)",
  ignore: !canRun,
  async fn() {
    const script = `import { probeKvm } from ${
      JSON.stringify(new URL("./availability.ts", import.meta.url).href)
    }; console.log(JSON.stringify(probeKvm()));`;
    // `deno eval` grants every permission, so feed the script to `deno run -` instead.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", "-"],
      cwd: new URL("../..", import.meta.url).pathname,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdin = child.stdin.getWriter();
    await stdin.write(new TextEncoder().encode(script));
    await stdin.close();
    const out = await child.output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
      usable: false,
      reason: "Deno FFI is not permitted (run with --allow-ffi)",
    });
  },
});

kvmTest("probeKvm finds /dev/kvm usable with API version 12", () => {
  assertEquals(probeKvm(), { usable: true, apiVersion: 12 });
});
