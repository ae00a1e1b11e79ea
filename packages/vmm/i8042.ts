/**
 * {@linkcode I8042}: the PC's keyboard controller (Intel 8042) at ports 0x60/0x64, with no
 * keyboard or mouse behind it: just enough for Linux's i8042 driver to probe it and for the
 * guest to reset the machine through it (`reboot=k`: arch/x86/kernel/reboot.c writes 0xFE to
 * port 0x64 after `kb_wait()` sees the input buffer empty).
 *
 * State lives in a SharedArrayBuffer ({@linkcode I8042.createState}) that every vCPU Worker
 * maps, under a lock per access. Commands and status bits: the IBM PC AT Technical Reference
 * (keyboard controller), as Linux's drivers/input/serio/i8042.h names them. The controller
 * never raises IRQ 1: the only bytes it outputs answer commands, which Linux polls for.
 * Recommended guest command line: `i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd`.
 *
 * @module
 */

import { deviceWords, LOCK, newDeviceState } from "./_device_state.ts";
import { lockWord, unlockWord } from "./_spin_lock.ts";

/** The data port: command results and parameters (offset 0). */
export const I8042_DATA_PORT = 0x60;
/** The status (read) and command (write) port (offset 4). */
export const I8042_COMMAND_PORT = 0x64;
/** The command that pulses the CPU reset line (PC AT: "pulse output port bit 0"). */
export const I8042_CMD_RESET_CPU = 0xfe;

const DATA = 0;
const COMMAND = 4;

// Status register: bit 0 output buffer full (a byte waits at 0x60). Bit 1 (input buffer full)
// stays 0, as commands complete at once, so Linux's kb_wait() never spins.
const STATUS_OBF = 0x01;

// Controller commands (i8042.h I8042_CMD_*).
const CMD_READ_CTR = 0x20;
const CMD_WRITE_CTR = 0x60;
const CMD_AUX_DISABLE = 0xa7;
const CMD_AUX_ENABLE = 0xa8;
const CMD_SELF_TEST = 0xaa;
const CMD_KBD_TEST = 0xab;
const CMD_KBD_DISABLE = 0xad;
const CMD_KBD_ENABLE = 0xae;
const CMD_READ_OUTPUT_PORT = 0xd0;
const CMD_WRITE_OUTPUT_PORT = 0xd1;
// 0xF0-0xFF pulse output port bits 3:0 low for ~6 µs where the command's bit is 0; bit 0 of
// the output port is the CPU reset line (active low). 0xFE pulses just that one.
const CMD_PULSE_FIRST = 0xf0;

// Answers: self test passed (i8042.h I8042_RET_CTL_TEST), interface test passed.
const SELF_TEST_OK = 0x55;
const INTERFACE_TEST_OK = 0x00;

// Controller command byte ("CTR"): bit 0 keyboard interrupt, bit 2 system flag (POST passed),
// bit 4 keyboard disabled, bit 5 aux disabled. Firecracker starts it at KBDINT | SYS.
const CTR_KBDINT = 0x01;
const CTR_SYS = 0x04;
const CTR_KBDDIS = 0x10;
const CTR_AUXDIS = 0x20;
// Output port: bit 0 CPU reset (1 = running), bit 1 A20 gate (1 = enabled, as after a PC's
// BIOS; Linux needs A20 on and never turns it off).
const OUTPUT_PORT_RESET = 0x01;
const RESET_OUTPUT_PORT = OUTPUT_PORT_RESET | 0x02;

const W_OUTPUT_FULL = 2;
const W_OUTPUT = 3;
const W_PENDING = 4; // a command waiting for its parameter at 0x60 (0: none)
const W_CTR = 5;
const W_OUTPUT_PORT = 6;
const STATE_BYTES = 32;
const I8042_MAGIC = 0x38303432; // "8042"

/** What an {@linkcode I8042} needs from its surroundings, set once per Worker. */
export interface I8042Options {
  /**
   * Called when the guest resets the machine through the controller (command 0xFE, or an
   * output port write with the reset bit clear): stop every vCPU and end or restart the VM.
   * Called without the controller's lock held.
   */
  requestReset: () => void;
}

/**
 * An 8042 keyboard controller over shared state: `read`/`write` take the offset from 0x60 (0
 * for the data port, 4 for the status/command port).
 *
 * @example
 * ```ts
 * import { I8042, I8042_COMMAND_PORT, I8042_DATA_PORT } from "@pvkit/vmm";
 * let reset = false;
 * const kbc = new I8042(I8042.createState(), { requestReset: () => reset = true });
 * const port = (p: number) => p - I8042_DATA_PORT;
 * // Linux's BOOT_KBD reboot: wait for the input buffer to drain, then pulse reset.
 * while (kbc.read(port(I8042_COMMAND_PORT)) & 0x02);
 * kbc.write(port(I8042_COMMAND_PORT), 0xfe);
 * console.log(reset); // true
 * ```
 */
export class I8042 {
  readonly #words: Int32Array;
  readonly #requestReset: () => void;

