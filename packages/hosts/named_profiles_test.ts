import { assertEquals } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import {
  findNamedProfile,
  type HostProfile,
  namedProfiles,
  newestProfile,
  parseHostProfiles,
} from "./mod.ts";

// KVM_FEATURE_* bit numbers: arch/x86/include/uapi/asm/kvm_para.h (spec §1).
const CLOCKSOURCE = 0;
const MMU_OP = 2;
const STEAL_TIME = 5;
const PV_UNHALT = 7;
const PV_TLB_FLUSH = 9;
const ASYNC_PF_VMEXIT = 10;
const PV_SEND_IPI = 11;
const POLL_CONTROL = 12;
const PV_SCHED_YIELD = 13;
const ASYNC_PF_INT = 14;
const MSI_EXT_DEST_ID = 15;
const HC_MAP_GPA_RANGE = 16;
const MIGRATION_CONTROL = 17;
const CLOCKSOURCE_STABLE_BIT = 24;

function get(name: string): HostProfile {
  const p = findNamedProfile(name);
  if (p === undefined) throw new Error(`missing profile ${name}`);
  return p;
}

function has(p: HostProfile, bit: number): boolean {
  return ((p.kvmLeaf.eax >>> bit) & 1) === 1;
}

Deno.test("the required releases are all present, newest first", () => {
  assertEquals(namedProfiles.map((p) => p.linux), [
    "6.18",
    "6.12",
    "6.6",
    "6.1",
    "5.15",
    "5.10",
    "5.4",
    "4.19",
    "4.14",
    "3.10",
  ]);
  assertEquals(newestProfile.name, "linux-6.18");
  assertEquals(newestProfile, namedProfiles[0]);
});

Deno.test("6.x and 5.10/5.15 report 0x01007efb", () => {
  // Measured on this machine's 6.18 /dev/kvm; cpuid.c list identical from 5.10.13 to today.
  for (const name of ["linux-6.18", "linux-6.12", "linux-6.6", "linux-6.1", "linux-5.15"]) {
    assertEquals(get(name).kvmLeaf.eax, 0x01007efb, name);
  }
  // arch/x86/kvm/cpuid.c@5.10.13: ASYNC_PF_INT already reported.
  assertEquals(get("linux-5.10").kvmLeaf.eax, 0x01007efb);
});

Deno.test("5.4 has POLL_CONTROL and PV_SCHED_YIELD but lacks ASYNC_PF_INT", () => {
  const p = get("linux-5.4");
  // "KVM: x86: interrupt based APF 'page ready' event delivery" is a 2020 (5.8) change.
  assertEquals(has(p, ASYNC_PF_INT), false);
  // "kvm: x86: add host poll control msrs" / "Implement PV sched yield hypercall" (5.3).
  assertEquals(has(p, POLL_CONTROL), true);
  assertEquals(has(p, PV_SCHED_YIELD), true);
  assertEquals(p.kvmLeaf.eax, 0x01003efb);
});

Deno.test("4.19 adds PV_TLB_FLUSH, ASYNC_PF_VMEXIT and PV_SEND_IPI, nothing newer", () => {
  // arch/x86/kvm/cpuid.c@4.19 (0x88888888/Linux-4.19).
  const p = get("linux-4.19");
  assertEquals([PV_TLB_FLUSH, ASYNC_PF_VMEXIT, PV_SEND_IPI].map((b) => has(p, b)), [
    true,
    true,
    true,
  ]);
  assertEquals(has(p, POLL_CONTROL), false);
  assertEquals(p.kvmLeaf.eax, 0x01000efb);
});

Deno.test("4.14 (as released) has PV_UNHALT but not PV_TLB_FLUSH or ASYNC_PF_VMEXIT", () => {
  const p = get("linux-4.14");
  // 'kvm-4.16-1' pull: PV TLB shootdown is new in 4.16; Ubuntu 4.15.18 cpuid.c still lacks it.
  assertEquals(has(p, PV_TLB_FLUSH), false);
  // "KVM: x86: fix backward migration with async_PF" came after 4.14.0 (stable backports aside).
  assertEquals(has(p, ASYNC_PF_VMEXIT), false);
  assertEquals(has(p, PV_UNHALT), true);
  assertEquals(p.kvmLeaf.eax, 0x010000fb);
});

