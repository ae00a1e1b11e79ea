/**
 * {@linkcode PortBus}: the x86 I/O port space of a VM, for a vCPU Worker's KVM_EXIT_IO
 * handler. Devices are mapped to port ranges once at setup; `read`/`write` then dispatch
 * through a 64 Ki-entry table without allocating.
 *
 * A port no device decodes behaves as on an ISA bus with nothing there: reads float to all
 * ones (0xFF per byte) and writes vanish. Each access to such a port is counted per port, in
 * a SharedArrayBuffer every vCPU Worker's bus can share, for an "unhandled port I/O" report.
 * Wider accesses (2 or 4 bytes) reach byte-wide devices one byte at a time, port by port,
 * little-endian, as an 8-bit ISA device sees them.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { type CmosRtc, RTC_INDEX_PORT } from "./cmos_rtc.ts";
import { type I8042, I8042_COMMAND_PORT, I8042_DATA_PORT } from "./i8042.ts";
import { COM1_PORT_BASE, type Uart16550, UART_PORT_COUNT } from "./uart16550.ts";

/** A byte-wide port-I/O device: `offset` is the port minus its mapping's base (plus `first`). */
export interface PortIoDevice {
  /** Reads one byte. */
  read(offset: number): number;
  /** Writes one byte. */
  write(offset: number, value: number): void;
}

/** One port that guests touched with no device behind it. */
export interface UnhandledPort {
  /** The port number. */
  port: number;
  /** Reads and writes counted there (an access of 2 or 4 bytes counts once, at its port). */
  accesses: number;
}

/** Options of a {@linkcode PortBus}. */
export interface PortBusOptions {
  /**
   * Where to count accesses to unmapped ports: a buffer from
   * {@linkcode PortBus.createUnhandledCounts}, shared by every vCPU Worker's bus so the main
   * thread can report them. Default: a new one ({@linkcode PortBus.unhandledCounts}).
   */
  unhandledCounts?: SharedArrayBuffer;
}

/** The POST diagnostic port: BIOSes write progress codes, Linux writes it as an I/O delay. */
export const POST_PORT = 0x80;
/** Number of x86 I/O ports. */
export const PORT_SPACE = 0x10000;

const UNMAPPED = 0;
const IGNORED = 1;
const FIRST_DEVICE_SLOT = 2;
const MAX_MAPPINGS = 256 - FIRST_DEVICE_SLOT;

/**
 * The I/O port space: devices mapped to ranges, all-ones for the rest.
 *
 * @example
 * ```ts
 * import { PortBus } from "@pvkit/vmm";
 * const scratch = new Uint8Array(4);
 * const bus = new PortBus().map(0x510, 4, {
 *   read: (offset) => scratch[offset],
 *   write: (offset, value) => scratch[offset] = value,
 * });
 * bus.write(0x510, 2, 0xbeef);
 * console.log(bus.read(0x510, 4).toString(16), bus.read(0x2f8, 1).toString(16)); // beef ff
 * console.log(bus.unhandledPorts()); // [ { port: 760, accesses: 1 } ]
 * ```
 */
export class PortBus {
  /** The per-port counts of accesses to unmapped ports (Uint32 per port, shared). */
  readonly unhandledCounts: SharedArrayBuffer;
  readonly #counts: Uint32Array;
  readonly #slots = new Uint8Array(PORT_SPACE);
  readonly #devices: PortIoDevice[] = [];
  readonly #bases: number[] = [];

  /** An empty port space (every port unmapped). */
  constructor(options: PortBusOptions = {}) {
    const counts = options.unhandledCounts ?? PortBus.createUnhandledCounts();
    if (!(counts instanceof SharedArrayBuffer) || counts.byteLength !== PORT_SPACE * 4) {
      throw new PvkitError(
        "port-bus-counts",
        `port bus: unhandledCounts is not a ${PORT_SPACE * 4}-byte SharedArrayBuffer`,
        "pass the buffer PortBus.createUnhandledCounts() returned",
      );
    }
    this.unhandledCounts = counts;
    this.#counts = new Uint32Array(counts);
  }

  /**
   * A zeroed buffer for {@linkcode PortBusOptions.unhandledCounts} (one Uint32 per port, 256
   * KiB).
   *
   * @example
   * ```ts
   * import { PortBus } from "@pvkit/vmm";
   * const counts = PortBus.createUnhandledCounts(); // post to every vCPU Worker
   * const a = new PortBus({ unhandledCounts: counts }), b = new PortBus({ unhandledCounts: counts });
   * a.read(0x2f8, 1);
   * b.write(0x2f8, 1, 0);
   * console.log(a.unhandledCount(0x2f8)); // 2
   * ```
   */
  static createUnhandledCounts(): SharedArrayBuffer {
    return new SharedArrayBuffer(PORT_SPACE * 4);
  }