  /** Maps `state` (from {@linkcode I8042.createState}); throws `PvkitError` on another buffer. */
  constructor(state: SharedArrayBuffer, options: I8042Options) {
    this.#words = deviceWords(state, STATE_BYTES, I8042_MAGIC, "I8042");
    this.#requestReset = options.requestReset;
  }

  /**
   * A controller's shared state after power-on: output buffer empty, command byte 0x05
   * (keyboard interrupt, system flag), output port 0x03 (reset inactive, A20 on).
   *
   * @example
   * ```ts
   * import { I8042 } from "@pvkit/vmm";
   * const kbc = new I8042(I8042.createState(), { requestReset: () => {} });
   * console.log(kbc.read(4)); // 0: nothing to read, ready for a command
   * ```
   */
  static createState(): SharedArrayBuffer {
    const state = newDeviceState(STATE_BYTES, I8042_MAGIC);
    const words = new Int32Array(state);
    words[W_CTR] = CTR_KBDINT | CTR_SYS;
    words[W_OUTPUT_PORT] = RESET_OUTPUT_PORT;
    return state;
  }

  /**
   * Reads the data port (offset 0: the pending answer, which it consumes; 0 when none) or the
   * status port (offset 4: 0x01 while an answer waits, else 0). Other offsets read 0xFF.
   *
   * @example
   * ```ts
   * import { I8042 } from "@pvkit/vmm";
   * const kbc = new I8042(I8042.createState(), { requestReset: () => {} });
   * kbc.write(4, 0xaa); // controller self test
   * console.log(kbc.read(4), kbc.read(0).toString(16), kbc.read(4)); // 1 55 0
   * ```
   */
  read(offset: number): number {
    const w = this.#words;
    lockWord(w, LOCK);
    let value = 0xff;
    if (offset === DATA) {
      value = w[W_OUTPUT_FULL] ? w[W_OUTPUT] : 0;
      w[W_OUTPUT_FULL] = 0;
    } else if (offset === COMMAND) {
      value = w[W_OUTPUT_FULL] ? STATUS_OBF : 0;
    }
    unlockWord(w, LOCK);
    return value;
  }

  /**
   * Writes a command (offset 4) or a command's parameter (offset 0). Bytes at offset 0 with no
   * command waiting would go to the keyboard; there is none, so they are dropped.
   *
   * @example
   * ```ts
   * import { I8042 } from "@pvkit/vmm";
   * const kbc = new I8042(I8042.createState(), { requestReset: () => {} });
   * kbc.write(4, 0x60); // write the command byte...
   * kbc.write(0, 0x45); // ...with this value
   * kbc.write(4, 0x20); // read it back
   * console.log(kbc.read(0).toString(16)); // 45
   * ```
   */
  write(offset: number, value: number): void {
    const w = this.#words;
    const byte = value & 0xff;
    let reset = false;
    lockWord(w, LOCK);
    if (offset === COMMAND) {
      w[W_PENDING] = 0; // a new command abandons a parameter still awaited
      reset = this.#command(byte);
    } else if (offset === DATA) {
      const pending = w[W_PENDING];
      w[W_PENDING] = 0;
      if (pending === CMD_WRITE_CTR) {
        w[W_CTR] = byte;
      } else if (pending === CMD_WRITE_OUTPUT_PORT) {
        w[W_OUTPUT_PORT] = byte | OUTPUT_PORT_RESET;
        reset = !(byte & OUTPUT_PORT_RESET);
      }
    }
    unlockWord(w, LOCK);
    if (reset) this.#requestReset();
  }

  /** Runs one controller command; true when it resets the CPU. Lock held. */
  #command(command: number): boolean {
    const w = this.#words;
    switch (command) {
      case CMD_READ_CTR:
        this.#answer(w[W_CTR]);
        break;
      case CMD_WRITE_CTR:
      case CMD_WRITE_OUTPUT_PORT:
        w[W_PENDING] = command;
        break;
      case CMD_AUX_DISABLE:
        w[W_CTR] |= CTR_AUXDIS;
        break;
      case CMD_AUX_ENABLE:
        w[W_CTR] &= ~CTR_AUXDIS;
        break;
      case CMD_SELF_TEST:
        this.#answer(SELF_TEST_OK);
        break;
      case CMD_KBD_TEST:
        this.#answer(INTERFACE_TEST_OK);
        break;
      case CMD_KBD_DISABLE:
        w[W_CTR] |= CTR_KBDDIS;
        break;
      case CMD_KBD_ENABLE:
        w[W_CTR] &= ~CTR_KBDDIS;
        break;
      case CMD_READ_OUTPUT_PORT:
        this.#answer(w[W_OUTPUT_PORT]);
        break;
      default:
        return command >= CMD_PULSE_FIRST && !(command & OUTPUT_PORT_RESET);
    }
    return false;
  }

  #answer(byte: number): void {
    this.#words[W_OUTPUT] = byte;
    this.#words[W_OUTPUT_FULL] = 1;
  }
}
