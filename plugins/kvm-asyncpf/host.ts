/**
 * kvm-asyncpf's host side, as KVM implements it (Documentation/virt/kvm/x86/msr.rst ASYNC_PF_EN, §3
 * kvm_vcpu_pv_apf_data, §6 "Async PF"; [X] kvm_pv_enable_async_pf, kvm_can_deliver_async_pf,
 * kvm_arch_async_page_not_present/present, kvm_arch_can_dequeue_async_page_present,
 * kvm_vcpu_reset; mmu.c alloc_apf_token; virt/kvm/async_pf.c).
 *
 * The host's page swapping is a model a backend drives: {@linkcode asyncPageFault} when a
 * guest access hits a page the host must bring in, {@linkcode completeAsyncPageFault} when it
 * is in. 'Page ready' goes out at the vCPU's next entry. kvm-asyncpf-int (MSRs 0x4b564d06/07)
 * shares the per-vCPU state (`asyncPfState` in @pvkit/abi).
 *
 * @module
 */

import {
  type AsyncPfState,
  asyncPfState,
  type AsyncPfWork,
  KVM_ASYNC_PF_DELIVERY_AS_INT,
  KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT,
  KVM_ASYNC_PF_ENABLED,
  KVM_ASYNC_PF_GPA_MASK,
  KVM_ASYNC_PF_RESERVED_MASK,
  KVM_ASYNC_PF_SEND_ALWAYS,
  KVM_ASYNC_PF_WAKE_ALL_TOKEN,
  KVM_FEATURE_ASYNC_PF,
  KVM_FEATURE_ASYNC_PF_INT,
  KVM_FEATURE_ASYNC_PF_VMEXIT,
  KVM_PV_REASON_PAGE_NOT_PRESENT,
  KVM_VCPU_PV_APF_DATA_HOST_BYTES,
  KVM_VCPU_PV_APF_DATA_OFFSETS,
  MSR_KVM_ASYNC_PF_EN,
} from "@pvkit/abi";
import {
  gatedMsrHook,
  MSR_GP,
  MSR_OK,
  msrValue,
  type PluginEnvironment,
  type PluginHooks,
  type VcpuContext,
} from "@pvkit/machine";

/** Tokens are (apf.id++ << 12) | vcpu_id (spec §6 "Async PF token"). */
const TOKEN_ID_SHIFT = 12;

/** What the host does with a fault on a page it must bring in. */
export type AsyncPageFaultOutcome = "async" | "halt";

/** kvm_pv_async_pf_enabled: ENABLED and DELIVERY_AS_INT both set (b0 alone = disabled). */
function enabled(st: AsyncPfState): boolean {
  const both = KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT;
  return (st.msrEnVal & both) === both;
}

/** kvm_clear_async_pf_completion_queue + kvm_async_pf_hash_reset. */
function clearQueues(st: AsyncPfState): void {
  st.queue.clear();
  st.done.length = 0;
}

/** Writes one u32 field of the area through the host's 8-byte cache; false if unmapped. */
function putArea(vcpu: VcpuContext, st: AsyncPfState, offset: number, value: number): boolean {
  if (st.dataGpa === undefined) return false;
  vcpu.memory.writeU32(st.dataGpa + BigInt(offset), value);
  return true;
}

/** kvm_arch_async_page_present_queued: request a scan; kick unless a 'page ready' is unACKed. */
function presentQueued(vcpu: VcpuContext, st: AsyncPfState): void {
  st.readyRequested = true;
  if (!st.pageReadyPending) vcpu.kick();
}

/** kvm_async_pf_wakeup_all: queue a 'wake all' completion if the done queue is empty. */
function wakeupAll(vcpu: VcpuContext, st: AsyncPfState): void {
  if (st.done.length !== 0) return;
  st.done.push({
    token: KVM_ASYNC_PF_WAKE_ALL_TOKEN,
    gfn: 0n,
    wakeupAll: true,
    notPresentInjected: false,
  });
  presentQueued(vcpu, st);
}

