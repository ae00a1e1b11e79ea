/**
 * {@linkcode Uart16550}: the PC's COM1 serial port, a National Semiconductor 16550A UART, as
 * Linux's 8250 driver probes and drives it (drivers/tty/serial/8250/8250_port.c).
 *
 * The registers live in a SharedArrayBuffer ({@linkcode Uart16550.createState}) that every vCPU
 * Worker maps; each Worker builds its own `Uart16550` over it and calls `read`/`write` on its
 * port-I/O exits. Each access holds the state's lock and allocates nothing. Transmission is
 * instantaneous (THRE and TEMT stay set); transmitted bytes go to a {@linkcode ByteSink}, in
 * practice a {@linkcode ConsoleRing} that the main thread drains.
 *
 * Register and bit values: Linux include/uapi/linux/serial_reg.h. Behaviour: the PC16550D
 * datasheet (National Semiconductor/TI, SNLS378), as QEMU's hw/char/serial.c also models it.
 *
 * @module
 */

import type { ByteSink } from "./console_ring.ts";
import { deviceWords, LOCK, newDeviceState } from "./_device_state.ts";
import { lockWord, unlockWord } from "./_spin_lock.ts";

/** COM1's first I/O port (the PC's legacy map; Linux x86 asm/serial.h SERIAL_PORT_DFNS). */
export const COM1_PORT_BASE = 0x3f8;
/** COM1's ISA interrupt line (same source). */
export const COM1_IRQ = 4;
/** Ports a 16550 decodes: offsets 0-7 from its base. */
export const UART_PORT_COUNT = 8;
/**
 * Depth of the receive FIFO: 16 bytes on a 16550A. Linux counts it in loopback (size_fifo in
 * autoconfig_16550a) and would name a 64-byte FIFO a "U6_16550A" instead.
 */
export const UART_RX_FIFO_BYTES = 16;

// Register offsets (serial_reg.h).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

// IER: the four interrupt enables; the upper nibble reads as 0 on a 16550A.
const IER_RDI = 0x01; // received data available
const IER_THRI = 0x02; // transmitter holding register empty
const IER_RLSI = 0x04; // receiver line status
const IER_MSI = 0x08; // modem status
const IER_MASK = 0x0f;
// IIR: interrupt identification, highest priority first; bits 7:6 set while FIFOs are enabled.
const IIR_NO_INT = 0x01;
const IIR_RLSI = 0x06;
const IIR_RDI = 0x04;
const IIR_THRI = 0x02;
const IIR_MSI = 0x00;
const IIR_FIFO_ENABLED = 0xc0;
// FCR: bit 0 enables the FIFOs (changing it resets them), bits 1/2 clear RX/TX and self-clear;
// bit 3 DMA mode and bits 7:6 the RX trigger level are kept.
const FCR_ENABLE_FIFO = 0x01;
const FCR_CLEAR_RCVR = 0x02;
const FCR_KEPT = 0xc9;
// LCR bit 7: divisor latch access (offsets 0/1 become DLL/DLM).
const LCR_DLAB = 0x80;
// MCR: DTR, RTS, OUT1, OUT2, LOOP; bits 7:5 read as 0 on a 16550A.
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const MCR_MASK = 0x1f;
// LSR: data ready, the error bits (cleared by reading LSR), THR empty, transmitter empty.
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_ERRORS = 0x1e; // OE | PE | FE | BI
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
// MSR: delta bits (cleared by reading MSR) in 3:0, line states in 7:4.
const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04;
const MSR_DDCD = 0x08;
const MSR_DELTAS = 0x0f;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

// Reset values, as rust-vmm vm-superio's serial.rs and kvmtool's hw/serial.c present the port
// to a guest that no BIOS has set up: 8N1 (LCR 0x03), OUT2 set, 9600 baud (divisor 12), THR
// and transmitter empty, a connected modem (DCD | DSR | CTS). IER, FCR, SCR and DLM are 0.
const RESET_LCR = 0x03;
const RESET_MCR = MCR_OUT2;
const RESET_LSR = LSR_THRE | LSR_TEMT;
const MODEM_LINES = MSR_DCD | MSR_DSR | MSR_CTS;
const RESET_DLL = 0x0c;

// State words (Int32) after LOCK and MAGIC; the RX FIFO's bytes start at RX_FIFO_BYTE.
const W_IER = 2;
const W_LCR = 3;
const W_MCR = 4;
const W_LSR = 5;
const W_MSR = 6;
const W_SCR = 7;
const W_DLL = 8;
const W_DLM = 9;
const W_FCR = 10;
const W_THRI_PENDING = 11; // THR emptied since IIR last reported it (or THRI was enabled)
const W_IRQ_LEVEL = 12; // the level last handed to setIrq
const W_RX_HEAD = 13;
const W_RX_COUNT = 14;
const RX_FIFO_BYTE = 64;
const STATE_BYTES = RX_FIFO_BYTE + UART_RX_FIFO_BYTES;
const UART_MAGIC = 0x31363535; // "1655"

