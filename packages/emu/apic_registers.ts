/**
 * The local APIC's registers as the guest reaches them: IA32_APIC_BASE (MSR 0x1B), the x2APIC
 * MSRs 0x800-0x8FF and the xAPIC page at 0xFEE00000, with KVM's rules for each
 * (kvm_set_apic_base, kvm_x2apic_msr_read/kvm_x2apic_msr_write, apic_mmio_read/apic_mmio_write).
 *
 * @module
 */

import { DELIVERY_MODES, MSR_GP, MSR_OK, type MsrHook, msrValue } from "@pvkit/machine";
import type { EmuVcpu } from "./emu_vcpu.ts";

const MSR_APIC_BASE = 0x1b;
const X2APIC_FIRST = 0x800;
const X2APIC_LAST = 0x8ff;
const ICR = 0x300;
const DFR = 0xe0;
const SELF_IPI = 0x3f0;
/** Bits 0-7 and 9 of IA32_APIC_BASE are reserved (kvm_set_apic_base's 0x2ff). */
const APIC_BASE_RESERVED = 0x2ffn;
/** Above the guest's physical-address width (52 bits: the most x86 allows). */
const APIC_BASE_HIGH_RESERVED = ~((1n << 52n) - 1n) & ((1n << 64n) - 1n);

/**
 * IA32_APIC_BASE and the x2APIC MSRs of every vCPU with an in-kernel LAPIC, as an
 * {@linkcode MsrHook} the emulated machine installs next to the plugins' MSRs.
 *
 * @example
 * ```ts
 * import { apicMsrHook } from "@pvkit/emu";
 * console.log(apicMsrHook().msrs.length); // 257
 * ```
 */
export function apicMsrHook(): MsrHook {
  const msrs = [MSR_APIC_BASE];
  for (let m = X2APIC_FIRST; m <= X2APIC_LAST; m++) msrs.push(m);
  return {
    msrs,
    read(ctx, msr) {
      const vcpu = ctx as EmuVcpu;
      const apic = vcpu.apic;
      if (!apic) return MSR_GP;
      if (msr === MSR_APIC_BASE) return msrValue(apic.apicBase);
      const v = x2apicRead(vcpu, (msr - X2APIC_FIRST) << 4);
      return v === undefined ? MSR_GP : msrValue(v);
    },
    write(ctx, msr, value, initiator) {
      const vcpu = ctx as EmuVcpu;
      if (!vcpu.apic) return MSR_GP;
      if (msr === MSR_APIC_BASE) {
        return setApicBase(vcpu, value, initiator === "host") ? MSR_OK : MSR_GP;
      }
      return x2apicWrite(vcpu, (msr - X2APIC_FIRST) << 4, value) ? MSR_OK : MSR_GP;
    },
  };
}

/**
 * kvm_set_apic_base: reserved bits, x2APIC without CPUID's x2APIC bit, and x2APIC without the
 * enable bit are refused; a guest may not go from x2APIC straight to xAPIC, nor from disabled
 * straight to x2APIC. True when the write is taken.
 */
function setApicBase(vcpu: EmuVcpu, value: bigint, hostInitiated: boolean): boolean {
  const apic = vcpu.apic!;
  const hasX2apic = ((vcpu.cpuidEntry(1).ecx >>> 21) & 1) === 1;
  const reserved = APIC_BASE_RESERVED | APIC_BASE_HIGH_RESERVED | (hasX2apic ? 0n : 0x400n);
  const enable = (value & 0x800n) !== 0n;
  const x2apic = (value & 0x400n) !== 0n;
  if ((value & reserved) !== 0n || (x2apic && !enable)) return false;
  if (!hostInitiated) {
    if (apic.x2apic && apic.hardwareEnabled && enable && !x2apic) return false;
    if (!apic.hardwareEnabled && x2apic) return false;
  }
  apic.bsp = (value & 0x100n) !== 0n;
  apic.x2apic = x2apic;
  apic.hardwareEnabled = enable;
  vcpu.vm.apicMap.invalidate();
  return true;
}

/** kvm_x2apic_msr_read: #GP (undefined) outside x2APIC mode, for DFR and unknown registers. */
function x2apicRead(vcpu: EmuVcpu, reg: number): bigint | undefined {
  const apic = vcpu.apic!;
  if (!apic.x2apic || !apic.hardwareEnabled || reg === DFR) return undefined;
  if (reg === ICR) return vcpu.icr;
  const v = apic.readRegister(reg);
  return v === undefined ? undefined : BigInt(v);
}

