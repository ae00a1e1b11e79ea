import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { I8042, I8042_CMD_RESET_CPU, I8042_COMMAND_PORT, I8042_DATA_PORT } from "./i8042.ts";
import { Uart16550 } from "./uart16550.ts";

const DATA = I8042_DATA_PORT - 0x60, STATUS = I8042_COMMAND_PORT - 0x60;

function setup() {
  const resets: number[] = [];
  const kbc = new I8042(I8042.createState(), { requestReset: () => resets.push(1) });
  /** Linux's i8042_command for a command with one answer byte: wait IBF clear, write, poll OBF. */
  const command = (cmd: number): number | undefined => {
    assertEquals(kbc.read(STATUS) & 0x02, 0, "input buffer empty");
    kbc.write(STATUS, cmd);
    return kbc.read(STATUS) & 0x01 ? kbc.read(DATA) : undefined;
  };
  return { kbc, resets, command };
}

Deno.test("i8042: ports and the reset command", () => {
  assertEquals([I8042_DATA_PORT, I8042_COMMAND_PORT, I8042_CMD_RESET_CPU], [0x60, 0x64, 0xfe]);
});

Deno.test("i8042: status reads 0 when idle, so kb_wait() never spins", () => {
  const { kbc } = setup();
  assertEquals(kbc.read(STATUS), 0);
  assertEquals(kbc.read(DATA), 0, "an empty output buffer reads 0");
  assertEquals(kbc.read(STATUS), 0);
});

Deno.test("i8042: 0xFE to port 0x64 requests a reset (reboot=k), once per write", () => {
  const { kbc, resets } = setup();
  kbc.write(STATUS, I8042_CMD_RESET_CPU);
  assertEquals(resets.length, 1);
  // arch/x86/kernel/reboot.c BOOT_KBD tries up to 10 times; each write asks again.
  for (let i = 0; i < 9; i++) {
    assertEquals(kbc.read(STATUS) & 0x02, 0);
    kbc.write(STATUS, I8042_CMD_RESET_CPU);
  }
  assertEquals(resets.length, 10);
  kbc.write(DATA, I8042_CMD_RESET_CPU);
  assertEquals(resets.length, 10, "0xFE as data is not a command");
});

Deno.test("i8042: other pulse commands reset only when they pulse bit 0", () => {
  const { kbc, resets } = setup();
  kbc.write(STATUS, 0xff); // pulses nothing (Linux's i8042 uses it as a no-op)
  kbc.write(STATUS, 0xfd);
  assertEquals(resets.length, 0);
  kbc.write(STATUS, 0xf0);
  assertEquals(resets.length, 1);
});

Deno.test("i8042: Linux's probe sequence (flush, self test, CTR read/write)", () => {
  const { kbc, command } = setup();
  // i8042_flush: read while OBF.
  let flushed = 0;
  for (; kbc.read(STATUS) & 0x01; flushed++) kbc.read(DATA);
  assertEquals(flushed, 0);
  assertEquals(command(0xaa), 0x55, "I8042_CMD_CTL_TEST answers I8042_RET_CTL_TEST");
  // i8042_controller_init reads the CTR until two reads agree.
  const ctr = command(0x20);
  assertEquals(ctr, 0x05);
  assertEquals(command(0x20), ctr);
  // ...disables the keyboard and its interrupt, then writes it back.
  kbc.write(STATUS, 0x60);
  kbc.write(DATA, (ctr! | 0x10) & ~0x01);
  assertEquals(command(0x20), 0x14);
  assertEquals(command(0xab), 0x00, "keyboard interface test passed");
  assertEquals(kbc.read(STATUS), 0);
});

Deno.test("i8042: keyboard and aux enable commands flip the command byte", () => {
  const { command } = setup();
  command(0xad);
  assertEquals(command(0x20), 0x15);
  command(0xae);
  command(0xa7);
  assertEquals(command(0x20), 0x25);
  command(0xa8);
  assertEquals(command(0x20), 0x05);
});

Deno.test("i8042: output port read/write; clearing its bit 0 resets", () => {
  const { kbc, resets, command } = setup();
  assertEquals(command(0xd0), 0x03);
  kbc.write(STATUS, 0xd1);
  kbc.write(DATA, 0xdf); // A20 on, reset inactive (what real-mode Linux setup writes)
  assertEquals(command(0xd0), 0xdf);
  assertEquals(resets.length, 0);
  kbc.write(STATUS, 0xd1);
  kbc.write(DATA, 0xde);
  assertEquals(resets.length, 1);
});

Deno.test("i8042: a command abandons the parameter its predecessor awaited", () => {
  const { kbc, command } = setup();
  kbc.write(STATUS, 0x60);
  kbc.write(STATUS, 0xaa);
  assertEquals(kbc.read(DATA), 0x55);
  kbc.write(DATA, 0x00); // no command waits: dropped (no keyboard)
  assertEquals(command(0x20), 0x05);
  assertEquals(kbc.read(STATUS), 0, "no keyboard: nothing answers data bytes");
  assertEquals(kbc.read(1), 0xff, "offsets other than 0 and 4 are not decoded");
});

Deno.test("i8042: state shared by two instances (two vCPU Workers)", () => {
  const state = I8042.createState();
  const a = new I8042(state, { requestReset: () => {} });
  const b = new I8042(state, { requestReset: () => {} });
  a.write(STATUS, 0x20);
  assertEquals(b.read(STATUS), 1);
  assertEquals(b.read(DATA), 0x05);
  assertEquals(a.read(STATUS), 0);
});

Deno.test("i8042: a state that is not an i8042's is refused", () => {
  const e = assertThrows(() => new I8042(Uart16550.createState(), { requestReset: () => {} }));
  assert(e instanceof PvkitError && e.code === "device-state", String(e));
});
