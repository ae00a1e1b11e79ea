// MSR accesses with Linux's exception fixup: a #GP on a plain rdmsrq/wrmsrq is caught, warned
// about ("unchecked MSR access error") and execution continues; a faulting read yields 0.
// Not exported from mod.ts.

import type { GuestCpu } from "./guest_cpu.ts";
import { GuestFault } from "./guest_cpu.ts";

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** WRMSR that survives #GP like Linux's wrmsrq: pushes a warning and returns false. */
export function wrmsrUnchecked(
  cpu: GuestCpu,
  msr: number,
  value: bigint,
  warnings: string[],
): boolean {
  try {
    cpu.wrmsr(msr, value);
    return true;
  } catch (e) {
    if (!(e instanceof GuestFault) || e.vector !== "GP") throw e;
    // [arch/x86/mm/extable.c] ex_handler_msr: warn (Linux: once per site), skip the WRMSR.
    warnings.push(
      `cpu ${cpu.index}: unchecked MSR access error: WRMSR to ${hex(msr)} ` +
        `(tried to write ${hex(value)})`,
    );
    return false;
  }
}

/** RDMSR that survives #GP like Linux's rdmsrq: pushes a warning and reads 0. */
export function rdmsrUnchecked(cpu: GuestCpu, msr: number, warnings: string[]): bigint {
  try {
    return cpu.rdmsr(msr);
  } catch (e) {
    if (!(e instanceof GuestFault) || e.vector !== "GP") throw e;
    // ex_handler_msr: a faulting read returns 0 in EDX:EAX.
    warnings.push(`cpu ${cpu.index}: unchecked MSR access error: RDMSR from ${hex(msr)}`);
    return 0n;
  }
}
