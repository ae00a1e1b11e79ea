/**
 * Inputs that once took seconds to parse or apply (issue 10: "Parsing a 1 MiB `-cpu` string
 * takes 6 s; 100k CPUID overrides 8.5 s"), at any size. Shared by tests/parse_linear_bench.ts
 * and tests/input_scale_test.ts.
 */

import type { CpuidOverride } from "@pvkit/emu";

const FEATURES = ["kvmclock", "kvm-steal-time", "kvm-pv-eoi", "kvm-pv-ipi", "kvm_pv_unhalt"];

/**
 * A `-cpu` string of about `bytes` bytes: `host` and feature settings, on and off in turn.
 *
 * @example
 * ```ts
 * import { cpuString } from "./_big_inputs.ts";
 * console.log(cpuString(40)); // "host,kvmclock=on,kvm-steal-time=off"
 * ```
 */
export function cpuString(bytes: number): string {
  const items = ["host"];
  for (let i = 0, size = 4; size < bytes; i++) {
    const item = `${FEATURES[i % FEATURES.length]}=${i % 2 ? "off" : "on"}`;
    items.push(item);
    size += item.length + 1;
  }
  return items.join(",");
}

/**
 * `count` raw CPUID overrides, each on a leaf of its own (0x80000100 upwards), so none
 * replaces another and every one is applied.
 *
 * @example
 * ```ts
 * import { cpuidOverrides } from "./_big_inputs.ts";
 * console.log(cpuidOverrides(2)); // [{ leaf: 0x80000100, eax: 0 }, { leaf: 0x80000101, eax: 1 }]
 * ```
 */
export function cpuidOverrides(count: number): CpuidOverride[] {
  return Array.from({ length: count }, (_, i) => ({ leaf: 0x80000100 + i, eax: i }));
}
