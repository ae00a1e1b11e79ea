/**
 * kvm-nopiodelay (CPUID 0x40000001 EAX bit 1): Linux's "slow" port I/O (outb_p, inb_p) follows
 * each access with a write to port 0x80 to give old ISA hardware time. In a VM that write is a
 * VM exit for nothing; with bit 1 Linux makes io_delay a no-op. The guest programs the legacy
 * PIT with slow port writes; the table counts the exits.
 *
 * Run: deno run -A examples/feature_kvm_nopiodelay.ts
 */

import { ioDelayCounts } from "@pvkit/kvm-nopiodelay";
import { boot, exits, run, table, us } from "./_harness.ts";

const OPS = 1000;
/** PIT channel 0 data port: a legacy device Linux drives with outb_p. */
const PIT_CH0 = 0x40;

const rows: (string | number)[][] = [];
for (const cpu of ["host", "host,kvm-nopiodelay=off"]) {
  const { vm, guest } = boot({ cpu });
  let elapsed = 0n;
  run(vm, [function* (c) {
    const t0 = c.vcpu.clock;
    for (let i = 0; i < OPS; i++) {
      c.vcpu.out(PIT_CH0, 1, i & 0xff); // outb_p = outb …
      guest.ioDelay(c); // … + pv_ops.cpu.io_delay
      yield { kind: "yield" };
    }
    elapsed = c.vcpu.clock - t0;
  }]);
  rows.push([
    `-cpu ${cpu}`,
    guest.uses("nop-io-delay") ? "no-op" : "out 0x80",
    OPS,
    exits(vm).io,
    ioDelayCounts(vm.vcpu(0)).writes,
    us(elapsed),
  ]);
}
table(["machine", "io_delay", "outb_p", "I/O exits", "port-0x80 exits", "guest time (µs)"], rows);
console.log(
  `benefit: ${OPS} slow port writes take ${rows[0][3]} exits (${rows[0][4]} to port 0x80) ` +
    `with kvm-nopiodelay vs ${rows[1][3]} (${rows[1][4]} to port 0x80) without`,
);