/** What a {@linkcode Uart16550} needs from its surroundings, set once per Worker. */
export interface Uart16550Options {
  /** Where transmitted bytes go (outside loopback mode). */
  ring: ByteSink;
  /**
   * Drives the UART's interrupt line (ISA IRQ {@linkcode COM1_IRQ}, edge-triggered): called
   * with 1 when the line rises and 0 when it falls, never twice with the same level (the level
   * is shared by all Workers). Called with the UART's lock held, so that raises and lowers
   * from different vCPUs reach KVM_IRQ_LINE in order. Default: no interrupt line (a polled
   * console, as printk's is).
   */
  setIrq?: (level: 0 | 1) => void;
}

function noIrq(_level: 0 | 1): void {}

/**
 * A 16550A UART over shared state: `read`/`write` take the register offset (port minus
 * {@linkcode COM1_PORT_BASE}) and a byte.
 *
 * @example
 * ```ts
 * import { ConsoleRing, COM1_PORT_BASE, Uart16550 } from "@pvkit/vmm";
 * const ring = ConsoleRing.create(4096);
 * const state = Uart16550.createState(); // post state and ring.buffer to each vCPU Worker
 * const uart = new Uart16550(state, { ring, setIrq: (level) => console.log("IRQ 4 =", level) });
 * // What printk's 8250 console does for each character: wait for THRE, write THR.
 * while (!(uart.read(5) & 0x20));
 * uart.write(0x3f8 - COM1_PORT_BASE, 0x4c);
 * console.log(ring.drain()); // Uint8Array(1) [ 76 ]
 * ```
 */
export class Uart16550 {
  readonly #words: Int32Array;
  readonly #rx: Uint8Array;
  readonly #ring: ByteSink;
  readonly #setIrq: (level: 0 | 1) => void;

  /** Maps `state` (from {@linkcode Uart16550.createState}); throws `PvkitError` on another buffer. */
  constructor(state: SharedArrayBuffer, options: Uart16550Options) {
    this.#words = deviceWords(state, STATE_BYTES, UART_MAGIC, "Uart16550");
    this.#rx = new Uint8Array(state, RX_FIFO_BYTE, UART_RX_FIFO_BYTES);
    this.#ring = options.ring;
    this.#setIrq = options.setIrq ?? noIrq;
  }

  /**
   * A UART's shared state at its reset values (IER 0, IIR 0x01, LCR 0x03, MCR 0x08, LSR 0x60,
   * MSR 0xB0, divisor 12).
   *
   * @example
   * ```ts
   * import { Uart16550 } from "@pvkit/vmm";
   * const uart = new Uart16550(Uart16550.createState(), { ring: { push: () => true } });
   * console.log(uart.read(3).toString(16), uart.read(5).toString(16)); // 3 60
   * ```
   */
  static createState(): SharedArrayBuffer {
    const state = newDeviceState(STATE_BYTES, UART_MAGIC);
    const words = new Int32Array(state);
    words[W_LCR] = RESET_LCR;
    words[W_MCR] = RESET_MCR;
    words[W_LSR] = RESET_LSR;
    words[W_MSR] = MODEM_LINES;
    words[W_DLL] = RESET_DLL;
    return state;
  }

