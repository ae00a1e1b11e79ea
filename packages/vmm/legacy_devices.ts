/**
 * The legacy PC devices of pvkit's VMM, wired for its vCPU threads: the main thread creates
 * their shared state once ({@linkcode createLegacyDevices}), each vCPU Worker attaches its own
 * views with {@linkcode attachLegacyDevices} and gets the port dispatcher its exit loop calls.
 *
 * Ports (everything else KVM's in-kernel irqchip and PIT handle, or nobody: an absent ISA
 * device reads as all ones):
 * - 0x3F8-0x3FF: COM1, a 16550A UART on IRQ 4 (the console),
 * - 0x60, 0x64: the i8042 keyboard controller (its reset line ends the VM),
 * - 0x70, 0x71: the MC146818 CMOS clock,
 * - 0x80: the POST diagnostic port, ignored (Linux's `io_delay` writes it, unless
 *   KVM_FEATURE_NOP_IO_DELAY lets it skip the delay).
 *
 * @module
 */

import { CmosRtc } from "./cmos_rtc.ts";
import { ConsoleRing } from "./console_ring.ts";
import { I8042 } from "./i8042.ts";
import { legacyPortBus, PortBus } from "./port_bus.ts";
import { COM1_IRQ, Uart16550 } from "./uart16550.ts";
import type { ExitLoopPorts } from "./vcpu_exit_loop.ts";

/** The devices' shared state, posted to each vCPU Worker. */
export interface LegacyDeviceBuffers {
  /** The UART's registers. */
  readonly uart: SharedArrayBuffer;
  /** The console ring the UART transmits into. */
  readonly console: SharedArrayBuffer;
  /** The keyboard controller's state. */
  readonly i8042: SharedArrayBuffer;
  /** The CMOS clock's state. */
  readonly rtc: SharedArrayBuffer;
  /** Accesses to unclaimed ports, by port (Uint32). */
  readonly unclaimedPorts: SharedArrayBuffer;
}

/** The main thread's side: the buffers, and the console ring to drain. */
export interface LegacyDevices {
  /** Post these to each vCPU Worker. */
  readonly buffers: LegacyDeviceBuffers;
  /** The console output (drain it on the main thread). */
  readonly console: ConsoleRing;
}

/** What a vCPU thread provides to its devices. */
export interface LegacyDeviceHooks {
  /** Drives ISA interrupt line `irq` (KVM_IRQ_LINE). */
  readonly setIrq: (irq: number, level: 0 | 1) => void;
  /** The guest reset the machine. */
  readonly requestReset: () => void;
}

/**
 * Creates the devices' shared state at power-on. `unclaimedPorts` is where port accesses no
 * device claims are counted (default: a new buffer).
 *
 * @example
 * ```ts
 * import { attachLegacyDevices, createLegacyDevices } from "@pvkit/vmm";
 * const devices = createLegacyDevices();
 * const ports = attachLegacyDevices(devices.buffers, { setIrq: () => {}, requestReset: () => {} });
 * ports.write(0x3f8, 1, 0x41); // "A" on the console
 * console.log(devices.console.drain(), ports.read(0x2f8, 1)); // Uint8Array(1) [ 65 ] 255
 * ```
 */
export function createLegacyDevices(
  unclaimedPorts: SharedArrayBuffer = PortBus.createUnhandledCounts(),
): LegacyDevices {
  const console = ConsoleRing.create();
  return {
    console,
    buffers: {
      uart: Uart16550.createState(),
      console: console.buffer,
      i8042: I8042.createState(),
      rtc: CmosRtc.createState(),
      unclaimedPorts,
    },
  };
}

/**
 * A vCPU thread's port dispatcher over the shared devices. Allocation-free per access.
 */
export function attachLegacyDevices(
  buffers: LegacyDeviceBuffers,
  hooks: LegacyDeviceHooks,
): ExitLoopPorts {
  return legacyPortBus({
    uart: new Uart16550(buffers.uart, {
      ring: ConsoleRing.attach(buffers.console),
      setIrq: (level) => hooks.setIrq(COM1_IRQ, level),
    }),
    i8042: new I8042(buffers.i8042, { requestReset: hooks.requestReset }),
    rtc: new CmosRtc(buffers.rtc),
    unhandledCounts: buffers.unclaimedPorts,
  });
}
