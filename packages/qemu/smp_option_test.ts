import { assertEquals, assertThrows } from "@std/assert";
import { QemuOptionError } from "./option_error.ts";
import { parseSmpOption } from "./smp_option.ts";

Deno.test("-smp N is one socket of N cores on current machine types, N sockets on 6.1 and older", () => {
  assertEquals(parseSmpOption("4"), {
    cpus: 4,
    maxCpus: 4,
    sockets: 1,
    dies: 1,
    cores: 4,
    threads: 1,
  });
  assertEquals(parseSmpOption("4", { preferSockets: true }), {
    cpus: 4,
    maxCpus: 4,
    sockets: 4,
    dies: 1,
    cores: 1,
    threads: 1,
  });
  assertEquals(parseSmpOption("1,maxcpus=256").maxCpus, 256);
  assertEquals(parseSmpOption("8,sockets=2").cores, 4);
});

Deno.test("QEMU's topology errors (texts checked against QEMU 7.2)", () => {
  const cases: [string, string][] = [
    [
      "4,sockets=3",
      "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)",
    ],
    [
      "2,maxcpus=1",
      "Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (1) * threads (1) == maxcpus (1) < smp_cpus (2)",
    ],
    ["abc", "Parameter 'smp.cpus' expects integer"],
    ["4,foo=1", "Parameter 'smp.foo' is unexpected"],
  ];
  for (const [text, message] of cases) {
    const e = assertThrows(() => parseSmpOption(text), QemuOptionError);
    assertEquals((e as Error).message, message);
  }
});

Deno.test("an explicit 0: QEMU 9.0+ refuses it, 6.2 to 8.2 warned and treated it as omitted", () => {
  for (const text of ["0", "4,sockets=0", "4,maxcpus=0", "2,threads=0"]) {
    const e = assertThrows(() => parseSmpOption(text), QemuOptionError);
    assertEquals(
      (e as Error).message,
      "Invalid CPU topology: CPU topology parameters must be greater than zero",
    );
  }
  const warnings: string[] = [];
  const topology = parseSmpOption("4,sockets=0", { zero: "warn", warn: (m) => warnings.push(m) });
  assertEquals([topology.cpus, topology.sockets, topology.cores], [4, 1, 4]);
  assertEquals(warnings, [
    "Deprecated CPU topology (considered invalid): CPU topology parameters must be greater than zero",
  ]);
});