Deno.test("3.10 predates PV_UNHALT and the x2APIC API", () => {
  const p = get("linux-3.10");
  // pv-ticketlock host support ("Add a hypercall to KVM hypervisor to support pv-ticketlocks") is 3.12.
  assertEquals(has(p, PV_UNHALT), false);
  // "KVM: host side for eoi optimization" (3.6) reports PV_EOI (bit 6).
  assertEquals(has(p, 6), true);
  assertEquals(p.kvmLeaf.eax, 0x0100007b);
  // QEMU intel_iommu: "X2APIC_API, first shipped in v4.7".
  assertEquals(p.x2apicApi, false);
  assertEquals(p.maxVcpus, 255);
});

Deno.test("no host ever reports MMU_OP, VMM-only bits or hints", () => {
  // Spec §7: bits 2, 15, 16, 17 and KVM_HINTS_REALTIME are for the VMM to set.
  for (const p of namedProfiles) {
    for (const bit of [MMU_OP, MSI_EXT_DEST_ID, HC_MAP_GPA_RANGE, MIGRATION_CONTROL]) {
      assertEquals(has(p, bit), false, `${p.name} bit ${bit}`);
    }
    assertEquals(p.kvmLeaf.edx, 0, p.name);
    // kvmclock, the stable bit and (assumed on) steal time are in every profile.
    assertEquals([CLOCKSOURCE, CLOCKSOURCE_STABLE_BIT, STEAL_TIME].every((b) => has(p, b)), true);
  }
});

Deno.test("features only accumulate from older to newer releases", () => {
  // cpuid.c never dropped a bit from the KVM_CPUID_FEATURES list in the versions read.
  for (let i = 1; i < namedProfiles.length; i++) {
    const newer = namedProfiles[i - 1].kvmLeaf.eax;
    const older = namedProfiles[i].kvmLeaf.eax;
    assertEquals(
      (older & ~newer) >>> 0,
      0,
      `${namedProfiles[i].name} ⊄ ${namedProfiles[i - 1].name}`,
    );
  }
});

Deno.test("capabilities follow their first releases", () => {
  // KVM_CAP_ENFORCE_PV_FEATURE_CPUID: 5.10 ("only provide PV features if enabled in guest's CPUID").
  assertEquals(get("linux-5.10").enforcePvFeatureCpuid, true);
  assertEquals(get("linux-5.4").enforcePvFeatureCpuid, false);
  // KVM_CAP_EXIT_HYPERCALL: 5.14 ("Introduce KVM_HC_MAP_GPA_RANGE hypercall").
  assertEquals(get("linux-5.15").exitHypercall, true);
  assertEquals(get("linux-5.10").exitHypercall, false);
  // KVM_MAX_VCPUS: 288 from "bump MAX_VCPUS to 288", 1024 from 5.15 ("Increase MAX_VCPUS to 1024").
  assertEquals(get("linux-4.14").maxVcpus, 288);
  assertEquals(get("linux-5.10").maxVcpus, 288);
  assertEquals(get("linux-5.15").maxVcpus, 1024);
  // Measured here on 6.18 (no MAXSMP): KVM_CAP_MAX_VCPUS = 1024.
  assertEquals(get("linux-6.18").maxVcpus, 1024);
});

Deno.test("findNamedProfile is exact and returns undefined for unknown names", () => {
  assertEquals(findNamedProfile("linux-6.12")?.linux, "6.12");
  assertEquals(findNamedProfile("6.12"), undefined);
  assertEquals(findNamedProfile("linux-2.6.32"), undefined);
});

Deno.test("every profile cites at least one source", () => {
  for (const p of namedProfiles) assertEquals(p.source.length > 0, true, p.name);
});

Deno.test("parseHostProfiles rejects malformed entries with a PvkitError", () => {
  const good = {
    name: "linux-9.9",
    linux: "9.9",
    description: "test",
    eax: "0x00000001",
    edx: "0x00000000",
    signatureEax: "0x40000001",
    stealTime: "off",
    x2apicApi: true,
    enforcePvFeatureCpuid: true,
    exitHypercall: true,
    maxVcpus: 1024,
    sources: ["test"],
  };
  assertEquals(parseHostProfiles([good])[0].kvmLeaf.eax, 1);
  const bad: unknown[] = [
    [],
    [{ ...good, eax: "0x1007EFB" }],
    [{ ...good, eax: "0x01007EFB" }],
    [{ ...good, name: "linux-9.8" }],
    [{ ...good, signatureEax: "0x40000002" }],
    [{ ...good, maxVcpus: 0 }],
    [{ ...good, sources: [] }],
    [{ ...good, x2apicApi: "yes" }],
    [good, good],
  ];
  for (const value of bad) {
    let code = "";
    try {
      parseHostProfiles(value);
    } catch (e) {
      if (e instanceof PvkitError) code = e.code;
    }
    assertEquals(code, "bad-host-profile", JSON.stringify(value));
  }
});
