/**
 * kvmclock's host side, as KVM implements it (Documentation/virt/kvm/x86/msr.rst WALL_CLOCK/SYSTEM_TIME, §3,
 * §4; [X] kvm_write_wall_clock, kvm_write_system_time, kvm_guest_time_update,
 * kvm_pv_clock_pairing).
 *
 * @module
 */

import {
  KVM_CLOCK_PAIRING_SIZE,
  KVM_CLOCK_PAIRING_WALLCLOCK,
  KVM_EFAULT,
  KVM_EOPNOTSUPP,
  KVM_FEATURE_CLOCKSOURCE,
  KVM_FEATURE_CLOCKSOURCE2,
  KVM_HC_CLOCK_PAIRING,
  kvmGetTimeScale,
  MSR_KVM_SYSTEM_TIME,
  MSR_KVM_SYSTEM_TIME_NEW,
  MSR_KVM_WALL_CLOCK,
  MSR_KVM_WALL_CLOCK_NEW,
  publishPvclockVcpuTimeInfo,
  publishPvclockWallClock,
  PVCLOCK_GUEST_STOPPED,
  PVCLOCK_TSC_STABLE_BIT,
  PVCLOCK_VCPU_TIME_INFO_SIZE,
  type TimeScale,
  writeKvmClockPairing,
} from "@pvkit/abi";
import {
  gatedHypercall,
  gatedMsrHook,
  GuestMemoryError,
  MSR_OK,
  msrValue,
  type PluginEnvironment,
  type PluginHooks,
  type VcpuContext,
} from "@pvkit/machine";

/** KVM syncs every kvmclock every 300 s (kvmclock_sync_work). */
const PERIODIC_SYNC_NS = 300_000_000_000n;

/** pvclock_vcpu_time_info must not cross a page: gfn_to_pfn_cache maps one page. */
const PAGE = 4096n;

/** Per-vCPU kvmclock state (vcpu->arch.time, pv_time). */
interface VcpuClock {
  systemTimeMsr: bigint;
  active: boolean;
  gpa: bigint;
  updatePending: boolean;
  guestStoppedPending: boolean;
  lastUpdateNs: bigint;
}

/**
 * Creates kvmclock's hooks for one machine: MSRs 0x11/0x12 (gated by bit 0) and
 * 0x4b564d00/01 (bit 3), the pvclock updates on entry, KVM_KVMCLOCK_CTRL, and
 * KVM_HC_CLOCK_PAIRING (ungated).
 *
 * @example
 * ```ts
 * import { createKvmclockHooks } from "@pvkit/kvmclock";
 * console.log(typeof createKvmclockHooks); // "function"
 * ```
 */
