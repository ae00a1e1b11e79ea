import { assert, assertEquals, assertThrows } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { CmosRtc, RTC_CENTURY_REGISTER, RTC_DATA_PORT, RTC_INDEX_PORT } from "./cmos_rtc.ts";

/** An RTC over a clock the test sets, and Linux's CMOS_READ (index to 0x70, data from 0x71). */
function setup(ms: number) {
  const clock = { ms };
  const rtc = new CmosRtc(CmosRtc.createState(), { clock: () => clock.ms });
  const cmos = (index: number): number => {
    rtc.write(RTC_INDEX_PORT - 0x70, index);
    return rtc.read(RTC_DATA_PORT - 0x70);
  };
  const cmosWrite = (index: number, value: number) => {
    rtc.write(0, index);
    rtc.write(1, value);
  };
  return { rtc, clock, cmos, cmosWrite };
}

const fromBcd = (v: number) => (v >> 4) * 10 + (v & 0x0f);

/** drivers/rtc/rtc-mc146818-lib.c mc146818_get_time, as register reads. */
function linuxGetTime(cmos: (index: number) => number) {
  for (;;) {
    const sec = cmos(0x00);
    if (cmos(0x0a) & 0x80) continue; // UIP
    if (sec !== cmos(0x00)) continue;
    const t = {
      sec,
      min: cmos(0x02),
      hour: cmos(0x04),
      mday: cmos(0x07),
      mon: cmos(0x08),
      year: cmos(0x09),
    };
    const ctrl = cmos(0x0b);
    if (cmos(0x0a) & 0x80 || sec !== cmos(0x00)) continue;
    if (ctrl & 0x04) return t;
    return {
      sec: fromBcd(t.sec),
      min: fromBcd(t.min),
      hour: fromBcd(t.hour),
      mday: fromBcd(t.mday),
      mon: fromBcd(t.mon),
      year: fromBcd(t.year),
    };
  }
}

Deno.test("cmos rtc: ports", () => {
  assertEquals([RTC_INDEX_PORT, RTC_DATA_PORT, RTC_CENTURY_REGISTER], [0x70, 0x71, 0x32]);
});

Deno.test("cmos rtc: BCD time fields for a fixed clock (2024-02-29 23:59:58 UTC, Thursday)", () => {
  const { cmos } = setup(Date.UTC(2024, 1, 29, 23, 59, 58, 999));
  assertEquals(cmos(0x00), 0x58);
  assertEquals(cmos(0x02), 0x59);
  assertEquals(cmos(0x04), 0x23);
  assertEquals(cmos(0x06), 0x05, "day of week, Sunday = 1");
  assertEquals(cmos(0x07), 0x29);
  assertEquals(cmos(0x08), 0x02);
  assertEquals(cmos(0x09), 0x24);
  assertEquals(cmos(0x32), 0x20);
});

Deno.test("cmos rtc: status registers A-D", () => {
  const { cmos, cmosWrite } = setup(0);
  assertEquals(cmos(0x0a), 0x26, "UIP clear; 32.768 kHz, 1024 Hz");
  assertEquals(cmos(0x0b), 0x02, "24-hour, BCD");
  assertEquals(cmos(0x0c), 0x00);
  assertEquals(cmos(0x0d), 0x80, "VRT");
  cmosWrite(0x0a, 0xa6);
  assertEquals(cmos(0x0a), 0x26, "UIP is read-only and never set");
  cmosWrite(0x0c, 0xff);
  cmosWrite(0x0d, 0x00);
  assertEquals([cmos(0x0c), cmos(0x0d)], [0x00, 0x80]);
});

Deno.test("cmos rtc: Linux's mc146818_get_time reads the injected clock", () => {
  const { cmos } = setup(Date.UTC(2031, 11, 31, 7, 8, 9));
  assertEquals(linuxGetTime(cmos), { sec: 9, min: 8, hour: 7, mday: 31, mon: 12, year: 31 });
});