  /**
   * The interrupt line's level as last driven (shared by all Workers).
   *
   * @example
   * ```ts
   * import { Uart16550 } from "@pvkit/vmm";
   * const uart = new Uart16550(Uart16550.createState(), { ring: { push: () => true } });
   * uart.write(1, 0x02); // IER = THRI while THR is empty: a THRE interrupt is pending
   * console.log(uart.irqLevel); // 1
   * ```
   */
  get irqLevel(): 0 | 1 {
    return Atomics.load(this.#words, W_IRQ_LEVEL) ? 1 : 0;
  }

  /**
   * Reads the register at `offset` (0-7): RBR/DLL, IER/DLM, IIR, LCR, MCR, LSR, MSR, SCR.
   * Reading RBR takes a received byte, IIR clears a reported THRE interrupt, LSR clears the
   * error bits and MSR the delta bits, as on the chip.
   *
   * @example
   * ```ts
   * import { Uart16550 } from "@pvkit/vmm";
   * const uart = new Uart16550(Uart16550.createState(), { ring: { push: () => true } });
   * console.log(uart.read(2).toString(16)); // 1 (no interrupt; FIFOs off)
   * ```
   */
  read(offset: number): number {
    const w = this.#words;
    lockWord(w, LOCK);
    let value = 0;
    switch (offset & 7) {
      case RBR_THR_DLL:
        value = w[W_LCR] & LCR_DLAB ? w[W_DLL] : this.#takeRx();
        break;
      case IER_DLM:
        value = w[W_LCR] & LCR_DLAB ? w[W_DLM] : w[W_IER];
        break;
      case IIR_FCR: {
        const id = this.#interruptId();
        // Reading IIR while it reports THRE is one of the two ways to clear that interrupt
        // (the other is writing THR): PC16550D table "Interrupt Control Functions".
        if (id === IIR_THRI) w[W_THRI_PENDING] = 0;
        value = id | (w[W_FCR] & FCR_ENABLE_FIFO ? IIR_FIFO_ENABLED : 0);
        break;
      }
      case LCR:
        value = w[W_LCR];
        break;
      case MCR:
        value = w[W_MCR];
        break;
      case LSR:
        value = w[W_LSR];
        w[W_LSR] = value & ~LSR_ERRORS;
        break;
      case MSR:
        value = w[W_MSR];
        w[W_MSR] = value & ~MSR_DELTAS;
        break;
      case SCR:
        value = w[W_SCR];
        break;
    }
    this.#updateIrq();
    unlockWord(w, LOCK);
    return value;
  }

  /**
   * Writes `value` (a byte) to the register at `offset` (0-7): THR/DLL, IER/DLM, FCR, LCR,
   * MCR, SCR; writes to LSR and MSR are ignored (factory test registers).
   *
   * @example
   * ```ts
   * import { Uart16550 } from "@pvkit/vmm";
   * const out: number[] = [];
   * const uart = new Uart16550(Uart16550.createState(), { ring: { push: (b) => out.push(b) > 0 } });
   * uart.write(0, 0x68);
   * uart.write(0, 0x69);
   * console.log(String.fromCharCode(...out)); // "hi"
   * ```
   */
  write(offset: number, value: number): void {
    const w = this.#words;
    const byte = value & 0xff;
    lockWord(w, LOCK);
    switch (offset & 7) {
      case RBR_THR_DLL:
        if (w[W_LCR] & LCR_DLAB) {
          w[W_DLL] = byte;
        } else {
          if (w[W_MCR] & MCR_LOOP) this.#loopBack(byte);
          else this.#ring.push(byte);
          // The byte leaves at once, so THR is empty again: a new THRE interrupt is pending.
          w[W_THRI_PENDING] = 1;
        }
        break;
      case IER_DLM:
        if (w[W_LCR] & LCR_DLAB) {
          w[W_DLM] = byte;
        } else {
          const ier = byte & IER_MASK;
          // Enabling THRI while THR is empty raises the THRE interrupt (again, even if IIR had
          // cleared it): Linux's serial8250_do_startup relies on it (its THRE and TXEN tests
          // would otherwise set UART_BUG_THRE / UART_BUG_TXEN), as QEMU's serial.c notes.
          if (ier & IER_THRI && !(w[W_IER] & IER_THRI)) {
            w[W_THRI_PENDING] = w[W_LSR] & LSR_THRE ? 1 : 0;
          } else if (!(ier & IER_THRI)) {
            w[W_THRI_PENDING] = 0;
          }
          w[W_IER] = ier;
        }
        break;
      case IIR_FCR:
        // A change of the FIFO enable bit resets both FIFOs (PC16550D, FCR bit 0).
        if ((byte ^ w[W_FCR]) & FCR_ENABLE_FIFO || byte & FCR_CLEAR_RCVR) this.#clearRx();
        w[W_FCR] = byte & FCR_KEPT;
        break;
      case LCR:
        w[W_LCR] = byte;
        break;
      case MCR:
        this.#setMcr(byte & MCR_MASK);
        break;
      case SCR:
        w[W_SCR] = byte;
        break;
    }
    this.#updateIrq();
    unlockWord(w, LOCK);
  }

  /**
   * Feeds bytes from the host (a future stdin path) into the receive FIFO; returns how many it
   * took (the FIFO holds {@linkcode UART_RX_FIFO_BYTES}, one byte while FIFOs are off; none in
   * loopback mode, where the serial input is disconnected). Keep the rest and retry after the
   * guest has read some.
   *
   * @example
   * ```ts
   * import { Uart16550 } from "@pvkit/vmm";
   * const uart = new Uart16550(Uart16550.createState(), { ring: { push: () => true } });
   * uart.write(2, 0x01); // FCR: enable FIFOs
   * console.log(uart.receive(new TextEncoder().encode("ok")), uart.read(5) & 1); // 2 1
   * console.log(String.fromCharCode(uart.read(0), uart.read(0))); // "ok"
   * ```
   */
  receive(bytes: Uint8Array): number {
    const w = this.#words;
    lockWord(w, LOCK);
    let taken = 0;
    if (!(w[W_MCR] & MCR_LOOP)) {
      const capacity = this.#rxCapacity();
      while (taken < bytes.length && w[W_RX_COUNT] < capacity) this.#putRx(bytes[taken++]);
    }
    this.#updateIrq();
    unlockWord(w, LOCK);
    return taken;
  }

  // --- helpers; all run with the lock held ---

  #rxCapacity(): number {
    // With FIFOs off the 16550 works as a 16450: one receive buffer register.
    return this.#words[W_FCR] & FCR_ENABLE_FIFO ? UART_RX_FIFO_BYTES : 1;
  }

