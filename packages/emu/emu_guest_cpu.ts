/**
 * The emulated vCPU as `@pvkit/guest`'s drivers see it: {@linkcode GuestCpu} over an
 * {@linkcode EmuVcpu}, with faults as {@linkcode GuestFault} exceptions.
 *
 * @module
 */

import type { CpuidRegisters, GuestMemory } from "@pvkit/machine";
import { type GuestCpu, GuestFault } from "@pvkit/guest";
import type { EmuVcpu } from "./emu_vcpu.ts";

/** Port 0x80, the legacy I/O delay port. */
const IO_DELAY_PORT = 0x80;

/**
 * A {@linkcode GuestCpu} running on an emulated vCPU.
 *
 * @example
 * ```ts
 * import { EmuGuestCpu, EmuMachine } from "@pvkit/emu";
 * import { detectKvm } from "@pvkit/guest";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", host: "linux-6.18" }));
 * vm.run([function* (vcpu) {
 *   console.log(detectKvm(new EmuGuestCpu(vcpu), { possibleCpus: 1 })?.base.toString(16)); // "40000000"
 *   yield { kind: "yield" };
 * }]);
 * ```
 */
export class EmuGuestCpu implements GuestCpu {
  /** The emulated vCPU underneath. */
  readonly vcpu: EmuVcpu;

  /** Wraps an emulated vCPU. */
  constructor(vcpu: EmuVcpu) {
    this.vcpu = vcpu;
  }

  /** The vCPU index. */
  get index(): number {
    return this.vcpu.index;
  }
  /** Guest RAM. */
  get memory(): GuestMemory {
    return this.vcpu.memory;
  }
  /** 64-bit mode. */
  get longMode(): boolean {
    return this.vcpu.longMode;
  }
  /** CPUID. */
  cpuid(leaf: number, subleaf = 0): CpuidRegisters {
    return this.vcpu.cpuid(leaf, subleaf);
  }
  /** RDMSR; #GP as {@linkcode GuestFault}. */
  rdmsr(msr: number): bigint {
    const r = this.vcpu.rdmsr(msr);
    if (r.kind === "gp") throw new GuestFault("GP", `RDMSR 0x${msr.toString(16)} raised #GP`);
    return r.value;
  }
  /** WRMSR; #GP as {@linkcode GuestFault}. */
  wrmsr(msr: number, value: bigint): void {
    if (this.vcpu.wrmsr(msr, value).kind === "gp") {
      throw new GuestFault("GP", `WRMSR 0x${msr.toString(16)} raised #GP`);
    }
  }
  /** A hypercall; RAX as the guest's signed long. */
  hypercall(nr: number, a0 = 0n, a1 = 0n, a2 = 0n, a3 = 0n): bigint {
    const ret = this.vcpu.hypercall(BigInt(nr), a0, a1, a2, a3);
    return this.vcpu.longMode ? BigInt.asIntN(64, ret) : BigInt.asIntN(32, ret);
  }
  /** RDTSC. */
  rdtsc(): bigint {
    return this.vcpu.rdtsc();
  }
  /** The APIC ID. */
  apicId(): number {
    return this.vcpu.apicId;
  }
  /** The native EOI write. */
  apicEoi(): void {
    this.vcpu.apicEoi();
  }
  /** A native ICR write. */
  sendIpi(destApicId: number, vector: number, nmi = false): void {
    this.vcpu.sendIpi(destApicId, vector, nmi ? "nmi" : "fixed");
  }
  /** The native port-0x80 delay. */
  ioDelay(): void {
    this.vcpu.out(IO_DELAY_PORT, 1, 0);
  }
}