  /**
   * Maps ports `base` … `base + length - 1` to `device`, which sees offsets `first` …
   * `first + length - 1`. Throws `PvkitError` on a range outside 0-0xFFFF or one overlapping
   * an earlier mapping. Returns the bus, to chain.
   *
   * @example
   * ```ts
   * import { I8042, I8042_COMMAND_PORT, I8042_DATA_PORT, PortBus } from "@pvkit/vmm";
   * const kbc = new I8042(I8042.createState(), { requestReset: () => console.log("reset") });
   * // Two one-port mappings: 0x61-0x63 belong to others (0x61 is the PIT's speaker port).
   * const bus = new PortBus().map(I8042_DATA_PORT, 1, kbc, 0).map(I8042_COMMAND_PORT, 1, kbc, 4);
   * bus.write(0x64, 1, 0xfe); // prints "reset"
   * ```
   */
  map(base: number, length: number, device: PortIoDevice, first = 0): this {
    const end = base + length;
    if (
      !Number.isInteger(base) || !Number.isInteger(length) || !Number.isInteger(first) ||
      base < 0 || length < 1 || end > PORT_SPACE || first < 0
    ) {
      throw new PvkitError(
        "port-range",
        `port bus: ports ${base} + ${length} (offset ${first}) are not a range within 0-0xffff`,
        "give a whole base port from 0 to 0xffff and a length of at least 1 that stays below 0x10000",
      );
    }
    if (this.#devices.length >= MAX_MAPPINGS) {
      throw new PvkitError("port-range", `port bus: more than ${MAX_MAPPINGS} mappings`);
    }
    this.#checkFree(base, end);
    const slot = FIRST_DEVICE_SLOT + this.#devices.length;
    this.#devices.push(device);
    this.#bases.push(base - first);
    this.#slots.fill(slot, base, end);
    return this;
  }

  /**
   * Claims `port` for a device that is not there and need not be reported: reads all ones,
   * writes dropped, nothing counted (e.g. {@linkcode POST_PORT}). Returns the bus, to chain.
   *
   * @example
   * ```ts
   * import { PortBus, POST_PORT } from "@pvkit/vmm";
   * const bus = new PortBus().ignore(POST_PORT);
   * bus.write(POST_PORT, 1, 0x00); // Linux's outb_p delay
   * console.log(bus.unhandledPorts().length); // 0
   * ```
   */
  ignore(port: number): this {
    if (!Number.isInteger(port) || port < 0 || port >= PORT_SPACE) {
      throw new PvkitError("port-range", `port bus: port ${port} is not within 0-0xffff`);
    }
    this.#checkFree(port, port + 1);
    this.#slots[port] = IGNORED;
    return this;
  }