  #putRx(byte: number): void {
    const w = this.#words;
    this.#rx[(w[W_RX_HEAD] + w[W_RX_COUNT]) % UART_RX_FIFO_BYTES] = byte;
    w[W_RX_COUNT]++;
    w[W_LSR] |= LSR_DR;
  }

  #takeRx(): number {
    const w = this.#words;
    if (w[W_RX_COUNT] === 0) return 0;
    const byte = this.#rx[w[W_RX_HEAD]];
    w[W_RX_HEAD] = (w[W_RX_HEAD] + 1) % UART_RX_FIFO_BYTES;
    if (--w[W_RX_COUNT] === 0) w[W_LSR] &= ~LSR_DR;
    return byte;
  }

  #clearRx(): void {
    const w = this.#words;
    w[W_RX_HEAD] = 0;
    w[W_RX_COUNT] = 0;
    w[W_LSR] &= ~LSR_DR;
  }

  /** Loopback: the transmitted byte arrives at the receiver; a full FIFO overruns (LSR OE). */
  #loopBack(byte: number): void {
    if (this.#words[W_RX_COUNT] < this.#rxCapacity()) this.#putRx(byte);
    else this.#words[W_LSR] |= LSR_OE;
  }

  /**
   * Sets MCR and the modem lines MSR shows: in loopback mode DTR→DSR, RTS→CTS, OUT1→RI,
   * OUT2→DCD (PC16550D, MCR bit 4), otherwise the connected modem's DCD | DSR | CTS. A change
   * sets the matching delta bit (TERI on RI's trailing edge only).
   */
  #setMcr(mcr: number): void {
    const w = this.#words;
    w[W_MCR] = mcr;
    const lines = mcr & MCR_LOOP
      ? (mcr & MCR_DTR ? MSR_DSR : 0) | (mcr & MCR_RTS ? MSR_CTS : 0) |
        (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0)
      : MODEM_LINES;
    const old = w[W_MSR];
    const changed = (old ^ lines) & 0xf0;
    let deltas = old & MSR_DELTAS;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if (changed & MSR_RI && !(lines & MSR_RI)) deltas |= MSR_TERI;
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    w[W_MSR] = lines | deltas;
  }

  /** The highest-priority pending interrupt among the enabled ones, as IIR bits 3:0. */
  #interruptId(): number {
    const w = this.#words;
    const ier = w[W_IER];
    if (ier & IER_RLSI && w[W_LSR] & LSR_ERRORS) return IIR_RLSI;
    // Received data: reported from the first byte on (the trigger level and the character
    // timeout interrupt are not modelled; Linux's handler treats them alike).
    if (ier & IER_RDI && w[W_LSR] & LSR_DR) return IIR_RDI;
    if (ier & IER_THRI && w[W_THRI_PENDING]) return IIR_THRI;
    if (ier & IER_MSI && w[W_MSR] & MSR_DELTAS) return IIR_MSI;
    return IIR_NO_INT;
  }

  /**
   * Drives the interrupt line. On PCs the UART's interrupt output reaches the ISA bus through
   * a buffer enabled by OUT2 (Linux's serial8250_do_startup: "Most PC uarts need OUT2 raised
   * to enable interrupts"), and loopback mode forces the OUT pins inactive (PC16550D, MCR bit
   * 4), so the line is high only while OUT2 is set outside loopback and an interrupt pends.
   */
  #updateIrq(): void {
    const w = this.#words;
    const mcr = w[W_MCR];
    const level = (mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2 && this.#interruptId() !== IIR_NO_INT
      ? 1
      : 0;
    if (level !== w[W_IRQ_LEVEL]) {
      Atomics.store(w, W_IRQ_LEVEL, level);
      this.#setIrq(level);
    }
  }
}
