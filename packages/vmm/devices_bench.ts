/**
 * The cost of a port-I/O access in the legacy devices (deno bench -A
 * packages/vmm/devices_bench.ts): 1M console characters the way printk's 8250 console sends
 * them (LSR read, THR write), straight to the UART and through the port bus, with a sink that
 * keeps nothing and with a ConsoleRing that is drained every 64 KiB. Each access takes and
 * releases the UART's lock; none should allocate, so the times stay flat with no GC spikes.
 * For scale: a port-I/O exit round trip through KVM costs about 7 µs on the reference host.
 */

import { ConsoleRing } from "./console_ring.ts";
import { legacyPortBus } from "./port_bus.ts";
import { Uart16550 } from "./uart16550.ts";

const CHARS = 1_000_000;
const LSR = 5;
const THR = 0;

function sendAll(uart: Uart16550): void {
  for (let i = 0; i < CHARS; i++) {
    if (!(uart.read(LSR) & 0x20)) throw new Error("THR not empty");
    uart.write(THR, 0x41 + (i & 15));
  }
}

const discard = new Uart16550(Uart16550.createState(), { ring: { push: () => true } });
Deno.bench({
  name: "1M x (LSR read + THR write), sink that keeps nothing",
  group: "uart",
  baseline: true,
  n: 10,
  warmup: 2,
  fn() {
    sendAll(discard);
  },
});

const ring = ConsoleRing.create(256 * 1024, { fullWaitMs: 0 });
const ringed = new Uart16550(Uart16550.createState(), { ring });
Deno.bench({
  name: "1M x (LSR read + THR write) into a ConsoleRing, drained every 64 KiB",
  group: "uart",
  n: 10,
  warmup: 2,
  fn() {
    for (let i = 0; i < CHARS; i++) {
      if (!(ringed.read(LSR) & 0x20)) throw new Error("THR not empty");
      ringed.write(THR, 0x41 + (i & 15));
      if ((i & 0xffff) === 0xffff) ring.drain();
    }
    ring.drain();
    if (ring.dropped !== 0) throw new Error(`${ring.dropped} bytes dropped`);
  },
});

const bus = legacyPortBus({
  uart: new Uart16550(Uart16550.createState(), { ring: { push: () => true } }),
});
Deno.bench({
  name: "1M x (LSR read + THR write) through legacyPortBus",
  group: "uart",
  n: 10,
  warmup: 2,
  fn() {
    for (let i = 0; i < CHARS; i++) {
      if (!(bus.read(0x3fd, 1) & 0x20)) throw new Error("THR not empty");
      bus.write(0x3f8, 1, 0x41 + (i & 15));
    }
  },
});
