/**
 * {@linkcode CmosRtc}: the PC's Motorola MC146818 real-time clock and CMOS memory at ports
 * 0x70 (index; bit 7 masks NMI) and 0x71 (data), showing the host's clock in UTC. Linux reads
 * it for the wall clock at boot when it has no kvmclock (arch/x86/kernel/rtc.c
 * mach_get_cmos_time → mc146818_get_time in drivers/rtc/rtc-mc146818-lib.c).
 *
 * The time registers follow the host clock: writes to them are ignored (the guest cannot set
 * the host's time), which a guest only sees if it runs `hwclock --systohc`. Register B's data
 * mode (bit 2: binary, else BCD) and hour format (bit 1: 24-hour) are honoured; it starts at
 * 0x02 (24-hour, BCD), which is what mc146818_get_time expects. UIP (register A bit 7) is
 * never set: the time registers show a snapshot of the clock taken when the seconds register
 * is read, so a reader that starts with the seconds (as mc146818_get_time does, and then
 * checks that they have not changed) gets a consistent time.
 *
 * Register map and bits: the MC146818A datasheet (Motorola), as Linux's
 * include/linux/mc146818rtc.h names them; century at 0x32 (the ACPI FADT's usual CENTURY
 * index). State lives in a SharedArrayBuffer ({@linkcode CmosRtc.createState}).
 *
 * @module
 */

import { deviceWords, LOCK, newDeviceState } from "./_device_state.ts";
import { lockWord, unlockWord } from "./_spin_lock.ts";

/** The index port (write: bits 6:0 select a CMOS byte, bit 7 masks NMI). Offset 0. */
export const RTC_INDEX_PORT = 0x70;
/** The data port (the selected CMOS byte). Offset 1. */
export const RTC_DATA_PORT = 0x71;
/** The CMOS byte holding the century (BCD 0x20 for 20xx). */
export const RTC_CENTURY_REGISTER = 0x32;

// CMOS bytes (mc146818rtc.h RTC_*).
const SECONDS = 0x00;
const MINUTES = 0x02;
const HOURS = 0x04;
const DAY_OF_WEEK = 0x06;
const DAY_OF_MONTH = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const REG_A = 0x0a; // RTC_FREQ_SELECT: bit 7 UIP, 6:4 divider, 3:0 rate
const REG_B = 0x0b; // RTC_CONTROL
const REG_C = 0x0c; // RTC_INTR_FLAGS: read-only, cleared by reading
const REG_D = 0x0d; // RTC_VALID: bit 7 VRT (battery good), read-only

const REG_A_UIP = 0x80;
// Divider 010 (32.768 kHz time base) and rate 0110 (1024 Hz), as a PC BIOS leaves it.
const RESET_REG_A = 0x26;
const REG_B_DM_BINARY = 0x04;
const REG_B_24H = 0x02;
const RESET_REG_B = REG_B_24H;
const REG_D_VRT = 0x80;
const HOUR_PM = 0x80; // 12-hour mode: bit 7 of the hours byte

const W_INDEX = 2;
const W_NMI_MASKED = 3;
const W_SNAPSHOT_VALID = 4;
const SNAPSHOT_F64 = 3; // Float64 index (byte 24): the clock's ms at the snapshot
const CMOS_BYTE = 64; // 128 bytes of CMOS memory (time registers excepted)
const CMOS_BYTES = 128;
const STATE_BYTES = CMOS_BYTE + CMOS_BYTES;
const RTC_MAGIC = 0x52544331; // "RTC1"
const MS_PER_DAY = 86_400_000;

/** What a {@linkcode CmosRtc} needs from its surroundings, set once per Worker. */
export interface CmosRtcOptions {
  /** The wall clock in ms since 1970-01-01 UTC. Default `Date.now`. */
  clock?: () => number;
}