/** alloc_apf_token: (id++ << 12) | vcpu_id as u32; id restarts at 1 so a token is never 0. */
function allocToken(vcpu: VcpuContext, st: AsyncPfState): number {
  if ((st.id << TOKEN_ID_SHIFT) >>> 0 === 0) st.id = 1;
  const token = ((st.id << TOKEN_ID_SHIFT) | vcpu.index) >>> 0;
  st.id = (st.id + 1) >>> 0;
  return token;
}

/**
 * kvm_can_deliver_async_pf: enabled (b0 & b3); SEND_ALWAYS or CPL ≠ 0 (protected-state guests
 * are not modelled); not in L2 (no nested guest here), and CR0.PG taken as 1 (spec §6).
 */
function canDeliver(vcpu: VcpuContext, st: AsyncPfState): boolean {
  return enabled(st) && (st.sendAlways || vcpu.cpl !== 0);
}

/** kvm_arch_can_dequeue_async_page_present: anything when disabled, else LAPIC on + slot 0. */
function canDequeue(vcpu: VcpuContext, st: AsyncPfState): boolean {
  if (!enabled(st)) return true;
  if (!vcpu.apic?.enabled || st.dataGpa === undefined) return false;
  return vcpu.memory.readU32(st.dataGpa + BigInt(KVM_VCPU_PV_APF_DATA_OFFSETS.token)) === 0;
}

/** kvm_arch_async_page_present: write the token, set pageready_pending, inject the vector. */
function pagePresent(vcpu: VcpuContext, st: AsyncPfState, work: AsyncPfWork): void {
  const deliver = (work.wakeupAll || work.notPresentInjected) && enabled(st);
  if (deliver && putArea(vcpu, st, KVM_VCPU_PV_APF_DATA_OFFSETS.token, work.token)) {
    st.pageReadyPending = true;
    vcpu.requestInterrupt({
      destination: vcpu.apicId,
      vector: st.vec,
      deliveryMode: "fixed",
      level: true,
      levelTriggered: false,
    });
  }
  st.halted = false;
}

/** kvm_check_async_pf_completion: deliver done work while the guest can take it. */
function checkCompletion(vcpu: VcpuContext, st: AsyncPfState): void {
  while (st.done.length > 0 && canDequeue(vcpu, st)) pagePresent(vcpu, st, st.done.shift()!);
}

/**
 * A guest access hit a page the host must swap in: start an async page fault for `gfn`
 * (kvm_arch_setup_async_pf + kvm_arch_async_page_not_present, spec §6 "Async PF 'page not
 * present'").
 *
 * Returns `"async"` when the guest gets a 'page not present' #PF (flags = 1 written, CR2 = the
 * token) and can run something else; `"halt"` when KVM would instead hold the vCPU in an
 * artificial halt until the page is in: async PF not enabled (b0 and b3), CPL 0 without
 * SEND_ALWAYS, the area unmapped, or `gfn` already being brought in (a double fault). The
 * plugin then holds the vCPU off its CPU (the `holdsEntry` lifecycle hook) from its next entry
 * until {@linkcode completeAsyncPageFault} or an interrupt it can take wakes it. The fault's
 * token is {@linkcode asyncPageFaultToken}.
 *
 * @example
 * ```ts
 * import { asyncPageFault } from "@pvkit/kvm-asyncpf";
 * import { standInVcpu } from "@pvkit/machine";
 *
 * // A stand-in for a backend's vCPU, with async PF never enabled.
 * const vcpu = standInVcpu({ index: 0, cpl: 3 });
 * console.log(asyncPageFault(vcpu, 0x1234n)); // "halt": the guest did not enable async PF
 * ```
 */
