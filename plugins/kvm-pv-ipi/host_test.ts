import { assertEquals } from "@std/assert";
import {
  hypercallError,
  KVM_EINVAL,
  KVM_ENOSYS,
  KVM_EOPNOTSUPP,
  KVM_EPERM,
  KVM_HC_SEND_IPI,
} from "@pvkit/abi";
import { EmuMachine, type EmuOptions, type EmuVcpu } from "@pvkit/emu";
import type { InterruptRequest } from "@pvkit/machine";
import { compose } from "@pvkit/pvkit";
import { pvUnhaltState } from "@pvkit/abi";

const HC = BigInt(KVM_HC_SEND_IPI);
const HIDDEN = {
  enforcePvCpuid: true,
  cpuid: [{ leaf: 0x40000001, eax: 0, ebx: 0, ecx: 0, edx: 0 }],
};
const ALL64 = (1n << 64n) - 1n;
const FIXED = (vector: number): bigint => BigInt(vector); // APIC_DM_FIXED = 0

function machine(
  smp: number | string,
  options: EmuOptions = {},
  type = "q35,kernel-irqchip=split",
): EmuMachine {
  return EmuMachine.create(
    compose({ cpu: "host", machine: type, smp, host: "linux-6.12" }),
    options,
  );
}

/** Runs `body` on vCPU 0 of `vm`, alone, and returns what it returned. */
function onVcpu0<T>(vm: EmuMachine, body: (cpu: EmuVcpu) => T): T {
  let out: T | undefined;
  vm.run([function* (cpu) {
    out = body(cpu);
    yield { kind: "yield" };
  }]);
  return out!;
}

/** APIC IDs whose IRR holds `vector`. */
function pending(vm: EmuMachine, vector: number): number[] {
  return vm.vcpus.filter((v) => v.apic?.highestIrr() === vector).map((v) => v.apicId);
}

/** Records what reaches each vCPU's requestInterrupt (kvm_apic_set_irq). */
function recordRequests(vm: EmuMachine): InterruptRequest[] {
  const seen: InterruptRequest[] = [];
  for (const v of vm.vcpus) {
    const deliver = v.requestInterrupt.bind(v);
    v.requestInterrupt = (request) => {
      seen.push(request);
      return deliver(request);
    };
  }
  return seen;
}

Deno.test("SEND_IPI: bit i of a0 → APIC ID min+i; RAX = IPIs accepted (§5 nr 10)", () => {
  const vm = machine(4);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b1110n, 0n, 0n, FIXED(0x40))), 3n);
  assertEquals(pending(vm, 0x40), [1, 2, 3]);
});

Deno.test("SEND_IPI: the sender's own bit is an IPI like any other; empty bitmaps give 0", () => {
  const vm = machine(4);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 1n, 0n, 0n, FIXED(0x41))), 1n);
  assertEquals(pending(vm, 0x41), [0]);
  assertEquals(onVcpu0(machine(4), (cpu) => cpu.hypercall(HC, 0n, 0n, 0n, FIXED(0x41))), 0n);
});

Deno.test("SEND_IPI: a1 covers min+64.. for a 64-bit caller", () => {
  const vm = machine(200);
  const ret = onVcpu0(vm, (cpu) => cpu.hypercall(HC, 1n << 5n, 1n | (1n << 63n), 10n, FIXED(0x42)));
  assertEquals(ret, 3n);
  assertEquals(pending(vm, 0x42), [15, 74, 137]);
});

Deno.test("SEND_IPI: a 32-bit caller has 32-ID clusters and 32-bit arguments", () => {
  const vm = machine(200);
  const ret = onVcpu0(vm, (cpu) => {
    cpu.longMode = false;
    // a0 bit 40 and a2's upper half vanish when masked to 32 bits.
    return cpu.hypercall(HC, (1n << 40n) | 1n, 1n | (1n << 31n), (7n << 32n) | 10n, FIXED(0x43));
  });
  assertEquals(ret, 3n);
  assertEquals(pending(vm, 0x43), [10, 42, 73]);
});