  /**
   * An IN of `size` (1, 2 or 4) bytes at `port` (KVM_EXIT_IO, direction in): the device's
   * bytes, all ones where no device is mapped; throws `PvkitError` on another size. A string or REP access (`count` > 1 in kvm_run) is `count`
   * calls. Allocates nothing.
   *
   * @example
   * ```ts
   * import { PortBus } from "@pvkit/vmm";
   * const bus = new PortBus();
   * console.log([1, 2, 4].map((size) => bus.read(0x1234, size).toString(16)));
   * // [ "ff", "ffff", "ffffffff" ]
   * ```
   */
  read(port: number, size: number): number {
    if (size === 1) {
      const slot = this.#slots[port];
      if (slot >= FIRST_DEVICE_SLOT) {
        const k = slot - FIRST_DEVICE_SLOT;
        return this.#devices[k].read(port - this.#bases[k]) & 0xff;
      }
      if (slot === UNMAPPED) Atomics.add(this.#counts, port, 1);
      return 0xff;
    }
    if (size !== 2 && size !== 4) throw badSize(port, size);
    let value = 0;
    let unmapped = false;
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const slot = this.#slots[p];
      let byte = 0xff;
      if (slot >= FIRST_DEVICE_SLOT) {
        const k = slot - FIRST_DEVICE_SLOT;
        byte = this.#devices[k].read(p - this.#bases[k]) & 0xff;
      } else if (slot === UNMAPPED) {
        unmapped = true;
      }
      value |= byte << (8 * i);
    }
    if (unmapped) Atomics.add(this.#counts, port, 1);
    return size === 4 ? value >>> 0 : value & 0xffff;
  }

  /**
   * An OUT of `size` (1, 2 or 4) bytes of `value` at `port` (KVM_EXIT_IO, direction out);
   * dropped where no device is mapped. Allocates nothing.
   *
   * @example
   * ```ts
   * import { ConsoleRing, PortBus, Uart16550 } from "@pvkit/vmm";
   * const ring = ConsoleRing.create(64);
   * const bus = new PortBus().map(0x3f8, 8, new Uart16550(Uart16550.createState(), { ring }));
   * bus.write(0x3f8, 1, 0x21);
   * console.log(ring.drain()); // Uint8Array(1) [ 33 ]
   * ```
   */
  write(port: number, size: number, value: number): void {
    if (size === 1) {
      const slot = this.#slots[port];
      if (slot >= FIRST_DEVICE_SLOT) {
        const k = slot - FIRST_DEVICE_SLOT;
        this.#devices[k].write(port - this.#bases[k], value & 0xff);
      } else if (slot === UNMAPPED) {
        Atomics.add(this.#counts, port, 1);
      }
      return;
    }
    if (size !== 2 && size !== 4) throw badSize(port, size);
    let unmapped = false;
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const slot = this.#slots[p];
      if (slot >= FIRST_DEVICE_SLOT) {
        const k = slot - FIRST_DEVICE_SLOT;
        this.#devices[k].write(p - this.#bases[k], (value >>> (8 * i)) & 0xff);
      } else if (slot === UNMAPPED) {
        unmapped = true;
      }
    }
    if (unmapped) Atomics.add(this.#counts, port, 1);
  }

  /**
   * Accesses counted at unmapped `port` so far (by every bus sharing the counts).
   *
   * @example
   * ```ts
   * import { PortBus } from "@pvkit/vmm";
   * const bus = new PortBus();
   * bus.read(0xcf8, 4);
   * console.log(bus.unhandledCount(0xcf8)); // 1
   * ```
   */
  unhandledCount(port: number): number {
    return Atomics.load(this.#counts, port);
  }

  /**
   * Every unmapped port accessed so far with its count, by port number (for a report).
   *
   * @example
   * ```ts
   * import { PortBus } from "@pvkit/vmm";
   * const bus = new PortBus();
   * bus.write(0x2f9, 1, 0);
   * bus.read(0x2f9, 1);
   * console.log(bus.unhandledPorts()); // [ { port: 761, accesses: 2 } ]
   * ```
   */
  unhandledPorts(): UnhandledPort[] {
    const ports: UnhandledPort[] = [];
    for (let port = 0; port < PORT_SPACE; port++) {
      const accesses = Atomics.load(this.#counts, port);
      if (accesses !== 0) ports.push({ port, accesses });
    }
    return ports;
  }

  #checkFree(base: number, end: number): void {
    for (let port = base; port < end; port++) {
      if (this.#slots[port] !== UNMAPPED) {
        throw new PvkitError(
          "port-overlap",
          `port bus: port 0x${port.toString(16)} is already mapped`,
          "give each device its own ports",
        );
      }
    }
  }
}

function badSize(port: number, size: number): PvkitError {
  return new PvkitError(
    "port-size",
    `port bus: an access of ${size} bytes at port 0x${port.toString(16)}`,
    "port I/O is 1, 2 or 4 bytes (kvm_run.io.size)",
  );
}

/** The legacy devices of a PC that a Linux guest needs, for {@linkcode legacyPortBus}. */
export interface LegacyPortDevices {
  /** COM1 at 0x3F8-0x3FF. */
  uart?: Uart16550;
  /** The keyboard controller at 0x60 and 0x64. */
  i8042?: I8042;
  /** The RTC/CMOS at 0x70-0x71. */
  rtc?: CmosRtc;
  /** Shared counts of unhandled port I/O ({@linkcode PortBus.createUnhandledCounts}). */
  unhandledCounts?: SharedArrayBuffer;
}

/**
 * A bus with the PC legacy devices at their usual ports, and POST port 0x80 ignored. Build one
 * per vCPU Worker over the devices' shared states.
 *
 * Ports that never reach it with KVM's in-kernel irqchip and PIT (KVM_CREATE_IRQCHIP,
 * KVM_CREATE_PIT2): the PICs 0x20/0x21 and 0xA0/0xA1, the ELCR 0x4D0/0x4D1, the PIT
 * 0x40-0x43, and 0x61 with KVM_PIT_SPEAKER_DUMMY. Everything else not mapped here reads as
 * all ones and is counted in {@linkcode PortBus.unhandledCounts}.
 *
 * @example
 * ```ts
 * import { CmosRtc, ConsoleRing, I8042, legacyPortBus, Uart16550 } from "@pvkit/vmm";
 * // Main thread: the shared states. Each vCPU Worker: the devices over them, and its bus.
 * const ring = ConsoleRing.create();
 * const states = { uart: Uart16550.createState(), i8042: I8042.createState(), rtc: CmosRtc.createState() };
 * const bus = legacyPortBus({
 *   uart: new Uart16550(states.uart, { ring: ConsoleRing.attach(ring.buffer) }),
 *   i8042: new I8042(states.i8042, { requestReset: () => {} }),
 *   rtc: new CmosRtc(states.rtc),
 * });
 * console.log(bus.read(0x3fd, 1).toString(16), bus.read(0x64, 1)); // 60 0
 * ```
 */
export function legacyPortBus(devices: LegacyPortDevices): PortBus {
  const bus = new PortBus({ unhandledCounts: devices.unhandledCounts });
  if (devices.uart) bus.map(COM1_PORT_BASE, UART_PORT_COUNT, devices.uart);
  if (devices.i8042) {
    bus.map(I8042_DATA_PORT, 1, devices.i8042, 0);
    bus.map(I8042_COMMAND_PORT, 1, devices.i8042, I8042_COMMAND_PORT - I8042_DATA_PORT);
  }
  if (devices.rtc) bus.map(RTC_INDEX_PORT, 2, devices.rtc);
  return bus.ignore(POST_PORT);
}
