// `pvkit boot`'s answers to a user's mistakes, on any machine: every one is found before KVM is
// touched, so these run without /dev/kvm and give the same messages everywhere.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { probeKvm } from "@pvkit/kvm";
import { syntheticBzImage } from "../packages/vmm/_test_bzimage.ts";
import { cli } from "./_cli.ts";

const dir = Deno.makeTempDirSync({ prefix: "pvkit-boot-test-" });
const file = (name: string, bytes: Uint8Array) => {
  const path = `${dir}/${name}`;
  Deno.writeFileSync(path, bytes);
  return path;
};
const kernel = file("bzImage", syntheticBzImage());
const initrd = file("initrd.cpio", new Uint8Array(4096));

async function fails(argv: string[], ...expected: (string | RegExp)[]): Promise<string> {
  const r = await cli("boot", ...argv);
  assertEquals(r.status, 2, `status of pvkit boot ${argv.join(" ")}: ${r.err}`);
  assertEquals(r.out, "", "nothing on stdout");
  for (const e of expected) {
    if (typeof e === "string") assertStringIncludes(r.err, e);
    else assertMatch(r.err, e);
  }
  assert(!r.err.includes("    at "), `no stack trace: ${r.err}`);
  return r.err;
}

Deno.test("pvkit boot: -kernel is required, and --help explains the command", async () => {
  await fails([], "pvkit boot needs -kernel FILE", "deno task linux-guest");
  const help = await cli("boot", "--help");
  assertEquals(help.status, 0);
  assertStringIncludes(help.out, "usage: pvkit boot -kernel FILE");
});

Deno.test("pvkit boot: a missing kernel or initrd names the file", async () => {
  await fails(["-kernel", `${dir}/nope`], `kernel ${dir}/nope: no such file`);
  await fails(
    ["-kernel", kernel, "-initrd", `${dir}/none.cpio`],
    `initrd ${dir}/none.cpio: no such file`,
  );
  await fails(["-kernel", dir], "is not a regular file");
});

Deno.test("pvkit boot: a file that is not a bzImage, or too old a boot protocol, is refused", async () => {
  await fails(["-kernel", file("zeros", new Uint8Array(8192))], "is not a bzImage");
  const elf = new Uint8Array(8192);
  elf.set([0x7f, 0x45, 0x4c, 0x46]);
  await fails(["-kernel", file("vmlinux", elf)], /ELF/);
  await fails(
    ["-kernel", file("old", syntheticBzImage({ version: 0x0206 }))],
    "boot protocol 2.06 is too old",
  );
  await fails(["-kernel", file("empty", new Uint8Array(0))], "bzImage");
});

Deno.test("pvkit boot: machines pvkit's VMM cannot run are refused with the reason", async () => {
  await fails(
    ["-kernel", kernel, "-machine", "pc,kernel-irqchip=off"],
    "kernel-irqchip=on, not off",
  );
  await fails(
    ["-kernel", kernel, "-machine", "q35,kernel-irqchip=split"],
    "kernel-irqchip=on, not split",
  );
  await fails(["-kernel", kernel, "-accel", "tcg"], "runs on KVM only");
  await fails(["-kernel", kernel, "-cpu", "host,kvm-pv-ipi=maybe"], "cannot be composed");
});

Deno.test("pvkit boot: sizes and limits", async () => {
  await fails(["-kernel", kernel, "-m", "lots"], "-m takes a size");
  await fails(["-kernel", kernel, "-m", "8"], "-m takes a size from 16M");
  const big = file("big", syntheticBzImage({ initSize: 200 << 20 }));
  await fails(["-kernel", big, "-m", "64"], "too small", "with -m");
  await fails(["-kernel", kernel, "--timeout", "0"], "--timeout");
  await fails(["-kernel", kernel, "-append", "x".repeat(5000)], /command line/i);
});

Deno.test({
  name: "pvkit boot: without a usable /dev/kvm, it says where a real KVM is (pvkit nested)",
  ignore: probeKvm().usable,
  fn: async () => {
    await fails(
      ["-kernel", kernel, "-initrd", initrd, "--quiet"],
      "needs a usable /dev/kvm",
      "pvkit nested",
    );
  },
});
