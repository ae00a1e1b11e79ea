import { assertEquals } from "@std/assert";
import { longModeSegments } from "@pvkit/x86";
import { longModeSregs } from "./long_mode.ts";

Deno.test("longModeSregs: the boot GDT's segments, GDTR/IDTR, CR0/CR3/CR4, EFER", () => {
  const s = longModeSregs();
  const segs = longModeSegments();
  for (const name of ["cs", "ds", "es", "fs", "gs", "ss", "tr"] as const) {
    assertEquals(s[name], { ...segs[name] });
  }
  assertEquals(s.gdt, { base: 0x500n, limit: 31 });
  assertEquals(s.idt, { base: 0x520n, limit: 7 });
  assertEquals([s.cr0, s.cr3, s.cr4, s.efer], [0x80000011n, 0x9000n, 0x20n, 0x500n]);
  assertEquals(longModeSregs(4095).idt, { base: 0x520n, limit: 4095 });
});

Deno.test("longModeSregs: each call gives fresh segment objects", () => {
  const a = longModeSregs();
  a.cs.selector = 0x33;
  assertEquals(longModeSregs().cs.selector, 0x08);
});