/** kvm_x2apic_msr_write: the ICR sends an IPI; other registers take 32 bits (bits 63:32 #GP). */
function x2apicWrite(vcpu: EmuVcpu, reg: number, value: bigint): boolean {
  const apic = vcpu.apic!;
  if (!apic.x2apic || !apic.hardwareEnabled) return false;
  if (reg === ICR) {
    vcpu.icr = value & ~0x1000n; // the busy bit is never set
    sendIcr(vcpu, Number(value & 0xffffffffn), Number(value >> 32n));
    return true;
  }
  if (value >> 32n !== 0n) return false;
  if (reg === SELF_IPI) {
    sendIcr(vcpu, Number(value & 0xffn) | 0x40000, apic.id);
    return true;
  }
  return apic.writeRegister(reg, Number(value));
}

/** kvm_apic_send_ipi: the destination from the shorthand (self) or the destination field. */
function sendIcr(vcpu: EmuVcpu, low: number, destination: number): void {
  const shorthand = (low >>> 18) & 3;
  const mode = DELIVERY_MODES[(low >>> 8) & 7];
  const dest = shorthand === 1 ? vcpu.apicId : shorthand === 0 ? destination : 0xffffffff;
  vcpu.vm.deliverToApic(vcpu, {
    destination: dest,
    vector: low & 0xff,
    deliveryMode: mode,
    level: (low & 0x4000) !== 0,
    levelTriggered: (low & 0x8000) !== 0,
  });
}

/**
 * An xAPIC MMIO read of 4 bytes at offset `reg` (apic_mmio_read): all ones when the APIC is
 * disabled or in x2APIC mode (KVM_X86_QUIRK_LAPIC_MMIO_HOLE), 0 for a register not modelled.
 *
 * @example
 * ```ts
 * import { EmuProbeBackend, xapicMmioRead } from "@pvkit/emu";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "p", machine: {}, vcpus: [{ steps: [] }] });
 * const vm = new EmuProbeBackend().machineFor(probe, [0]);
 * console.log(xapicMmioRead(vm.vcpus[0], 0xf0).toString(16)); // "ff" (SVR at reset)
 * ```
 */
export function xapicMmioRead(vcpu: EmuVcpu, reg: number): bigint {
  const apic = vcpu.apic;
  if (!apic || !apic.hardwareEnabled || apic.x2apic) return 0xffffffffn;
  if (reg === ICR) return vcpu.icr & 0xffffffffn;
  if (reg === ICR + 0x10) return (vcpu.icr >> 32n) & 0xffffffffn;
  return BigInt(apic.readRegister(reg) ?? 0);
}

/**
 * An xAPIC MMIO write of 4 bytes at offset `reg` (apic_mmio_write): dropped when the APIC is
 * disabled or in x2APIC mode; a write of the ICR's low half sends the IPI to ICR2's destination.
 *
 * @example
 * ```ts
 * import { EmuProbeBackend, xapicMmioRead, xapicMmioWrite } from "@pvkit/emu";
 * import { parseProbe } from "@pvkit/probe";
 * const probe = parseProbe({ name: "p", machine: {}, vcpus: [{ steps: [] }] });
 * const vcpu = new EmuProbeBackend().machineFor(probe, [0]).vcpus[0];
 * xapicMmioWrite(vcpu, 0xf0, 0x1ff);
 * console.log(xapicMmioRead(vcpu, 0xf0).toString(16)); // "1ff"
 * ```
 */
export function xapicMmioWrite(vcpu: EmuVcpu, reg: number, value: number): void {
  const apic = vcpu.apic;
  if (!apic || !apic.hardwareEnabled || apic.x2apic) return;
  if (reg === ICR + 0x10) {
    vcpu.icr = (vcpu.icr & 0xffffffffn) | (BigInt(value >>> 0) << 32n);
  } else if (reg === ICR) {
    vcpu.icr = (vcpu.icr & ~0xffffffffn) | BigInt((value & ~0x1000) >>> 0);
    sendIcr(vcpu, value >>> 0, Number(vcpu.icr >> 56n));
  } else {
    apic.writeRegister(reg, value >>> 0);
  }
}