Deno.test("SEND_IPI: min is a u32 (a2's upper half ignored) and min += cluster wraps", () => {
  const vm = machine(128);
  // First half: min = 0xffffffff > max_apic_id → 0. Second: min = 0xffffffff + 64 = 63 (u32).
  const ret = onVcpu0(vm, (cpu) => cpu.hypercall(HC, ALL64, 0b11n, 0xffff_ffffn, FIXED(0x44)));
  assertEquals(ret, 2n);
  assertEquals(pending(vm, 0x44), [63, 64]);
  const vm2 = machine(8);
  assertEquals(onVcpu0(vm2, (cpu) => cpu.hypercall(HC, 1n, 0n, (5n << 32n) | 2n, FIXED(0x45))), 1n);
  assertEquals(pending(vm2, 0x45), [2]);
});

Deno.test("SEND_IPI: bits past max_apic_id are ignored; min > max_apic_id contributes 0", () => {
  const vm = machine(4);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, ALL64, ALL64, 0n, FIXED(0x46))), 4n);
  assertEquals(onVcpu0(machine(4), (cpu) => cpu.hypercall(HC, 0b11n, 0n, 2n, FIXED(0x46))), 2n);
  assertEquals(onVcpu0(machine(4), (cpu) => cpu.hypercall(HC, 0b100n, 0n, 2n, FIXED(0x46))), 0n);
  assertEquals(onVcpu0(machine(4), (cpu) => cpu.hypercall(HC, ALL64, ALL64, 4n, FIXED(0x46))), 0n);
});

Deno.test("SEND_IPI: APIC IDs missing from the physical map are skipped", () => {
  const vm = machine("6,sockets=2,cores=3,threads=1"); // APIC IDs 0 1 2 4 5 6
  assertEquals(vm.vcpus.map((v) => v.apicId), [0, 1, 2, 4, 5, 6]);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b1111000n, 0n, 0n, FIXED(0x47))), 3n);
  assertEquals(pending(vm, 0x47), [4, 5, 6]);
});

Deno.test("SEND_IPI: a logical destination or a shorthand in the ICR → -KVM_EINVAL", () => {
  for (const icr of [0x800n, 0x40000n, 0x80000n, 0xc0000n, 0xc08fdn]) {
    const vm = machine(4);
    const ret = onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b1111n, 0n, 0n, icr | 0x48n));
    assertEquals([icr, ret], [icr, hypercallError(KVM_EINVAL, true)]); // 0xffffffffffffffea
    assertEquals(pending(vm, 0x48), []);
  }
  const ret32 = onVcpu0(machine(4), (cpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC, 1n, 0n, 0n, 0x800n);
  });
  assertEquals(ret32, 0xffff_ffean);
});

Deno.test("SEND_IPI without an APIC map (kernel-irqchip=off) → -95; the ICR check comes first", () => {
  const vm = machine(4, {}, "q35,kernel-irqchip=off");
  assertEquals(
    onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, FIXED(0x49))),
    hypercallError(KVM_EOPNOTSUPP, true),
  );
  assertEquals(
    onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, 0x800n)),
    hypercallError(KVM_EINVAL, true),
  );
  const ret32 = onVcpu0(vm, (cpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC, 0b10n, 0n, 0n, FIXED(0x49));
  });
  assertEquals(ret32, 0xffff_ffa1n);
});

Deno.test("SEND_IPI: the ICR decode (vector, mode, level bit 14, trigger bit 15) reaches the APIC", () => {
  const vm = machine(4);
  const seen = recordRequests(vm);
  // Bit 12 (delivery status) and bits above 19 are not looked at.
  const icr = 0xc000n | 0x400n | 0x1000n | 0xfff0_0000n | 0x52n;
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, icr)), 1n);
  assertEquals(seen, [{
    destination: 1,
    vector: 0x52,
    deliveryMode: "nmi",
    level: true,
    levelTriggered: true,
  }]);
});

