import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { ConsoleRing } from "./console_ring.ts";
import type { PushWorkerDone, PushWorkerJob } from "./_push_worker.ts";
import { COM1_IRQ, COM1_PORT_BASE, Uart16550, UART_RX_FIFO_BYTES } from "./uart16550.ts";

// Offsets and bits as Linux's include/uapi/linux/serial_reg.h names them.
const RX = 0, TX = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, EFR = 2, LCR = 3, MCR = 4;
const LSR = 5, MSR = 6, SCR = 7;
const IIR_NO_INT = 0x01, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06, IIR_ID = 0x0f;
const IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08, IER_UUE = 0x40;
const FCR_ENABLE_FIFO = 0x01, FCR_CLEAR_RCVR = 0x02, FCR_CLEAR_XMIT = 0x04, FCR7_64BYTE = 0x20;
const LCR_DLAB = 0x80, LCR_CONF_MODE_A = 0x80, LCR_CONF_MODE_B = 0xbf, LCR_WLEN8 = 0x03;
const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;

/** A UART with a recording sink and a recording interrupt line. */
function setup() {
  const out: number[] = [];
  const irq: number[] = [];
  const uart = new Uart16550(Uart16550.createState(), {
    ring: { push: (byte) => out.push(byte) > 0 },
    setIrq: (level) => irq.push(level),
  });
  return { uart, out, irq };
}

Deno.test("uart16550: COM1 constants", () => {
  assertEquals([COM1_PORT_BASE, COM1_IRQ, UART_RX_FIFO_BYTES], [0x3f8, 4, 16]);
});

Deno.test("uart16550: reset values", () => {
  const { uart, irq } = setup();
  assertEquals(uart.read(IER), 0x00);
  assertEquals(uart.read(IIR), 0x01); // no interrupt, FIFOs off
  assertEquals(uart.read(LCR), 0x03);
  assertEquals(uart.read(MCR), 0x08);
  assertEquals(uart.read(LSR), 0x60);
  assertEquals(uart.read(MSR), 0xb0);
  assertEquals(uart.read(SCR), 0x00);
  assertEquals(uart.read(RX), 0x00);
  uart.write(LCR, LCR_DLAB | 0x03);
  assertEquals([uart.read(DLL), uart.read(DLM)], [0x0c, 0x00]);
  assertEquals(irq, []);
  assertEquals(uart.irqLevel, 0);
});

Deno.test("uart16550: DLAB switches offsets 0/1 to the divisor latch", () => {
  const { uart, out } = setup();
  uart.write(LCR, LCR_DLAB | LCR_WLEN8);
  uart.write(DLL, 0x01); // 115200 baud
  uart.write(DLM, 0x00);
  uart.write(LCR, LCR_WLEN8);
  assertEquals(uart.read(IER), 0, "IER untouched by DLM writes");
  assertEquals(out, [], "a DLL write transmits nothing");
  uart.write(IER, 0xff);
  assertEquals(uart.read(IER), 0x0f, "IER keeps bits 3:0 only");
  uart.write(LCR, LCR_DLAB | LCR_WLEN8);
  assertEquals([uart.read(DLL), uart.read(DLM)], [0x01, 0x00]);
});

/**
 * Linux's autoconfig() and autoconfig_16550a() (drivers/tty/serial/8250/8250_port.c), as the
 * sequence of register accesses they make on a port without UPF_SKIP_TEST, returning the type
 * they would settle on.
 */
