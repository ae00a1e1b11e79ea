/**
 * kvm-nopiodelay's host side: KVM does nothing special for it (Documentation/virt/kvm/x86/cpuid.rst bit 1, §6
 * "io delay": the guest just stops writing to the delay port). What a machine needs is the
 * delay port itself, port 0x80, so the exits a guest without the feature takes are counted.
 *
 * @module
 */

import {
  type PluginEnvironment,
  type PluginHooks,
  type SharedKey,
  sharedKey,
  type VcpuContext,
} from "@pvkit/machine";

/**
 * Port 0x80, the I/O delay port Linux's native `io_delay` writes to (its POST-code port;
 * Documentation/virt/kvm/api.rst: "0x80 (POST: ignore)").
 *
 * @example
 * ```ts
 * import { IO_DELAY_PORT } from "@pvkit/kvm-nopiodelay";
 * console.log(IO_DELAY_PORT.toString(16)); // "80"
 * ```
 */
export const IO_DELAY_PORT = 0x80;

/**
 * What one vCPU did at the delay port: each access is one VM exit on KVM.
 *
 * @example
 * ```ts
 * import type { IoDelayCounts } from "@pvkit/kvm-nopiodelay";
 * const counts: IoDelayCounts = { writes: 0, reads: 0 };
 * console.log(counts.writes); // 0
 * ```
 */
export interface IoDelayCounts {
  /** OUTs to port 0x80 (a guest without kvm-nopiodelay issues one per delayed port access). */
  writes: number;
  /** INs from port 0x80. */
  reads: number;
}

/**
 * The delay-port counters of one vCPU (zero until it touches port 0x80).
 *
 * @example
 * ```ts
 * import { ioDelayCounts } from "@pvkit/kvm-nopiodelay";
 * import { EmuMachine } from "@pvkit/emu";
 * import { compose } from "@pvkit/pvkit";
 * const vm = EmuMachine.create(compose({ cpu: "host", machine: "q35", host: "linux-6.12" }));
 * vm.run([function* (cpu) { cpu.out(0x80, 1, 0); yield { kind: "yield" }; }]);
 * console.log(ioDelayCounts(vm.vcpu(0)).writes); // 1
 * ```
 */
export function ioDelayCounts(vcpu: VcpuContext): IoDelayCounts {
  return vcpu.shared(IO_DELAY);
}

/** The per-vCPU delay-port counters (private to this plugin). */
const IO_DELAY: SharedKey<IoDelayCounts> = sharedKey(
  "kvm.nopiodelay",
  () => ({ writes: 0, reads: 0 }),
);

/**
 * Creates kvm-nopiodelay's hooks for one machine: port 0x80 accepts and drops writes and
 * reads as all ones (0xff for a byte), like an unclaimed port, counting both per vCPU.
 * Whether the guest writes there at all is the guest's decision (CPUID bit 1 → Linux makes
 * `io_delay` a no-op); the host does not look at the bit.
 *
 * @example
 * ```ts
 * import { createKvmNopiodelayHooks } from "@pvkit/kvm-nopiodelay";
 * import { standInVcpu } from "@pvkit/machine";
 * const vcpu = standInVcpu();
 * const port = createKvmNopiodelayHooks({ vm: vcpu.vm, isEnabled: () => true }).ioPorts?.[0];
 * console.log(port?.read(vcpu, 0x80, 1)); // 255
 * ```
 */
export function createKvmNopiodelayHooks(_environment: PluginEnvironment): PluginHooks {
  return {
    ioPorts: [{
      first: IO_DELAY_PORT,
      last: IO_DELAY_PORT,
      read(vcpu, _port, size) {
        ioDelayCounts(vcpu).reads++;
        return size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1; // all ones
      },
      write(vcpu) {
        ioDelayCounts(vcpu).writes++; // the value is ignored
      },
    }],
  };
}