export function asyncPageFault(vcpu: VcpuContext, gfn: bigint): AsyncPageFaultOutcome {
  const st = asyncPfState(vcpu);
  // kvm_find_async_pf_gfn: a fault on a page already in flight halts (KVM_REQ_APF_HALT).
  for (const work of [...st.queue.values(), ...st.done]) {
    if (!work.wakeupAll && work.gfn === gfn) {
      st.halted = true;
      return "halt";
    }
  }
  const work: AsyncPfWork = {
    token: allocToken(vcpu, st),
    gfn,
    wakeupAll: false,
    notPresentInjected: false,
  };
  st.queue.set(work.token, work);
  if (
    canDeliver(vcpu, st) &&
    putArea(vcpu, st, KVM_VCPU_PV_APF_DATA_OFFSETS.flags, KVM_PV_REASON_PAGE_NOT_PRESENT)
  ) {
    work.notPresentInjected = true;
    vcpu.injectPageFault(BigInt(work.token)); // #PF, error code 0, CR2 = token
    return "async";
  }
  st.halted = true;
  return "halt";
}

/**
 * The page of the async page fault `token` is in: queue its completion (async_pf_execute).
 * 'Page ready' is delivered at the vCPU's next entry while the token slot is 0 and the LAPIC
 * is enabled; a vCPU halted for it becomes runnable. Returns false for a token the host is not
 * resolving (never issued, already completed, or dropped by a disable or reset).
 *
 * @example
 * ```ts
 * import { completeAsyncPageFault } from "@pvkit/kvm-asyncpf";
 * import { standInVcpu } from "@pvkit/machine";
 * const vcpu = standInVcpu();
 * console.log(completeAsyncPageFault(vcpu, 0x1000)); // false: no such fault in flight
 * ```
 */
export function completeAsyncPageFault(vcpu: VcpuContext, token: number): boolean {
  const st = asyncPfState(vcpu);
  const work = st.queue.get(token);
  if (!work) return false;
  st.queue.delete(token);
  const first = st.done.length === 0;
  st.done.push(work);
  if (first) presentQueued(vcpu, st);
  // async_pf_execute ends with __kvm_vcpu_wake_up whatever else happened: a blocked vCPU (HLT
  // or the artificial halt) sees the done queue as an event and becomes runnable.
  vcpu.kick();
  return true;
}

/**
 * The token of the async page fault in flight for `gfn` on `vcpu`, if there is one.
 *
 * @example
 * ```ts
 * import { asyncPageFaultToken } from "@pvkit/kvm-asyncpf";
 * import { standInVcpu } from "@pvkit/machine";
 * const vcpu = standInVcpu();
 * console.log(asyncPageFaultToken(vcpu, 0x1234n)); // undefined
 * ```
 */
export function asyncPageFaultToken(vcpu: VcpuContext, gfn: bigint): number | undefined {
  const st = asyncPfState(vcpu);
  for (const work of [...st.queue.values(), ...st.done]) {
    if (!work.wakeupAll && work.gfn === gfn) return work.token;
  }
  return undefined;
}

/**
 * True while `vcpu` sits in KVM's artificial async-PF halt (apf.halted): a backend must not run
 * it until a completion is delivered or it is woken.
 *
 * @example
 * ```ts
 * import { asyncPfHalted } from "@pvkit/kvm-asyncpf";
 * import { standInVcpu } from "@pvkit/machine";
 * const vcpu = standInVcpu();
 * console.log(asyncPfHalted(vcpu)); // false
 * ```
 */
export function asyncPfHalted(vcpu: VcpuContext): boolean {
  return asyncPfState(vcpu).halted;
}

/**
 * Creates kvm-asyncpf's hooks for one machine: MSR 0x4b564d02 (gated by CPUID bit 4, with
 * bits 2 and 3 gated by bits 10 and 14), the 'page ready' delivery at entry, and the reset.
 *
 * @example
 * ```ts
 * import { createKvmAsyncpfHooks } from "@pvkit/kvm-asyncpf";
 * import type { PluginEnvironment } from "@pvkit/machine";
 * const env = { isEnabled: () => true } as Pick<PluginEnvironment, "isEnabled">;
 * const hooks = createKvmAsyncpfHooks(env as PluginEnvironment);
 * console.log(hooks.msrs?.[0].msrs.map((m) => m.toString(16))); // ["4b564d02"]
 * ```
 */
