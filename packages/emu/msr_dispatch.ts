/**
 * MSR dispatch compiled into a `switch`: once the plugins are installed, the machine builds one
 * function whose cases call each MSR's handler behind its CPUID gate, so every call site is
 * monomorphic, as in a hand-written VMM (the generic table lookup costs about 1.5x more).
 *
 * @module
 */

import {
  MSR_GP,
  MSR_OK,
  type MsrHook,
  type MsrInitiator,
  type MsrReadResult,
  type MsrWriteResult,
} from "@pvkit/machine";
import type { EmuVcpu } from "./emu_vcpu.ts";

/** Reads an MSR for a vCPU. */
export type MsrReader = (vcpu: EmuVcpu, msr: number, initiator: MsrInitiator) => MsrReadResult;

/** Writes an MSR for a vCPU. */
export type MsrWriter = (
  vcpu: EmuVcpu,
  msr: number,
  value: bigint,
  initiator: MsrInitiator,
) => MsrWriteResult;

/** What a host-initiated read of a gated-off MSR returns. */
const HOST_READ_ZERO: MsrReadResult = Object.freeze({ kind: "value", value: 0n });

/**
 * Compiles the dispatch of the given MSRs (index → hook) into two functions. The generated
 * code only references its arguments (the handlers and result constants), never any input
 * text: MSR indices are numbers and gate bits small integers.
 *
 * @example
 * ```ts
 * import { compileMsrDispatch } from "@pvkit/emu";
 * import { gatedMsrHook, MSR_OK, msrValue } from "@pvkit/machine";
 * const hook = gatedMsrHook({ 0x4b564d05: 12 }, { read: () => msrValue(1n), write: () => MSR_OK });
 * const { read } = compileMsrDispatch(new Map([[0x4b564d05, hook]]));
 * console.log(typeof read); // "function"
 * ```
 */
export function compileMsrDispatch(
  hooks: ReadonlyMap<number, MsrHook>,
): { read: MsrReader; write: MsrWriter } {
  const entries = [...hooks].filter(([msr]) => Number.isInteger(msr) && msr >= 0);
  const readers = entries.map(([, h]) => h.gated ? h.gated.read : h.read);
  const writers = entries.map(([, h]) => h.gated ? h.gated.write : h.write);
  const gates = entries.map(([msr, h]) => (h.gated ? h.gated.bitOf(msr) | 0 : -1));
  const readCases = entries.map(([msr], i) =>
    gates[i] < 0
      ? `case ${msr}: return r${i}(v, m, init);`
      : `case ${msr}: return v.pvHas(${
        gates[i]
      }) ? r${i}(v, m, init) : init === "host" ? ZERO : GP;`
  ).join("\n");
  const writeCases = entries.map(([msr], i) =>
    gates[i] < 0
      ? `case ${msr}: return w${i}(v, m, x, init);`
      : `case ${msr}: return v.pvHas(${
        gates[i]
      }) ? w${i}(v, m, x, init) : init === "host" && x === 0n ? OK : GP;`
  ).join("\n");
  const names = [
    ...readers.map((_, i) => `r${i}`),
    ...writers.map((_, i) => `w${i}`),
    "GP",
    "OK",
    "ZERO",
  ];
  const body = `return {
    read(v, m, init) { switch (m) { ${readCases}\ndefault: return GP; } },
    write(v, m, x, init) { switch (m) { ${writeCases}\ndefault: return GP; } },
  };`;
  const factory = new Function(...names, body) as (
    ...args: unknown[]
  ) => { read: MsrReader; write: MsrWriter };
  return factory(...readers, ...writers, MSR_GP, MSR_OK, HOST_READ_ZERO);
}
