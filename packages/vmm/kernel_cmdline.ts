/**
 * The kernel command-line switches that change which PV features a Linux guest takes, read into
 * the `@pvkit/guest` model's configuration (Documentation/admin-guide/kernel-parameters.txt).
 *
 * @module
 */

/**
 * The switches of `@pvkit/guest`'s `KvmGuestConfig` a kernel command line can set (same names,
 * so the object spreads into it).
 *
 * @example
 * ```ts
 * import type { GuestCmdlineSwitches } from "@pvkit/vmm";
 * const s: GuestCmdlineSwitches = { nopvspin: true };
 * console.log(s.nopvspin);
 * ```
 */
export interface GuestCmdlineSwitches {
  /** `nopv`: KVM is not set up as the hypervisor platform. */
  nopv?: boolean;
  /** `nopvspin`: no PV spinlocks. */
  nopvspin?: boolean;
  /** `no-kvmclock`. */
  noKvmclock?: boolean;
  /** `no-steal-acc`: no steal-time accounting in the run queue. */
  noStealAcc?: boolean;
  /** `no-kvmapf`: no async page faults. */
  noKvmapf?: boolean;
  /** `nox2apic`. */
  nox2apic?: boolean;
  /** `cpuidle_haltpoll.force=1`: load cpuidle-haltpoll without KVM_HINTS_REALTIME. */
  haltpollForce?: boolean;
  /** `idle=poll|halt|nomwait`: keeps cpuidle-haltpoll unloaded. */
  idleOverride?: boolean;
}

/**
 * Reads `nopv`, `nopvspin`, `no-kvmclock`, `no-steal-acc`, `no-kvmapf`, `nox2apic`,
 * `cpuidle_haltpoll.force` (a bool module parameter: no value, `1`, `y`, `Y` or `on` is true,
 * as kstrtobool) and `idle=` (`poll`, `halt` or `nomwait` override the idle routine, which
 * keeps cpuidle-haltpoll from loading; arch/x86/kernel/process.c idle_setup). Words after `--`
 * belong to init and are ignored. Only switches that are on appear in the result.
 *
 * @example
 * ```ts
 * import { guestSwitchesFromCmdline } from "@pvkit/vmm";
 * import { assertEquals } from "@std/assert";
 * assertEquals(
 *   guestSwitchesFromCmdline("console=ttyS0 nopvspin cpuidle_haltpoll.force=1 -- nopv"),
 *   { nopvspin: true, haltpollForce: true },
 * );
 * ```
 */
export function guestSwitchesFromCmdline(cmdline: string): GuestCmdlineSwitches {
  const out: GuestCmdlineSwitches = {};
  for (const word of cmdline.trim().split(/\s+/)) {
    if (word === "--") break;
    const eq = word.indexOf("=");
    const name = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    switch (name) {
      case "nopv":
        out.nopv = true;
        break;
      case "nopvspin":
        out.nopvspin = true;
        break;
      case "no-kvmclock":
        out.noKvmclock = true;
        break;
      case "no-steal-acc":
        out.noStealAcc = true;
        break;
      case "no-kvmapf":
        out.noKvmapf = true;
        break;
      case "nox2apic":
        out.nox2apic = true;
        break;
      case "cpuidle_haltpoll.force":
        if (value === undefined || /^(1|y|on)/i.test(value)) out.haltpollForce = true;
        else delete out.haltpollForce;
        break;
      case "idle":
        if (value === "poll" || value === "halt" || value === "nomwait") out.idleOverride = true;
        break;
    }
  }
  return out;
}
