import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { decodeKvmStatDescriptors, decodeKvmStatsHeader, KvmSystem } from "./mod.ts";
import { countOpenFds, kvmTest } from "./_test_utils.ts";

Deno.test("stats header and descriptors decode (type, unit, base, exponent, name)", () => {
  const header = new Uint8Array(24);
  const hv = new DataView(header.buffer);
  [0, 48, 2, 24, 72, 232].forEach((x, i) => hv.setUint32(i * 4, x, true));
  assertEquals(decodeKvmStatsHeader(header), {
    flags: 0,
    nameSize: 48,
    numDesc: 2,
    idOffset: 24,
    descOffset: 72,
    dataOffset: 232,
  });

  const block = new Uint8Array(2 * (16 + 48));
  const v = new DataView(block.buffer);
  const enc = new TextEncoder();
  // exits: cumulative, no unit, base 10, size 1, offset 0.
  v.setUint16(6, 1, true);
  block.set(enc.encode("exits"), 16);
  // halt_wait_ns: peak (2), seconds (2 << 4), base 10, exponent -9, offset 8.
  v.setUint32(64, 2 | (2 << 4), true);
  v.setInt16(68, -9, true);
  v.setUint16(70, 1, true);
  v.setUint32(72, 8, true);
  block.set(enc.encode("halt_wait_ns"), 64 + 16);
  const [exits, wait] = decodeKvmStatDescriptors(block, 2, 48);
  assertEquals([exits.name, exits.type, exits.unit, exits.size, exits.offset], [
    "exits",
    "cumulative",
    "none",
    1,
    0,
  ]);
  assertEquals([wait.name, wait.type, wait.unit, wait.exponent, wait.base, wait.offset], [
    "halt_wait_ns",
    "peak",
    "seconds",
    -9,
    10,
    8,
  ]);
  assertThrows(() => decodeKvmStatDescriptors(block, 3, 48), PvkitError, "need");
});

kvmTest("vCPU and VM stats fds: names, id, values, unknown names, no fd leak", () => {
  using sys = KvmSystem.open();
  using vm = sys.kvmCreateVm();
  const vcpu = vm.kvmCreateVcpu(0);
  const fds = countOpenFds();
  {
    using stats = vcpu.kvmGetStatsFd();
    for (const name of ["exits", "halt_exits", "io_exits", "signal_exits"]) {
      assert(stats.names.includes(name), `no ${name} in ${stats.names.join(",")}`);
    }
    assert(stats.id.endsWith("vcpu-0"), stats.id);
    assertEquals(stats.read("io_exits"), 0n);
    assertEquals(stats.readAll().get("exits"), stats.read("exits"));
    const hist = stats.descriptors.find((d) => d.type === "log-hist" || d.type === "linear-hist");
    if (hist) assertEquals(stats.readValues(hist.name).length, hist.size);
    assertThrows(() => stats.read("no_such_stat"), PvkitError, "no statistic");
  }
  {
    using vmStats = vm.kvmGetStatsFd();
    assert(vmStats.names.length > 0);
    assert(!vmStats.id.includes("vcpu"), vmStats.id);
  }
  // Other tests in the same process may close descriptors meanwhile: a leak only grows.
  assertEquals(countOpenFds() <= fds, true, `fds grew from ${fds} to ${countOpenFds()}`);
});
