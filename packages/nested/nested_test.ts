// Tests of @pvkit/nested that need no QEMU: the initramfs format, module order, the scripts
// and the QEMU command line.

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  cpioNewc,
  guestEnvironment,
  guestFailure,
  guestInitScript,
  jobScript,
  moduleLoadOrder,
  NestedError,
  nestedQemuArgs,
  nestedShares,
  parseModinfo,
  projectRoot,
  shellQuote,
} from "./mod.ts";

const text = new TextDecoder();

Deno.test("cpioNewc writes newc headers, 4-byte alignment and the trailer", () => {
  const bytes = cpioNewc([
    { kind: "dir", path: "/etc" },
    { kind: "file", path: "etc/a", data: new TextEncoder().encode("xyz"), mode: 0o755 },
    { kind: "symlink", path: "bin", target: "usr/bin" },
  ]);
  assertEquals(bytes.length % 4, 0);
  const s = text.decode(bytes);
  // Header 1: ino 1, mode 040755, name "etc" (namesize 4 with the NUL).
  assertEquals(s.slice(0, 6 + 16), "07070100000001000041ed");
  assertEquals(s.slice(6 + 11 * 8, 6 + 12 * 8), "00000004");
  assertEquals(s.slice(110, 113), "etc");
  // The file's header starts at 116 (110 + 4 rounded up to 4), mode 0100755, size 3.
  assertEquals(s.slice(116, 122), "070701");
  assertEquals(s.slice(116 + 14, 116 + 22), "000081ed");
  assertEquals(s.slice(116 + 54, 116 + 62), "00000003");
  assert(s.includes("etc/a\0"));
  assert(s.includes("xyz"));
  assert(s.includes("usr/bin"));
  assert(s.includes("TRAILER!!!\0"));
  assertEquals(cpioNewc([]).length % 4, 0);
});

/** A minimal ELF64 file with a `.modinfo` section holding `fields`. */
function fakeModule(fields: string[]): Uint8Array {
  const enc = new TextEncoder();
  const shstr = enc.encode("\0.shstrtab\0.modinfo\0");
  const info = enc.encode(fields.map((f) => `${f}\0`).join(""));
  const shoff = 0x40 + shstr.length + info.length;
  const out = new Uint8Array(shoff + 3 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, 3, true);
  v.setUint16(0x3e, 1, true);
  out.set(shstr, 0x40);
  out.set(info, 0x40 + shstr.length);
  const section = (i: number, name: number, offset: number, size: number) => {
    v.setUint32(shoff + i * 64, name, true);
    v.setBigUint64(shoff + i * 64 + 0x18, BigInt(offset), true);
    v.setBigUint64(shoff + i * 64 + 0x20, BigInt(size), true);
  };
  section(1, 1, 0x40, shstr.length);
  section(2, 11, 0x40 + shstr.length, info.length);
  return out;
}

Deno.test("parseModinfo reads name= and depends= from the .modinfo section", () => {
  const info = parseModinfo(fakeModule(["license=GPL", "depends=kvm,ccp", "name=kvm_amd"]), "k.ko");
  assertEquals(info, { name: "kvm_amd", depends: ["kvm", "ccp"] });
  assertEquals(parseModinfo(fakeModule(["depends=", "name=ccp"]), "c.ko").depends, []);
  assertThrows(() => parseModinfo(new Uint8Array(64), "x.ko"), NestedError, "not a 64-bit ELF");
  assertThrows(() => parseModinfo(fakeModule(["license=GPL"]), "y.ko"), NestedError, "no name=");
});

Deno.test("moduleLoadOrder puts dependencies first, once, and names what is missing", () => {
  const deps: Record<string, string[]> = {
    kvm_amd: ["kvm", "ccp"],
    kvm: ["irqbypass"],
    ccp: [],
    irqbypass: [],
    "9p": ["9pnet", "netfs"],
    "9pnet": [],
    netfs: [],
  };
  const files = new Map(Object.keys(deps).map((n) => [n, `${n}.ko`]));
  const readInfo = (m: { name: string }) => ({ name: m.name, depends: deps[m.name] });
  const order = moduleLoadOrder(["kvm-amd", "9p", "kvm"], files, { readInfo }).map((m) => m.name);
  assertEquals(order, ["irqbypass", "kvm", "ccp", "kvm_amd", "9pnet", "netfs", "9p"]);
  assertEquals(
    moduleLoadOrder(["kvm"], files, { readInfo, builtin: new Set(["irqbypass"]) }).map((m) =>
      m.name
    ),
    ["kvm"],
  );
  assertThrows(
    () => moduleLoadOrder(["kvm"], new Map([["kvm", "kvm.ko"]]), { readInfo }),
    NestedError,
    "irqbypass (needed by kvm) is not in this kernel package",
  );
  const cyclic = { a: ["b"], b: ["a"] } as Record<string, string[]>;
  assertThrows(
    () =>
      moduleLoadOrder(["a"], new Map([["a", "a"], ["b", "b"]]), {
        readInfo: (m) => ({ name: m.name, depends: cyclic[m.name] }),
      }),
    NestedError,
    "cycle",
  );
});

Deno.test("the job script mounts each share, sets the environment and quotes the command", () => {
  const script = jobScript({
    shares: [
      { hostPath: "/usr", guestPath: "/usr", access: "ro" },
      { hostPath: "/c", guestPath: "/c", access: "overlay" },
      { hostPath: "/w d", guestPath: "/w d", access: "rw" },
    ],
    env: { A: "it's" },
    cwd: "/w d",
    command: ["echo", "a b", "$HOME"],
  });
  assert(script.includes("ro,cache=loose pvkit0 '/usr'"));
  assert(script.includes("mount -t overlay -o lowerdir=/.pvkit/lower/pvkit1"));
  assert(script.includes("cache=mmap pvkit2 '/w d'"));
  assert(script.includes(`export A='it'\\''s'`));
  assert(
    script.includes(`'echo' 'a b' '$HOME' </dev/null >/.pvkit/run/stdout 2>/.pvkit/run/stderr`),
  );
  assert(script.includes(`command -v 'echo' >/dev/null 2>&1 || fail "command-not-found"`));
  assertEquals(shellQuote(""), "''");
});

