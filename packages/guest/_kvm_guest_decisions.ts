// KvmGuest's decision list: one FeatureDecision per PV feature, in KvmGuest.decisions' order,
// from what detection found and whether KVM is the hypervisor platform (not with `nopv`).
// Not exported from mod.ts.

import { KVM_FEATURE_NOP_IO_DELAY } from "@pvkit/abi";
import { type AsyncPfSwitches, decideAsyncPf } from "./async_pf.ts";
import type { FeatureDecision } from "./feature_decision.ts";
import { decideHaltpoll, type HaltpollSwitches } from "./haltpoll.ts";
import { type KvmGuestInfo, kvmParaHasFeature } from "./kvm_detect.ts";
import { decideKvmclock, type KvmclockSwitches } from "./kvmclock.ts";
import type { X2apicSetup } from "./msi.ts";
import { decidePvEoi } from "./pv_eoi.ts";
import { decidePvIpi } from "./pv_ipi.ts";
import { decidePvTlbFlush } from "./pv_tlb_flush.ts";
import { decidePvSchedYield } from "./sched_yield.ts";
import { decideStealTime, type StealTimeSwitches } from "./steal_time.ts";

export const NOT_KVM = "not running on KVM";
export const NOPV = "nopv: KVM is not set up as the hypervisor platform";

/** The command-line switches the decisions read. */
export type DecisionSwitches =
  & KvmclockSwitches
  & StealTimeSwitches
  & AsyncPfSwitches
  & { readonly haltpollForce?: boolean; readonly idleOverride?: boolean };

/** What the drivers already worked out at boot. */
export interface DriverOutcomes {
  /** Kvmclock.validFlags (PVCLOCK_TSC_STABLE_BIT with bit 24). */
  readonly kvmclockValidFlags: number;
  /** kvm_spinlock_init's outcome. */
  readonly spinlock: FeatureDecision;
  /** check_x2apic and try_to_enable_x2apic's outcome. */
  readonly x2apic: X2apicSetup;
}

/**
 * Every feature's decision. `info` is what detection found (kvm_para_available); `platform`
 * is `info` when KVM is the hypervisor platform, so its init hooks run, else undefined (`nopv`:
 * only cpuidle-haltpoll, which asks kvm_para_available, still sees KVM).
 */
export function kvmGuestDecisions(
  info: KvmGuestInfo | undefined,
  platform: KvmGuestInfo | undefined,
  switches: DecisionSwitches,
  drivers: DriverOutcomes,
): FeatureDecision[] {
  const nopv = info !== undefined && platform === undefined;
  const onPlatform = (feature: FeatureDecision["feature"], decide: () => FeatureDecision) =>
    nopv ? { feature, used: false, reason: NOPV } : decide();
  const kvmclock = onPlatform("kvmclock", () => decideKvmclock(platform, switches));
  const stable: FeatureDecision = {
    feature: "kvmclock-stable-bit",
    ...(!kvmclock.used
      ? { used: false, reason: info === undefined ? NOT_KVM : nopv ? NOPV : "kvmclock is off" }
      : drivers.kvmclockValidFlags !== 0
      ? {
        used: true,
        reason: "KVM_FEATURE_CLOCKSOURCE_STABLE_BIT: PVCLOCK_TSC_STABLE_BIT is honoured",
      }
      : {
        used: false,
        reason: "no KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (bit 24): every read is clamped",
      }),
  };
  // [G] paravirt_ops_setup (kvm_guest_init): io_delay becomes a no-op with bit 1.
  const ioDelay = onPlatform("nop-io-delay", () => ({
    feature: "nop-io-delay",
    ...(platform === undefined
      ? { used: false, reason: NOT_KVM }
      : kvmParaHasFeature(platform, KVM_FEATURE_NOP_IO_DELAY)
      ? { used: true, reason: "KVM_FEATURE_NOP_IO_DELAY: io_delay is a no-op" }
      : { used: false, reason: "no KVM_FEATURE_NOP_IO_DELAY (bit 1)" }),
  }));
  const haltpoll: HaltpollSwitches = {
    force: switches.haltpollForce,
    idleOverride: switches.idleOverride,
  };
  const x2apic = drivers.x2apic;
  return [
    kvmclock,
    stable,
    ioDelay,
    onPlatform("steal-time", () => decideStealTime(platform, switches)),
    onPlatform("pv-eoi", () => decidePvEoi(platform)),
    onPlatform("async-pf", () => decideAsyncPf(platform, switches)),
    onPlatform("pv-tlb-flush", () => decidePvTlbFlush(platform)),
    onPlatform("pv-sched-yield", () => decidePvSchedYield(platform)),
    onPlatform("pv-ipi", () => decidePvIpi(platform)),
    onPlatform("pv-spinlock", () => drivers.spinlock),
    decideHaltpoll(info, haltpoll),
    info === undefined
      ? { feature: "msi-ext-dest-id", used: false, reason: NOT_KVM }
      : nopv
      ? { feature: "msi-ext-dest-id", used: false, reason: `${NOPV} (${x2apic.reason})` }
      : { feature: "msi-ext-dest-id", used: x2apic.virtExtDestId, reason: x2apic.reason },
  ];
}