export function createKvmAsyncpfHooks(_environment: PluginEnvironment): PluginHooks {
  // The LAPIC state each vCPU had when last seen: enabling it requests a scan.
  const apicWasEnabled = new WeakMap<VcpuContext, boolean>();

  /** KVM_REQ_APF_READY → kvm_check_async_pf_completion. */
  const processRequests = (vcpu: VcpuContext): void => {
    const st = asyncPfState(vcpu);
    const apicEnabled = vcpu.apic?.enabled ?? false;
    // apic_set_spiv: software-enabling the LAPIC requests a scan (spec §6).
    if (apicEnabled && apicWasEnabled.get(vcpu) === false) st.readyRequested = true;
    apicWasEnabled.set(vcpu, apicEnabled);
    if (!st.readyRequested) return;
    st.readyRequested = false;
    checkCompletion(vcpu, st);
  };

  const msrs = gatedMsrHook({ [MSR_KVM_ASYNC_PF_EN]: KVM_FEATURE_ASYNC_PF }, {
    read: (vcpu) => msrValue(asyncPfState(vcpu).msrEnVal),
    // kvm_pv_enable_async_pf: the checks in the order of spec §2, guest and host writes alike.
    write(vcpu, _msr, value) {
      if ((value & KVM_ASYNC_PF_RESERVED_MASK) !== 0n) return MSR_GP;
      const asVmexit = (value & KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT) !== 0n;
      if (asVmexit && !vcpu.pvHas(KVM_FEATURE_ASYNC_PF_VMEXIT)) return MSR_GP;
      const asInt = (value & KVM_ASYNC_PF_DELIVERY_AS_INT) !== 0n;
      if (asInt && !vcpu.pvHas(KVM_FEATURE_ASYNC_PF_INT)) return MSR_GP;
      // Without an in-kernel LAPIC nothing is stored: 0 is accepted, anything else #GPs.
      if (!vcpu.apic) return value === 0n ? MSR_OK : MSR_GP;
      const st = asyncPfState(vcpu);
      st.msrEnVal = value;
      if (!enabled(st)) {
        clearQueues(st); // b0 alone is "disabled" since v5.8
        return MSR_OK;
      }
      // The 8-byte cache at data & ~0x3f. KVM stored the value before this check, so a
      // failing write is still what RDMSR returns; the area stays unmapped.
      const gpa = value & KVM_ASYNC_PF_GPA_MASK;
      if (!vcpu.memory.contains(gpa, KVM_VCPU_PV_APF_DATA_HOST_BYTES)) {
        st.dataGpa = undefined;
        return MSR_GP;
      }
      st.dataGpa = gpa;
      st.sendAlways = (value & KVM_ASYNC_PF_SEND_ALWAYS) !== 0n;
      st.deliveryAsPfVmexit = asVmexit;
      wakeupAll(vcpu, st);
      return MSR_OK;
    },
  });

  return {
    msrs: [msrs],
    lifecycle: [{
      // KVM handles KVM_REQ_APF_READY at the top of vcpu_enter_guest, before it injects
      // interrupts. The backend injects before onEntry, so a request already pending at an
      // exit (an ACK, an enable, a completion that kicked the vCPU) is handled right after that
      // exit, where nothing else can run; onEntry catches those raised while the vCPU was out
      // of guest mode (halted, descheduled).
      onExit(vcpu) {
        processRequests(vcpu);
      },
      onEntry(vcpu) {
        processRequests(vcpu);
      },
      // Any wake-up of a blocked vCPU ends the artificial halt (vcpu_block).
      onRunnable(vcpu) {
        asyncPfState(vcpu).halted = false;
      },
      // KVM_REQ_APF_HALT: the vCPU does not re-enter the guest; it blocks until woken.
      holdsEntry(vcpu) {
        return asyncPfState(vcpu).halted;
      },
      // kvm_vcpu_reset (RESET and INIT): ASYNC_PF_EN ← 0, queues and hash cleared, halt ended.
      onReset(vcpu) {
        const st = asyncPfState(vcpu);
        st.msrEnVal = 0n;
        clearQueues(st);
        st.halted = false;
      },
    }],
  };
}