Deno.test("the init script loads modules in order and reports failures as pvkit-init lines", () => {
  const init = guestInitScript();
  assert(init.startsWith("#!/.pvkit/busybox sh\n"));
  assert(init.includes('mark "module-failed $m"'));
  assert(init.includes("[ -c /dev/kvm ]"));
  assert(init.includes(". /.pvkit/run/job.sh"));
  assert(init.trimEnd().endsWith("$B poweroff -f"));
});

Deno.test("QEMU runs TCG with an SVM CPU, no defaults, and one 9p device per share", () => {
  const args = nestedQemuArgs({
    kernel: "/k/vmlinuz",
    initramfs: "/k/i.cpio",
    runDir: "/tmp/r,1",
    shares: [{ hostPath: "/usr", guestPath: "/usr", access: "ro" }, {
      hostPath: "/w",
      guestPath: "/w",
      access: "rw",
    }],
    smp: 2,
    memoryMiB: 1024,
  });
  const at = (flag: string) => args[args.indexOf(flag) + 1];
  assertEquals(at("-accel"), "tcg,thread=multi");
  assert(at("-cpu").startsWith("EPYC,+svm,+npt"));
  assertEquals(at("-m"), "1024M");
  assert(args.includes("-nodefaults") && args.includes("-no-reboot"));
  const virtfs = args.filter((_, i) => args[i - 1] === "-virtfs");
  assertEquals(virtfs, [
    "local,path=/tmp/r,,1,mount_tag=pvkit-run,security_model=none,multidevs=remap",
    "local,path=/usr,mount_tag=pvkit0,security_model=none,multidevs=remap,readonly=on",
    "local,path=/w,mount_tag=pvkit1,security_model=none,multidevs=remap",
  ]);
});

Deno.test("shares: /usr and Deno read-only, the cache as an overlay, the project read-write", () => {
  const shares = nestedShares(
    "/work/app",
    "/opt/deno/deno",
    "/nonexistent-deno-cache",
    "/nonexistent-pvkit-cache",
  );
  assertEquals(shares.map((s) => [s.guestPath, s.access]), [
    ["/usr", "ro"],
    ["/opt/deno", "ro"],
    ["/work/app", "rw"],
  ]);
  assertThrows(() => nestedShares("/", "/usr/bin/deno", "/x"), NestedError, "refusing to share /");
  const root = Deno.makeTempDirSync();
  Deno.mkdirSync(`${root}/a/b`, { recursive: true });
  Deno.writeTextFileSync(`${root}/deno.json`, "{}");
  assertEquals(projectRoot(`${root}/a/b`), root);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("shares: pvkit's cache read-only at the same path when it exists and is not shown already", () => {
  const cache = Deno.makeTempDirSync({ prefix: "pvkit-cache-" });
  try {
    const shares = nestedShares("/work/app", "/usr/bin/deno", "/nonexistent-deno-cache", cache);
    assertEquals(shares.map((s) => [s.hostPath, s.guestPath, s.access]), [
      ["/usr", "/usr", "ro"],
      ["/work/app", "/work/app", "rw"],
      [cache, cache, "ro"],
    ]);
    // Inside the project folder it is already visible (read-write): no second share.
    const inProject = nestedShares(cache.replace(/\/[^/]*$/, ""), "/usr/bin/deno", "/x", cache);
    assertEquals(inProject.filter((s) => s.hostPath === cache), []);
    // A missing cache folder is not shared.
    assertEquals(
      nestedShares("/work/app", "/usr/bin/deno", "/x", `${cache}/missing`).length,
      2,
    );
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});

Deno.test("the guest environment marks the job as nested and keeps host-only paths out", () => {
  const env = guestEnvironment({ EXTRA: "1" });
  assertEquals(env.PVKIT_NESTED, "tcg");
  assertEquals(env.EXTRA, "1");
  assert(env.PATH.startsWith(Deno.execPath().replace(/\/[^/]*$/, "")));
  assert(!("PVKIT_CACHE_DIR" in env));
});

Deno.test("guestFailure names the failed module with its dmesg lines, and each other stop", () => {
  const module = guestFailure(
    ["uptime 2.1", "module-failed kvm_amd", "dmesg kvm: no hardware support for 'kvm_amd'", "stop"],
    ["[ 2.0] boot"],
    "",
    0,
  );
  assertEquals(module.kind, "module-failed");
  assertEquals(
    module.message,
    "kernel module kvm_amd failed to load in the guest: kvm: no hardware support for 'kvm_amd'",
  );
  assertEquals(guestFailure(["no-kvm"], [], "", 0).kind, "module-failed");
  assertEquals(guestFailure(["command-not-found"], [], "", 0).kind, "command-not-found");
  const mount = guestFailure(["mount-failed pvkit1"], ["x"], "", 0);
  assertEquals([mount.kind, mount.message.includes("pvkit1")], ["guest-failed", true]);
  const early = guestFailure([], ["Kernel panic - not syncing"], "qemu: boom", 1);
  assertEquals(early.kind, "guest-failed");
  assert(
    early.message.includes("(QEMU exit 1): qemu: boom") && early.message.includes("Kernel panic"),
  );
});
