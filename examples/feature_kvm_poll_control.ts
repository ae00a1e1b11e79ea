/**
 * kvm-poll-control (CPUID 0x40000001 EAX bit 12) and kvm-hint-dedicated (CPUID 0x40000001 EDX
 * bit 0, KVM_HINTS_REALTIME). On vCPUs with dedicated host CPUs, Linux loads cpuidle-haltpoll:
 * the guest polls before it halts, so it turns the host's halt polling off per vCPU by writing
 * 0 to MSR_KVM_POLL_CONTROL (0x4b564d05); polling twice would only burn host CPU. The driver
 * loads only with the dedicated hint, and writes the MSR only with poll control. The hint also
 * turns off the PV features that only help preempted vCPUs. The table shows, per vCPU, whether
 * the host may halt-poll, for the four combinations of the two flags.
 *
 * Run: deno run -A examples/feature_kvm_poll_control.ts
 * (examples/feature_kvm_hint_dedicated.ts runs this same example.)
 */

import { hostPollingAllowed } from "@pvkit/kvm-poll-control";
import { MSR_KVM_POLL_CONTROL } from "@pvkit/abi";
import { boot, table } from "./_harness.ts";

/** Runs the comparison and prints the table. */
export function main(): void {
  const VCPUS = 4;
  const rows: string[][] = [];
  const off: number[] = [];
  for (
    const cpu of [
      "host",
      "host,kvm-poll-control=off",
      "host,kvm-hint-dedicated=on",
      "host,kvm-hint-dedicated=on,kvm-poll-control=off",
    ]
  ) {
    const { vm, guest, composed } = boot({ cpu, smp: VCPUS });
    const polling = vm.vcpus.map((v) => hostPollingAllowed(v));
    const msr = vm.vcpus.map((v) => vm.getMsr(v.index, MSR_KVM_POLL_CONTROL));
    off.push(polling.filter((p) => !p).length);
    const pvOff = ["pv-spinlock", "pv-tlb-flush", "pv-sched-yield"].filter((f) =>
      !guest.uses(f as "pv-spinlock")
    );
    rows.push([
      `-cpu ${cpu}`,
      guest.haltpoll.loaded ? "loaded" : "not loaded",
      msr.map((m) => m === undefined ? "-" : String(m)).join(","),
      polling.map((p) => (p ? "on" : "off")).join(","),
      pvOff.join(",") || "-",
    ]);
    for (const w of composed.warnings) console.log(`  warning (${cpu}): ${w}`);
    // Linux prints this one once (pr_err_once); the driver model records it per vCPU.
    for (const w of new Set(guest.warnings)) console.log(`  guest (${cpu}): ${w}`);
  }
  console.log();
  table([
    "machine",
    "cpuidle-haltpoll",
    "MSR 0x4b564d05 per vCPU",
    "host halt polling per vCPU",
    "PV features the guest drops",
  ], rows);
  console.log(
    `benefit: only with kvm-hint-dedicated and kvm-poll-control does the guest (which now ` +
      `polls itself) turn host halt polling off: on ${off[2]}/${VCPUS} vCPUs, vs ` +
      `${off[0]}/${VCPUS} without the hint and ${off[3]}/${VCPUS} without poll control`,
  );
}

if (import.meta.main) main();