Deno.test("cmos rtc: the fields come from the snapshot taken at the seconds read", () => {
  const { cmos, clock } = setup(Date.UTC(2023, 11, 31, 23, 59, 59, 900));
  assertEquals(cmos(0x00), 0x59);
  clock.ms += 200; // the year rolls over between the reads
  assertEquals([cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09)], [
    0x59,
    0x23,
    0x31,
    0x12,
    0x23,
  ]);
  assertEquals(cmos(0x00), 0x00, "a new seconds read takes a new snapshot");
  assertEquals([cmos(0x07), cmos(0x08), cmos(0x09)], [0x01, 0x01, 0x24]);
  clock.ms += 5_000;
  assertEquals(cmos(0x02), 0x00, "a second-old snapshot is refreshed without a seconds read");
  assertEquals(cmos(0x00), 0x05);
});

Deno.test("cmos rtc: binary and 12-hour modes from register B", () => {
  const { cmos, cmosWrite } = setup(Date.UTC(1999, 6, 4, 15, 30, 45));
  cmosWrite(0x0b, 0x06); // binary, 24-hour
  assertEquals([cmos(0x00), cmos(0x04), cmos(0x09), cmos(0x32)], [45, 15, 99, 19]);
  cmosWrite(0x0b, 0x00); // BCD, 12-hour: 3 PM
  assertEquals(cmos(0x04), 0x80 | 0x03);
  cmosWrite(0x0b, 0x04); // binary, 12-hour
  assertEquals(cmos(0x04), 0x80 | 3);
});

Deno.test("cmos rtc: 12-hour mode shows midnight and noon as 12", () => {
  const { cmos, cmosWrite, clock } = setup(Date.UTC(2020, 0, 1, 0, 15));
  cmosWrite(0x0b, 0x00);
  assertEquals(cmos(0x04), 0x12);
  clock.ms = Date.UTC(2020, 0, 1, 12, 15);
  assertEquals(cmos(0x00), 0x00);
  assertEquals(cmos(0x04), 0x80 | 0x12);
});

Deno.test("cmos rtc: dates across eras match Date's", () => {
  const { cmos, cmosWrite, clock } = setup(0);
  cmosWrite(0x0b, 0x06); // binary
  for (
    let ms = Date.UTC(1969, 0, 1);
    ms < Date.UTC(2101, 0, 1);
    ms += 86_400_000 * 37 + 3_600_000
  ) {
    clock.ms = ms;
    const d = new Date(ms);
    cmos(0x00);
    const got = [cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32), cmos(0x06), cmos(0x04)];
    const want = [
      d.getUTCDate(),
      d.getUTCMonth() + 1,
      d.getUTCFullYear() % 100,
      Math.floor(d.getUTCFullYear() / 100),
      d.getUTCDay() + 1,
      d.getUTCHours(),
    ];
    assertEquals(got, want, d.toISOString());
  }
});

Deno.test("cmos rtc: time writes are ignored, CMOS memory keeps writes, index sets NMI mask", () => {
  const { rtc, cmos, cmosWrite } = setup(Date.UTC(2024, 0, 1, 1, 2, 3));
  cmosWrite(0x00, 0x30);
  cmosWrite(0x09, 0x70);
  cmosWrite(0x32, 0x19);
  assertEquals([cmos(0x00), cmos(0x09), cmos(0x32)], [0x03, 0x24, 0x20]);
  for (let i = 0x0e; i < 0x80; i++) if (i !== 0x32) assertEquals(cmos(i), 0, `byte ${i}`);
  cmosWrite(0x01, 0x45); // seconds alarm: plain memory
  cmosWrite(0x7f, 0xa5);
  assertEquals([cmos(0x01), cmos(0x7f)], [0x45, 0xa5]);
  rtc.write(0, 0x80 | 0x0d);
  assert(rtc.nmiMasked);
  assertEquals(rtc.read(1), 0x80, "bit 7 of the index is the NMI mask, not part of the index");
  rtc.write(0, 0x0d);
  assert(!rtc.nmiMasked);
  assertEquals(rtc.read(0), 0xff, "the index port is write-only");
});

Deno.test("cmos rtc: a state that is not an RTC's is refused", () => {
  const e = assertThrows(() => new CmosRtc(new SharedArrayBuffer(192)));
  assert(e instanceof PvkitError && e.code === "device-state", String(e));
});