Deno.test("SEND_IPI: every delivery mode passes through; EXTINT (7) delivers nothing", () => {
  const modes: [bigint, string | undefined][] = [
    [0x000n, "fixed"],
    [0x100n, "lowest"],
    [0x200n, "smi"],
    [0x400n, "nmi"],
    [0x500n, "init"],
    [0x600n, "startup"],
    [0x700n, undefined],
  ];
  for (const [mode, name] of modes) {
    const vm = machine(2);
    const seen = recordRequests(vm);
    const ret = onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, mode | 0x50n));
    assertEquals([mode, ret], [mode, name === undefined ? 0n : 1n]);
    assertEquals(seen.map((r) => r.deliveryMode), name === undefined ? [] : [name]);
  }
});

Deno.test("SEND_IPI in remote-read mode (3) sets pv_unhalted and counts 1, like KICK_CPU", () => {
  const vm = machine(2);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, 0x300n)), 1n);
  assertEquals(pvUnhaltState(vm.vcpu(1)).pvUnhalted, true);
});

Deno.test("SEND_IPI: FIXED needs the target APIC enabled; NMI always counts", () => {
  const vm = machine(4);
  vm.vcpu(2).apic!.enabled = false;
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b1110n, 0n, 0n, FIXED(0x4a))), 2n);
  assertEquals(pending(vm, 0x4a), [1, 3]);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b1110n, 0n, 0n, 0x400n)), 3n);
  assertEquals(vm.vcpu(2).apic!.nmiPending, true);
});

Deno.test("SEND_IPI wakes halted targets that can take the interrupt", () => {
  const vm = machine(3);
  const summary = vm.run([
    function* (cpu) {
      while (!vm.vcpu(1).isHalted() || !vm.vcpu(2).isHalted()) yield { kind: "spin", ns: 1000 };
      assertEquals(cpu.hypercall(HC, 0b110n, 0n, 0n, FIXED(0x61)), 2n);
      yield { kind: "yield" };
    },
    function* (cpu) {
      cpu.sti();
      yield { kind: "hlt" };
      yield { kind: "yield" }; // re-enter the guest: the interrupt is taken here
    },
    function* (cpu) {
      cpu.sti();
      yield { kind: "hlt" };
      yield { kind: "yield" }; // re-enter the guest: the interrupt is taken here
    },
  ]);
  assertEquals(summary.blocked, []);
  assertEquals([vm.vcpu(1).delivered, vm.vcpu(2).delivered], [[0x61], [0x61]]);
});

Deno.test("SEND_IPI gate: -KVM_ENOSYS with enforcement on and bit 11 hidden (§7)", () => {
  const vm = machine(4, HIDDEN);
  const ret = onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, FIXED(0x4b)));
  assertEquals(ret, hypercallError(KVM_ENOSYS, true)); // 0xfffffffffffffc18
  assertEquals(pending(vm, 0x4b), []);
  const ret32 = onVcpu0(vm, (cpu) => {
    cpu.longMode = false;
    return cpu.hypercall(HC, 0b10n, 0n, 0n, FIXED(0x4b));
  });
  assertEquals(ret32, 0xffff_fc18n);
});

Deno.test("SEND_IPI gate: enforcement on with bit 11 advertised, or enforcement off, works", () => {
  const on = machine(4, { enforcePvCpuid: true });
  assertEquals(onVcpu0(on, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, FIXED(0x4c))), 1n);
  const off = machine(4, { cpuid: [{ leaf: 0x40000001, eax: 0 }] });
  assertEquals(onVcpu0(off, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, FIXED(0x4c))), 1n);
});

Deno.test("SEND_IPI at CPL 3 returns -KVM_EPERM and sends nothing (backend check)", () => {
  const vm = machine(4);
  const ret = onVcpu0(vm, (cpu) => {
    cpu.cpl = 3;
    return cpu.hypercall(HC, 0b10n, 0n, 0n, FIXED(0x4d));
  });
  assertEquals(ret, hypercallError(KVM_EPERM, true));
  assertEquals(pending(vm, 0x4d), []);
});