export function createKvmclockHooks(environment: PluginEnvironment): PluginHooks {
  const vm = environment.vm;
  // VM-wide: the wall-clock MSR value (0x11 and 0x4b564d00 share it) and the master clock.
  let wallClockMsr = 0n;
  let bootVcpuRunsOldKvmclock = false;
  let scale: { khz: number; value: TimeScale } | undefined;
  // Per-vCPU state, indexed by vCPU (the hot paths read it on every MSR access and entry).
  const clocks: VcpuClock[] = [];
  const state = (vcpu: VcpuContext): VcpuClock =>
    clocks[vcpu.index] ??= {
      systemTimeMsr: 0n,
      active: false,
      gpa: 0n,
      updatePending: false,
      guestStoppedPending: false,
      lastUpdateNs: 0n,
    };
  const requestGlobalUpdate = () => {
    for (let i = 0; i < vm.vcpuCount; i++) state(vm.vcpu(i)).updatePending = true;
  };
  const timeScale = (): TimeScale => {
    if (!scale || scale.khz !== vm.tscKhz) {
      scale = { khz: vm.tscKhz, value: kvmGetTimeScale(1_000_000_000n, BigInt(vm.tscKhz) * 1000n) };
    }
    return scale.value;
  };

  const update = (vcpu: VcpuContext, clock: VcpuClock) => {
    clock.updatePending = false;
    clock.lastUpdateNs = vm.kvmclockNs();
    // Current KVM cannot map a record that crosses a page: it silently never writes it.
    if ((clock.gpa % PAGE) + BigInt(PVCLOCK_VCPU_TIME_INFO_SIZE) > PAGE) return;
    if (!vcpu.memory.contains(clock.gpa, PVCLOCK_VCPU_TIME_INFO_SIZE)) return;
    const { shift, mul } = timeScale();
    // STABLE needs the master clock, which the boot vCPU using MSR 0x12 disables.
    let flags = bootVcpuRunsOldKvmclock ? 0 : PVCLOCK_TSC_STABLE_BIT;
    if (clock.guestStoppedPending) {
      flags |= PVCLOCK_GUEST_STOPPED;
      clock.guestStoppedPending = false;
    }
    publishPvclockVcpuTimeInfo(vcpu.memory, clock.gpa, {
      tscTimestamp: vcpu.guestTsc(),
      systemTime: vm.kvmclockNs(),
      tscToSystemMul: mul,
      tscShift: shift,
      flags,
    });
  };

  const msrs = gatedMsrHook(
    {
      [MSR_KVM_WALL_CLOCK]: KVM_FEATURE_CLOCKSOURCE,
      [MSR_KVM_SYSTEM_TIME]: KVM_FEATURE_CLOCKSOURCE,
      [MSR_KVM_WALL_CLOCK_NEW]: KVM_FEATURE_CLOCKSOURCE2,
      [MSR_KVM_SYSTEM_TIME_NEW]: KVM_FEATURE_CLOCKSOURCE2,
    },
    {
      read(vcpu, msr) {
        const isWall = msr === MSR_KVM_WALL_CLOCK || msr === MSR_KVM_WALL_CLOCK_NEW;
        return msrValue(isWall ? wallClockMsr : state(vcpu).systemTimeMsr);
      },
      write(vcpu, msr, value, initiator) {
        if (msr === MSR_KVM_WALL_CLOCK || msr === MSR_KVM_WALL_CLOCK_NEW) {
          wallClockMsr = value;
          if (value !== 0n) {
            try {
              // wall_nsec = CLOCK_REALTIME - kvmclock, both now: realtime when kvmclock was 0.
              publishPvclockWallClock(vcpu.memory, value, vm.realtimeNs() - vm.kvmclockNs());
            } catch (e) {
              if (!(e instanceof GuestMemoryError)) throw e; // a bad GPA is silently ignored
            }
          }
          return MSR_OK;
        }
        const clock = state(vcpu);
        if (initiator === "guest" && vcpu.index === 0) {
          bootVcpuRunsOldKvmclock = msr === MSR_KVM_SYSTEM_TIME;
        }
        clock.systemTimeMsr = value;
        requestGlobalUpdate();
        clock.active = (value & 1n) === 1n;
        clock.gpa = value & ~1n;
        return MSR_OK;
      },
    },
  );

  const clockPairing = gatedHypercall(KVM_HC_CLOCK_PAIRING, undefined, (vcpu, { args }) => {
    if (args[1] !== BigInt(KVM_CLOCK_PAIRING_WALLCLOCK)) return -BigInt(KVM_EOPNOTSUPP);
    if (!vcpu.memory.contains(args[0], KVM_CLOCK_PAIRING_SIZE)) return -BigInt(KVM_EFAULT);
    const now = vm.realtimeNs();
    writeKvmClockPairing(vcpu.memory, args[0], {
      sec: now / 1_000_000_000n,
      nsec: now % 1_000_000_000n,
      tsc: vcpu.guestTsc(),
      flags: 0,
    });
    return 0n;
  });

  return {
    msrs: [msrs],
    hypercalls: [clockPairing],
    lifecycle: [{
      onEntry(vcpu) {
        const clock = state(vcpu);
        if (!clock.active) return;
        if (clock.updatePending || vm.kvmclockNs() - clock.lastUpdateNs >= PERIODIC_SYNC_NS) {
          update(vcpu, clock);
        }
      },
      onReset(vcpu) {
        // RESET and INIT deactivate kvmclock and zero SYSTEM_TIME; the wall clock is VM-wide.
        const clock = state(vcpu);
        clock.systemTimeMsr = 0n;
        clock.active = false;
        clock.updatePending = false;
      },
      onHostEvent(vcpu, event) {
        const clock = state(vcpu);
        if (event.kind === "set-clock") {
          clock.updatePending = true;
          return true;
        }
        // KVM_KVMCLOCK_CTRL: -EINVAL unless kvmclock is enabled.
        if (!clock.active) return false;
        clock.guestStoppedPending = true;
        clock.updatePending = true;
        return true;
      },
    }],
  };
}
