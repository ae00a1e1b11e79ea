import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { CmosRtc } from "./cmos_rtc.ts";
import { ConsoleRing } from "./console_ring.ts";
import { I8042 } from "./i8042.ts";
import { legacyPortBus, PortBus, type PortIoDevice, POST_PORT } from "./port_bus.ts";
import { Uart16550 } from "./uart16550.ts";

/** A byte-wide device recording its accesses; reads return 0xA0 + offset. */
function recorder() {
  const log: string[] = [];
  const device: PortIoDevice = {
    read: (offset) => {
      log.push(`r${offset}`);
      return 0xa0 + offset;
    },
    write: (offset, value) => void log.push(`w${offset}=${value.toString(16)}`),
  };
  return { device, log };
}

Deno.test("port bus: unknown ports read all ones by size and ignore writes", () => {
  const bus = new PortBus();
  assertEquals(bus.read(0x2f8, 1), 0xff);
  assertEquals(bus.read(0x2f8, 2), 0xffff);
  assertEquals(bus.read(0x2f8, 4), 0xffffffff);
  bus.write(0x2f8, 4, 0x12345678);
  assertEquals(bus.read(0x2f8, 1), 0xff);
});

Deno.test("port bus: unknown-port accesses are counted per port", () => {
  const bus = new PortBus();
  bus.read(0xcf8, 4);
  bus.write(0xcf8, 4, 0x80000000);
  bus.read(0xcfc, 2);
  bus.write(0x3e8, 1, 0);
  assertEquals(bus.unhandledCount(0xcf8), 2);
  assertEquals(bus.unhandledCount(0xcf9), 0, "a wide access counts once, at its port");
  assertEquals(bus.unhandledPorts(), [
    { port: 0x3e8, accesses: 1 },
    { port: 0xcf8, accesses: 2 },
    { port: 0xcfc, accesses: 1 },
  ]);
});

Deno.test("port bus: counts shared by the buses of several Workers", () => {
  const counts = PortBus.createUnhandledCounts();
  const a = new PortBus({ unhandledCounts: counts });
  const b = new PortBus({ unhandledCounts: counts });
  a.read(0x500, 1);
  b.read(0x500, 1);
  assertEquals(a.unhandledCount(0x500), 2);
  assertEquals(new Uint32Array(counts)[0x500], 2);
});

Deno.test("port bus: mapped devices see offsets; wide accesses go byte by byte", () => {
  const { device, log } = recorder();
  const bus = new PortBus().map(0x100, 4, device, 8);
  assertEquals(bus.read(0x101, 1), 0xa9);
  bus.write(0x100, 2, 0xbeef);
  assertEquals(bus.read(0x100, 4), 0xabaaa9a8);
  assertEquals(log, ["r9", "w8=ef", "w9=be", "r8", "r9", "r10", "r11"]);
  assertEquals(bus.unhandledPorts(), []);
});

Deno.test("port bus: an access straddling a device's end is all ones beyond it, and counted", () => {
  const { device } = recorder();
  const bus = new PortBus().map(0x100, 2, device);
  assertEquals(bus.read(0x101, 2), 0xffa1);
  assertEquals(bus.read(0x100, 4), 0xffffa1a0);
  assertEquals(bus.unhandledCount(0x101), 1);
  assertEquals(bus.unhandledCount(0x100), 1);
});

Deno.test("port bus: POST port 0x80 is ignored, not counted", () => {
  const bus = legacyPortBus({});
  bus.write(POST_PORT, 1, 0x55);
  assertEquals(bus.read(POST_PORT, 1), 0xff);
  assertEquals(bus.unhandledPorts(), []);
});

Deno.test("port bus: mistakes in mappings and sizes are refused", () => {
  const { device } = recorder();
  const bus = new PortBus().map(0x3f8, 8, device);
  const overlap = assertThrows(() => bus.map(0x3ff, 1, device));
  assert(overlap instanceof PvkitError && overlap.code === "port-overlap", String(overlap));
  assertThrows(() => bus.ignore(0x3f8), PvkitError);
  for (const [base, length] of [[-1, 1], [0xffff, 2], [0x10, 0], [1.5, 1]]) {
    const e = assertThrows(() => bus.map(base, length, device));
    assert(e instanceof PvkitError && e.code === "port-range", `${base}+${length}`);
  }
  const e = assertThrows(() => bus.read(0x3f8, 3));
  assert(e instanceof PvkitError && e.code === "port-size");
  assertThrows(() => bus.write(0x3f8, 8, 0), PvkitError);
  assertThrows(() => new PortBus({ unhandledCounts: new SharedArrayBuffer(16) }), PvkitError);
});

Deno.test("port bus: legacyPortBus wires COM1, the i8042 and the RTC", () => {
  const ring = ConsoleRing.create(64);
  const resets: number[] = [];
  const bus = legacyPortBus({
    uart: new Uart16550(Uart16550.createState(), { ring }),
    i8042: new I8042(I8042.createState(), { requestReset: () => resets.push(1) }),
    rtc: new CmosRtc(CmosRtc.createState(), { clock: () => Date.UTC(2025, 4, 6, 7, 8, 9) }),
  });
  // COM1: THR at 0x3F8, LSR at 0x3FD, SCR at 0x3FF.
  bus.write(0x3f8, 1, 0x4f);
  assertEquals([...ring.drain()], [0x4f]);
  assertEquals(bus.read(0x3fd, 1), 0x60);
  bus.write(0x3ff, 1, 0x5a);
  assertEquals(bus.read(0x3ff, 1), 0x5a);
  // i8042: status at 0x64, the answer at 0x60, reset by 0xFE.
  assertEquals(bus.read(0x64, 1), 0);
  bus.write(0x64, 1, 0xaa);
  assertEquals([bus.read(0x64, 1), bus.read(0x60, 1)], [1, 0x55]);
  bus.write(0x64, 1, 0xfe);
  assertEquals(resets, [1]);
  // RTC: index at 0x70, data at 0x71.
  bus.write(0x70, 1, 0x09);
  assertEquals(bus.read(0x71, 1), 0x25);
  bus.write(0x70, 1, 0x04);
  assertEquals(bus.read(0x71, 1), 0x07);
  // 0x61-0x63 stay unmapped (0x61 never exits with KVM_PIT_SPEAKER_DUMMY).
  assertEquals(bus.read(0x62, 1), 0xff);
  assertEquals(bus.unhandledPorts(), [{ port: 0x62, accesses: 1 }]);
});