/**
 * An MC146818 RTC and CMOS memory over shared state: `read`/`write` take the offset from
 * 0x70 (0 index, 1 data).
 *
 * @example
 * ```ts
 * import { CmosRtc } from "@pvkit/vmm";
 * const clock = () => Date.UTC(2024, 1, 29, 13, 5, 9); // 2024-02-29 13:05:09 UTC
 * const rtc = new CmosRtc(CmosRtc.createState(), { clock });
 * function cmos(index: number): number {
 *   rtc.write(0, index); // port 0x70
 *   return rtc.read(1); // port 0x71
 * }
 * const hex = [0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32].map((i) => cmos(i).toString(16));
 * console.log(hex.join(" ")); // "9 5 13 29 2 24 20" (BCD)
 * ```
 */
export class CmosRtc {
  readonly #words: Int32Array;
  readonly #snapshot: Float64Array;
  readonly #cmos: Uint8Array;
  readonly #clock: () => number;

  /** Maps `state` (from {@linkcode CmosRtc.createState}); throws `PvkitError` on another buffer. */
  constructor(state: SharedArrayBuffer, options: CmosRtcOptions = {}) {
    this.#words = deviceWords(state, STATE_BYTES, RTC_MAGIC, "CmosRtc");
    this.#snapshot = new Float64Array(state, 0, CMOS_BYTE / 8);
    this.#cmos = new Uint8Array(state, CMOS_BYTE, CMOS_BYTES);
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * An RTC's shared state: register A 0x26, B 0x02 (24-hour, BCD), C 0, D 0x80 (valid), the
   * other CMOS bytes 0.
   *
   * @example
   * ```ts
   * import { CmosRtc } from "@pvkit/vmm";
   * const rtc = new CmosRtc(CmosRtc.createState());
   * rtc.write(0, 0x0b);
   * console.log(rtc.read(1)); // 2
   * ```
   */
  static createState(): SharedArrayBuffer {
    const state = newDeviceState(STATE_BYTES, RTC_MAGIC);
    const cmos = new Uint8Array(state, CMOS_BYTE, CMOS_BYTES);
    cmos[REG_A] = RESET_REG_A;
    cmos[REG_B] = RESET_REG_B;
    return state;
  }

  /**
   * Whether the guest masked NMI (bit 7 of its last index write; nothing here raises NMIs).
   *
   * @example
   * ```ts
   * import { CmosRtc } from "@pvkit/vmm";
   * const rtc = new CmosRtc(CmosRtc.createState());
   * rtc.write(0, 0x8d);
   * console.log(rtc.nmiMasked); // true
   * ```
   */
  get nmiMasked(): boolean {
    return Atomics.load(this.#words, W_NMI_MASKED) !== 0;
  }

  /**
   * Reads the data port (offset 1: the CMOS byte selected by the last index write). The index
   * port is write-only and reads 0xFF, as do other offsets.
   *
   * @example
   * ```ts
   * import { CmosRtc } from "@pvkit/vmm";
   * const rtc = new CmosRtc(CmosRtc.createState(), { clock: () => 0 });
   * rtc.write(0, 0x0d);
   * console.log(rtc.read(1).toString(16)); // 80 (VRT: the time is valid)
   * ```
   */
  read(offset: number): number {
    if (offset !== 1) return 0xff;
    const w = this.#words;
    lockWord(w, LOCK);
    const index = w[W_INDEX];
    let value: number;
    if (index === REG_A) {
      value = this.#cmos[REG_A] & ~REG_A_UIP;
    } else if (index === REG_C) {
      value = 0; // no periodic, alarm or update interrupts are ever flagged
    } else if (index === REG_D) {
      value = REG_D_VRT;
    } else if (isClockRegister(index)) {
      value = this.#clockRegister(index);
    } else {
      value = this.#cmos[index];
    }
    unlockWord(w, LOCK);
    return value;
  }

  /**
   * Writes the index (offset 0: bits 6:0 select the CMOS byte, bit 7 masks NMI) or the
   * selected byte (offset 1). Writes to the time registers, C and D are ignored; register A's
   * UIP bit is read-only.
   *
   * @example
   * ```ts
   * import { CmosRtc } from "@pvkit/vmm";
   * const rtc = new CmosRtc(CmosRtc.createState());
   * rtc.write(0, 0x40); // an ordinary CMOS byte
   * rtc.write(1, 0x99);
   * console.log(rtc.read(1).toString(16)); // 99
   * ```
   */
  write(offset: number, value: number): void {
    const w = this.#words;
    const byte = value & 0xff;
    lockWord(w, LOCK);
    if (offset === 0) {
      w[W_INDEX] = byte & 0x7f;
      w[W_NMI_MASKED] = byte >> 7;
    } else if (offset === 1) {
      const index = w[W_INDEX];
      if (index === REG_A) this.#cmos[REG_A] = byte & ~REG_A_UIP;
      else if (index === REG_B) this.#cmos[REG_B] = byte;
      else if (index !== REG_C && index !== REG_D && !isClockRegister(index)) {
        this.#cmos[index] = byte;
      }
    }
    unlockWord(w, LOCK);
  }

  /** A time register from the snapshot, in register B's format. Lock held. */
  #clockRegister(index: number): number {
    const w = this.#words;
    const now = this.#clock();
    let ms = this.#snapshot[SNAPSHOT_F64];
    // A fresh snapshot at every seconds read (readers start there), and whenever the last one
    // is a second old, so that a reader that never reads the seconds does not see a stale time.
    if (index === SECONDS || !w[W_SNAPSHOT_VALID] || Math.abs(now - ms) >= 1000) {
      ms = now;
      this.#snapshot[SNAPSHOT_F64] = now;
      w[W_SNAPSHOT_VALID] = 1;
    }
    const regB = this.#cmos[REG_B];
    const days = Math.floor(ms / MS_PER_DAY);
    const secondOfDay = Math.floor((ms - days * MS_PER_DAY) / 1000);
    let field: number;
    switch (index) {
      case SECONDS:
        field = secondOfDay % 60;
        break;
      case MINUTES:
        field = Math.floor(secondOfDay / 60) % 60;
        break;
      case HOURS: {
        const hour = Math.floor(secondOfDay / 3600);
        if (regB & REG_B_24H) {
          field = hour;
          break;
        }
        return encode(hour % 12 || 12, regB) | (hour >= 12 ? HOUR_PM : 0);
      }
      case DAY_OF_WEEK:
        // 1 = Sunday; 1970-01-01 was a Thursday.
        field = (((days + 4) % 7) + 7) % 7 + 1;
        break;
      case YEAR:
        field = civilFromDays(days, CIVIL_YEAR) % 100;
        break;
      case RTC_CENTURY_REGISTER:
        field = Math.floor(civilFromDays(days, CIVIL_YEAR) / 100);
        break;
      case MONTH:
        field = civilFromDays(days, CIVIL_MONTH);
        break;
      default: // DAY_OF_MONTH
        field = civilFromDays(days, CIVIL_DAY);
    }
    return encode(field, regB);
  }
}

/** The registers that show the clock (alarm registers 1, 3 and 5 are plain CMOS bytes). */
function isClockRegister(index: number): boolean {
  return index === SECONDS || index === MINUTES || index === HOURS || index === DAY_OF_WEEK ||
    index === DAY_OF_MONTH || index === MONTH || index === YEAR || index === RTC_CENTURY_REGISTER;
}

/** `value` (0-99) in BCD, or binary when register B's DM bit says so. */
function encode(value: number, regB: number): number {
  return regB & REG_B_DM_BINARY ? value : ((value / 10) | 0) << 4 | value % 10;
}

const CIVIL_YEAR = 0;
const CIVIL_MONTH = 1;
const CIVIL_DAY = 2;

/**
 * One field of the proleptic Gregorian date `days` after 1970-01-01, without allocating
 * (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", civil_from_days).
 */
function civilFromDays(days: number, field: number): number {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153); // March = 0
  if (field === CIVIL_DAY) return dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  if (field === CIVIL_MONTH) return month;
  return yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
}