Deno.test("SEND_IPI reaches all 4096 vCPUs with ⌈4096/128⌉ = 32 hypercalls (64-bit guest)", () => {
  const vm = machine(4096);
  const rets = onVcpu0(vm, (cpu) => {
    const out: bigint[] = [];
    for (let min = 0n; min < 4096n; min += 128n) {
      out.push(cpu.hypercall(HC, ALL64, ALL64, min, FIXED(0xfd)));
    }
    return out;
  });
  assertEquals(rets.length, 32);
  assertEquals(rets.every((r) => r === 128n), true);
  assertEquals(pending(vm, 0xfd).length, 4096);
  assertEquals(vm.vcpu(0).exits.hypercall, 32);
});

Deno.test("SEND_IPI from a 32-bit guest needs 4096/64 = 64 hypercalls for 4096 vCPUs", () => {
  const vm = machine(4096);
  const total = onVcpu0(vm, (cpu) => {
    cpu.longMode = false;
    let sum = 0n;
    for (let min = 0n; min < 4096n; min += 64n) {
      sum += cpu.hypercall(HC, ALL64, ALL64, min, FIXED(0xfc));
    }
    return sum;
  });
  assertEquals(total, 4096n);
  assertEquals(vm.vcpu(0).exits.hypercall, 64);
});

Deno.test("SEND_IPI on the pvkit machine type: 32768 vCPUs in 256 hypercalls", () => {
  const vm = machine(32768, {}, "pvkit");
  const total = onVcpu0(vm, (cpu) => {
    let sum = 0n;
    for (let min = 0n; min < 32768n; min += 128n) {
      sum += cpu.hypercall(HC, ALL64, ALL64, min, 0x400n);
    }
    return sum;
  });
  assertEquals(total, 32768n);
  assertEquals(vm.vcpus.every((v) => v.apic!.nmiPending), true);
});

Deno.test("SEND_IPI ignores vCPUs not yet in KVM's APIC map (__pv_send_ipi reads map->phys_map)", () => {
  // nested-kvm.md, KVM 6.1 without KVM_SET_LAPIC: NMI to {0,1} from vCPU 0 returns 1.
  const vm = machine(2, { setLapicOnCreate: false });
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b11n, 0n, 0n, 0x400n)), 1n);
  assertEquals(vm.vcpu(1).apic!.nmiPending, false);
  // After KVM_SET_LAPIC: NMI to {1} = 1, fixed to {0,1} = 2, min = 1 works, a bit for an
  // APIC that does not exist is ignored.
  vm.setLapic(1);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b10n, 0n, 0n, 0x400n)), 1n);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b11n, 0n, 0n, FIXED(0x40))), 2n);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b1n, 0n, 1n, 0x400n)), 1n);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b110n, 0n, 0n, 0x400n)), 1n);
});

Deno.test("SEND_IPI has no broadcast: a bit for APIC ID 0xff is phys_map[0xff] (xAPIC mode)", () => {
  const vm = EmuMachine.create(
    compose({ cpu: "host,x2apic=off", machine: "q35,kernel-irqchip=split", smp: 4 }),
  );
  // min = 0xc0, bit 63 → APIC ID 0xff: no such vCPU, so 0 (KICK_CPU would broadcast).
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 1n << 63n, 0n, 0xc0n, 0x400n)), 0n);
  assertEquals(vm.vcpus.map((v) => v.apic!.nmiPending), [false, false, false, false]);
});

Deno.test("SEND_IPI skips hardware-disabled APICs (not in the map); software-disabled take NMIs", () => {
  const vm = machine(3);
  vm.vcpu(1).apic!.hardwareEnabled = false;
  vm.vcpu(2).apic!.softwareEnabled = false;
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b110n, 0n, 0n, 0x400n)), 1n);
  assertEquals(onVcpu0(vm, (cpu) => cpu.hypercall(HC, 0b110n, 0n, 0n, FIXED(0x40))), 0n);
  assertEquals(vm.vcpus.map((v) => v.apic!.nmiPending), [false, false, true]);
});