function linuxAutoconfig(uart: Uart16550): string {
  const inb = (offset: number) => uart.read(offset);
  const outb = (offset: number, value: number) => uart.write(offset, value);
  // IER existence test.
  const scratch = inb(IER);
  outb(IER, 0);
  const scratch2 = inb(IER) & 0x0f;
  outb(IER, 0x0f);
  const scratch3 = inb(IER) & 0x0f;
  outb(IER, scratch);
  if (scratch2 !== 0 || scratch3 !== 0x0f) return "none (IER test)";
  const saveMcr = inb(MCR);
  const saveLcr = inb(LCR);
  // Loopback test (skipped for COM1, which has UPF_SKIP_TEST, but a 16550 passes it).
  outb(MCR, MCR_LOOP | 0x0a);
  const status = inb(MSR) & 0xf0;
  outb(MCR, saveMcr);
  if (status !== 0x90) return "none (loopback test)";
  // Zero the EFR (if any), then read the FIFO bits of IIR.
  outb(LCR, LCR_CONF_MODE_B);
  outb(EFR, 0);
  outb(LCR, 0);
  outb(FCR, FCR_ENABLE_FIFO);
  const fifoBits = inb(IIR) >> 6;
  let type: string;
  if (fifoBits === 0) {
    // autoconfig_8250: the scratch register tells a 16450 from an 8250.
    outb(SCR, 0xa5);
    const a = inb(SCR);
    outb(SCR, 0x5a);
    type = a === 0xa5 && inb(SCR) === 0x5a ? "16450" : "8250";
  } else if (fifoBits === 1) type = "unknown";
  else if (fifoBits === 2) type = "16550";
  else type = linuxAutoconfig16550a(uart);
  outb(LCR, saveLcr);
  // Reset the UART: MCR back, FIFOs cleared and off, RX read, IER 0.
  outb(MCR, saveMcr);
  outb(FCR, FCR_ENABLE_FIFO);
  outb(FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
  outb(FCR, 0);
  inb(RX);
  outb(IER, 0);
  return type;
}

function linuxAutoconfig16550a(uart: Uart16550): string {
  const inb = (offset: number) => uart.read(offset);
  const outb = (offset: number, value: number) => uart.write(offset, value);
  // EFR with DLAB set (ST16C650V1 only).
  outb(LCR, LCR_CONF_MODE_A);
  if (inb(EFR) === 0) return "16650 (EFR with DLAB)";
  // EFR with LCR = 0xBF (ST16C650V2, TI16C752).
  outb(LCR, LCR_CONF_MODE_B);
  if (inb(EFR) === 0) return "16650V2 (EFR)";
  // National Semiconductor SuperIO: does the LOOP bit show up in EXCR1 of bank 2?
  outb(LCR, 0);
  const mcr = inb(MCR);
  outb(LCR, 0xe0);
  if (!((inb(0x02) ^ mcr) & MCR_LOOP)) {
    outb(LCR, 0);
    outb(MCR, mcr ^ MCR_LOOP);
    outb(LCR, 0xe0);
    const excr1 = inb(0x02);
    outb(LCR, 0);
    outb(MCR, mcr);
    if ((excr1 ^ mcr) & MCR_LOOP) return "NS16550A";
  }
  // TI16750: IIR bit 5 set by FCR7_64BYTE only with DLAB set.
  outb(LCR, 0);
  outb(FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
  const iir1 = inb(IIR) >> 5;
  outb(FCR, FCR_ENABLE_FIFO);
  outb(LCR, LCR_CONF_MODE_A);
  outb(FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
  const iir2 = inb(IIR) >> 5;
  outb(FCR, FCR_ENABLE_FIFO);
  outb(LCR, 0);
  if (iir1 === 6 && iir2 === 7) return "16750";
  // XScale: a writable IER bit 6.
  const ierSave = inb(IER);
  outb(IER, ierSave & ~IER_UUE);
  if (!(inb(IER) & IER_UUE)) {
    outb(IER, ierSave | IER_UUE);
    if (inb(IER) & IER_UUE) return "XScale";
  }
  outb(IER, ierSave);
  // size_fifo(): fill the FIFO in loopback at 115200 baud and count what comes back.
  return linuxSizeFifo(uart) === 64 ? "U6_16550A" : "16550A";
}

function linuxSizeFifo(uart: Uart16550): number {
  const inb = (offset: number) => uart.read(offset);
  const outb = (offset: number, value: number) => uart.write(offset, value);
  const oldLcr = inb(LCR);
  outb(LCR, 0);
  const oldFcr = inb(FCR); // reads IIR, as the driver does
  const oldMcr = inb(MCR);
  outb(FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
  outb(MCR, MCR_LOOP);
  outb(LCR, LCR_CONF_MODE_A);
  const oldDl = inb(DLL) | inb(DLM) << 8;
  outb(DLL, 1);
  outb(DLM, 0);
  outb(LCR, 0x03);
  for (let i = 0; i < 256; i++) outb(TX, i);
  let count = 0;
  for (; inb(LSR) & LSR_DR && count < 256; count++) inb(RX);
  outb(FCR, oldFcr);
  outb(MCR, oldMcr);
  outb(LCR, LCR_CONF_MODE_A);
  outb(DLL, oldDl & 0xff);
  outb(DLM, oldDl >> 8);
  outb(LCR, oldLcr);
  return count;
}

Deno.test("uart16550: Linux's 8250 autoconfig finds a 16550A", () => {
  const { uart, out, irq } = setup();
  assertEquals(linuxAutoconfig(uart), "16550A");
  assertEquals(out, [], "loopback bytes never reach the console");
  // The IER test's IER = 0x0F raises THRE with OUT2 set from reset, as on a PC; the driver
  // restores IER at once (with interrupts off), so the line falls again.
  assertEquals(irq, [1, 0]);
  // The probe leaves the port as it found it, FIFOs off.
  assertEquals(uart.read(LCR), 0x03);
  assertEquals(uart.read(MCR), 0x08);
  assertEquals(uart.read(IER), 0);
  assertEquals(uart.read(IIR), IIR_NO_INT);
  assertEquals(uart.read(LSR), LSR_THRE | LSR_TEMT);
  uart.write(LCR, LCR_DLAB);
  assertEquals([uart.read(DLL), uart.read(DLM)], [0x0c, 0]);
});

Deno.test("uart16550: IIR bits 7:6 follow FCR's FIFO enable", () => {
  const { uart } = setup();
  uart.write(FCR, FCR_ENABLE_FIFO);
  assertEquals(uart.read(IIR), 0xc1);
  uart.write(FCR, 0);
  assertEquals(uart.read(IIR), 0x01);
});

Deno.test("uart16550: serial8250_do_startup's THRE and TXEN tests pass (no UART_BUG_*)", () => {
  const { uart, irq } = setup();
  // Clear the FIFOs, clear the interrupt registers, LSR safety check.
  uart.write(FCR, FCR_ENABLE_FIFO);
  uart.write(FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
  uart.write(FCR, 0);
  for (const offset of [LSR, RX, IIR, MSR]) uart.read(offset);
  assert(uart.read(LSR) !== 0xff);
  // THRE test: THRE must be reasserted when THRI is enabled again after IIR cleared it.
  assertEquals(uart.read(LSR) & LSR_THRE, LSR_THRE);
  uart.write(IER, IER_THRI);
  const iir1 = uart.read(IIR);
  uart.write(IER, 0);
  uart.write(IER, IER_THRI);
  const iir = uart.read(IIR);
  uart.write(IER, 0);
  assertEquals(iir1 & IIR_NO_INT, 0, "THRE pending after IER = THRI");
  assertEquals(iir & IIR_NO_INT, 0, "THRE pending again (else UART_BUG_THRE)");
  assertEquals(irq, [1, 0, 1, 0], "OUT2 is set from reset: each THRE pulse reached the line");
});

Deno.test("uart16550: TXEN test sees THRI pending once OUT2 is raised", () => {
  const { uart, irq } = setup();
  uart.write(LCR, LCR_WLEN8);
  uart.write(MCR, MCR_DTR | MCR_RTS | MCR_OUT2); // serial8250_set_mctrl with TIOCM_OUT2
  uart.write(IER, IER_THRI);
  const lsr = uart.read(LSR);
  const iir = uart.read(IIR);
  uart.write(IER, 0);
  assert(!(lsr & LSR_TEMT && iir & IIR_NO_INT), "else Linux sets UART_BUG_TXEN");
  assertEquals(iir & IIR_ID, IIR_THRI);
  assertEquals(irq, [1, 0], "the line rose with the THRE interrupt and fell at the IIR read");
});

Deno.test("uart16550: THRE interrupt after IER enable and after each THR write", async (t) => {
  const { uart, out, irq } = setup();
  uart.write(MCR, MCR_OUT2);
  await t.step("enabling THRI while THR is empty raises it", () => {
    uart.write(IER, IER_THRI);
    assertEquals(irq, [1]);
    assertEquals(uart.read(IIR) & IIR_ID, IIR_THRI);
    assertEquals(irq, [1, 0], "reading IIR while it reports THRE clears it");
    assertEquals(uart.read(IIR) & IIR_ID, IIR_NO_INT);
  });
  await t.step("a THR write raises it again", () => {
    uart.write(TX, 0x41);
    assertEquals(out, [0x41]);
    assertEquals(irq, [1, 0, 1]);
    assertEquals(uart.read(IIR) & IIR_ID, IIR_THRI);
    assertEquals(irq, [1, 0, 1, 0]);
  });
  await t.step("THR writes while it is pending leave the line high (no new edge)", () => {
    uart.write(TX, 0x42);
    uart.write(TX, 0x43);
    assertEquals(irq, [1, 0, 1, 0, 1]);
    assertEquals(out, [0x41, 0x42, 0x43]);
  });
  await t.step("disabling THRI drops it", () => {
    uart.write(IER, 0);
    assertEquals(irq, [1, 0, 1, 0, 1, 0]);
    uart.write(IER, IER_THRI);
    assertEquals(irq, [1, 0, 1, 0, 1, 0, 1], "re-enabling raises it again");
  });
  await t.step("LSR keeps THRE and TEMT: transmission is instantaneous", () => {
    assertEquals(uart.read(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
  });
});

Deno.test("uart16550: the interrupt line is gated by OUT2 and off in loopback", () => {
  const { uart, irq } = setup();
  uart.write(MCR, 0);
  uart.write(IER, IER_THRI);
  assertEquals(irq, [], "pending, but OUT2 is clear");
  assertEquals(uart.irqLevel, 0);
  uart.write(MCR, MCR_OUT2);
  assertEquals(irq, [1], "raising OUT2 lets the pending interrupt through");
  uart.write(MCR, MCR_OUT2 | MCR_LOOP);
  assertEquals(irq, [1, 0], "loopback forces OUT2's pin inactive");
  uart.write(MCR, MCR_OUT2);
  assertEquals(irq, [1, 0, 1]);
  uart.write(MCR, 0);
  assertEquals(irq, [1, 0, 1, 0]);
  assertEquals(uart.read(IIR) & IIR_ID, IIR_THRI, "IIR still reports it");
});

Deno.test("uart16550: setIrq only on level changes, level shared by all Workers' instances", () => {
  const state = Uart16550.createState();
  const irqA: number[] = [], irqB: number[] = [];
  const sink = { push: () => true };
  const a = new Uart16550(state, { ring: sink, setIrq: (l) => irqA.push(l) });
  const b = new Uart16550(state, { ring: sink, setIrq: (l) => irqB.push(l) });
  a.write(IER, IER_THRI); // rise on A
  b.write(TX, 0x30); // still high: nothing
  a.write(TX, 0x31); // still high: nothing
  b.read(LSR); // nothing
  b.read(IIR); // clears: fall on B
  a.read(IIR); // nothing pending: nothing
  assertEquals(irqA, [1]);
  assertEquals(irqB, [0]);
  assertEquals(a.irqLevel, 0);
});

Deno.test("uart16550: loopback sends THR to RX and MCR to MSR", async (t) => {
  const { uart, out } = setup();
  await t.step("MSR lines from MCR: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD", () => {
    uart.write(MCR, MCR_LOOP | 0x0a);
    assertEquals(uart.read(MSR) & 0xf0, 0x90);
    uart.write(MCR, MCR_LOOP | MCR_DTR);
    assertEquals(uart.read(MSR) & 0xf0, 0x20);
    uart.write(MCR, MCR_LOOP | MCR_OUT1);
    assertEquals(uart.read(MSR) & 0xf0, 0x40);
  });
  await t.step("delta bits record changes until MSR is read; TERI on RI's trailing edge", () => {
    uart.write(MCR, MCR_LOOP); // RI 1 → 0
    assertEquals(uart.read(MSR), 0x04);
    assertEquals(uart.read(MSR), 0x00);
    uart.write(MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2);
    assertEquals(uart.read(MSR), 0xf0 | 0x0b, "DCTS | DDSR | DDCD, no TERI on a rising RI");
  });
  await t.step("THR bytes arrive in RBR, none on the console", () => {
    uart.write(FCR, FCR_ENABLE_FIFO);
    uart.write(TX, 0x55);
    uart.write(TX, 0xaa);
    assertEquals(uart.read(LSR) & LSR_DR, LSR_DR);
    assertEquals([uart.read(RX), uart.read(RX)], [0x55, 0xaa]);
    assertEquals(uart.read(LSR) & LSR_DR, 0);
    assertEquals(out, []);
  });
  await t.step("a full FIFO overruns: LSR OE, cleared by reading LSR", () => {
    for (let i = 0; i < UART_RX_FIFO_BYTES + 3; i++) uart.write(TX, i);
    assertEquals(uart.read(LSR) & (LSR_OE | LSR_DR), LSR_OE | LSR_DR);
    assertEquals(uart.read(LSR) & LSR_OE, 0);
    const got: number[] = [];
    while (uart.read(LSR) & LSR_DR) got.push(uart.read(RX));
    assertEquals(got, [...Array(UART_RX_FIFO_BYTES).keys()]);
  });
  await t.step("leaving loopback restores the modem's lines and the console", () => {
    uart.write(MCR, MCR_OUT2);
    assertEquals(uart.read(MSR) & 0xf0, 0xb0);
    uart.write(TX, 0x21);
    assertEquals(out, [0x21]);
  });
});

Deno.test("uart16550: RX path, FIFO depth and interrupt priority", async (t) => {
  const { uart, irq } = setup();
  await t.step("FIFOs off: one byte at a time (16450 mode)", () => {
    assertEquals(uart.receive(new Uint8Array([1, 2, 3])), 1);
    assertEquals(uart.read(RX), 1);
    assertEquals(uart.read(LSR) & LSR_DR, 0);
  });
  await t.step("FIFOs on: 16 bytes; the caller keeps the rest", () => {
    uart.write(FCR, FCR_ENABLE_FIFO);
    const bytes = new Uint8Array(20).map((_, i) => 0x30 + i);
    assertEquals(uart.receive(bytes), UART_RX_FIFO_BYTES);
    assertEquals(uart.receive(bytes), 0);
    assertEquals(uart.read(RX), 0x30);
    assertEquals(uart.receive(bytes.subarray(UART_RX_FIFO_BYTES)), 1);
  });
  await t.step("received data outranks THRE; RDA clears when the FIFO empties", () => {
    uart.write(IER, IER_RDI | IER_THRI);
    assertEquals(irq, [1]);
    assertEquals(uart.read(IIR), 0xc0 | IIR_RDI);
    assertEquals(uart.read(IIR), 0xc0 | IIR_RDI, "reading IIR does not clear RDA");
    while (uart.read(LSR) & LSR_DR) uart.read(RX);
    assertEquals(uart.read(IIR), 0xc0 | IIR_THRI, "THRE was waiting behind it");
    assertEquals(uart.read(IIR), 0xc0 | IIR_NO_INT);
    assertEquals(irq, [1, 0]);
  });
  await t.step("FCR clear-RX empties the FIFO", () => {
    uart.receive(new Uint8Array([9, 9]));
    assertEquals(irq, [1, 0, 1]);
    uart.write(FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR);
    assertEquals(uart.read(LSR) & LSR_DR, 0);
    assertEquals(irq, [1, 0, 1, 0]);
  });
  await t.step("line status (overrun) outranks received data", () => {
    uart.write(IER, IER_RDI | IER_RLSI);
    uart.write(MCR, MCR_LOOP | MCR_OUT2);
    for (let i = 0; i < UART_RX_FIFO_BYTES + 1; i++) uart.write(TX, i);
    assertEquals(uart.read(IIR) & IIR_ID, IIR_RLSI);
    uart.read(LSR);
    assertEquals(uart.read(IIR) & IIR_ID, IIR_RDI);
  });
  await t.step("modem status interrupt while MSI is enabled", () => {
    uart.write(FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR);
    uart.read(MSR);
    uart.write(IER, IER_MSI);
    uart.write(MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
    assertEquals(uart.read(IIR) & IIR_ID, 0x00);
    uart.read(MSR);
    assertEquals(uart.read(IIR) & IIR_ID, IIR_NO_INT);
  });
  await t.step("loopback disconnects the serial input", () => {
    assertEquals(uart.receive(new Uint8Array([1])), 0);
  });
});

Deno.test("uart16550: a state that is not a UART's is refused", () => {
  const sink = { push: () => true };
  const e = assertThrows(() => new Uart16550(new SharedArrayBuffer(80), { ring: sink }));
  assert(e instanceof PvkitError && e.code === "device-state", String(e));
  assertThrows(() => new Uart16550(ConsoleRing.create(64).buffer, { ring: sink }), PvkitError);
});

Deno.test("uart16550: two Workers transmit through one UART state; every byte arrives", async () => {
  const count = 20_000;
  const ring = ConsoleRing.create(4096, { fullWaitMs: 5_000 });
  const state = Uart16550.createState();
  const tags = [0x00, 0x80];
  const done = tags.map((tag) => {
    const worker = new Worker(new URL("./_push_worker.ts", import.meta.url), { type: "module" });
    const job: PushWorkerJob = { mode: "uart", ring: ring.buffer, state, tag, count };
    return new Promise<PushWorkerDone>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<PushWorkerDone>) => {
        worker.terminate();
        resolve(e.data);
      };
      worker.onerror = (e) => {
        worker.terminate();
        reject(e.message);
      };
      worker.postMessage(job);
    });
  });
  const received: number[] = [];
  let finished = false;
  const all = Promise.all(done).then(() => finished = true);
  while (!finished || ring.length > 0) {
    await ring.waitForData(20);
    for (const byte of ring.drain()) received.push(byte);
  }
  await all;
  assertEquals(ring.dropped, 0);
  assertEquals(received.length, 2 * count);
  // Each Worker's bytes arrive complete and in its order (they interleave byte by byte: the
  // lock is held per register access).
  for (const tag of tags) {
    const mine = received.filter((b) => (b & 0x80) === tag);
    assertEquals(mine.length, count);
    assert(mine.every((b, i) => b === (tag | (i & 0x7f))), `Worker ${tag} out of order`);
  }
});
