/**
 * The host-side async-PF state of a vCPU, which kvm-asyncpf (MSR 0x4b564d02, the queues) and
 * kvm-asyncpf-int (MSRs 0x4b564d06/07) share through `vcpu.shared(ASYNC_PF_STATE)` (plugins
 * never import each other, so the protocol's state lives here, beside its ABI).
 *
 * Fields mirror KVM's `vcpu->arch.apf` and `vcpu->async_pf` (Documentation/virt/kvm/x86/msr.rst; arch/x86/kernel/kvm.c).
 *
 * @module
 */

import { type SharedKey, sharedKey, type VcpuContext } from "@pvkit/machine";

/** One async page fault (KVM's struct kvm_async_pf). */
export interface AsyncPfWork {
  /** (id << 12) | vcpu_id, or 0xFFFFFFFF for 'wake all'. */
  readonly token: number;
  /** The guest frame being brought in (0 for 'wake all'). */
  readonly gfn: bigint;
  /** The 'wake all' completion queued when async PF is enabled. */
  readonly wakeupAll: boolean;
  /** 'Page not present' was injected for it, so 'page ready' will be delivered. */
  notPresentInjected: boolean;
}

/** vcpu->arch.apf and vcpu->async_pf. */
export interface AsyncPfState {
  /** ASYNC_PF_EN as last stored (apf.msr_en_val). */
  msrEnVal: bigint;
  /** The GPA of the 8-byte area the host writes, or undefined when unmapped (apf.data). */
  dataGpa: bigint | undefined;
  /** SEND_ALWAYS, latched at the enabling write. */
  sendAlways: boolean;
  /** DELIVERY_AS_PF_VMEXIT, latched at the enabling write. */
  deliveryAsPfVmexit: boolean;
  /** ASYNC_PF_INT as last stored (apf.msr_int_val). */
  msrIntVal: bigint;
  /** The 'page ready' vector (apf.vec; not cleared by RESET/INIT). */
  vec: number;
  /** A 'page ready' was injected and not yet ACKed (apf.pageready_pending). */
  pageReadyPending: boolean;
  /** KVM_REQ_APF_READY: scan the done queue at the next entry. */
  readyRequested: boolean;
  /** The vCPU waits in an artificial halt for a page (apf.halted). */
  halted: boolean;
  /** The token allocator (apf.id, u32). */
  id: number;
  /** Faults the host is still resolving, by token (async_pf.queue). */
  readonly queue: Map<number, AsyncPfWork>;
  /** Resolved faults waiting for 'page ready', oldest first (async_pf.done). */
  readonly done: AsyncPfWork[];
}

/**
 * A fresh state: everything off, id 0 (KVM zero-allocates the vCPU).
 *
 * @example
 * ```ts
 * import { newAsyncPfState } from "@pvkit/abi";
 * console.log(newAsyncPfState().msrEnVal); // 0n
 * ```
 */
export function newAsyncPfState(): AsyncPfState {
  return {
    msrEnVal: 0n,
    dataGpa: undefined,
    sendAlways: false,
    deliveryAsPfVmexit: false,
    msrIntVal: 0n,
    vec: 0,
    pageReadyPending: false,
    readyRequested: false,
    halted: false,
    id: 0,
    queue: new Map(),
    done: [],
  };
}

/**
 * The key of the async-PF state on a vCPU.
 *
 * @example
 * ```ts
 * import { ASYNC_PF_STATE } from "@pvkit/abi";
 * console.log(ASYNC_PF_STATE.name); // "kvm.async-pf"
 * ```
 */
export const ASYNC_PF_STATE: SharedKey<AsyncPfState> = sharedKey("kvm.async-pf", newAsyncPfState);

/**
 * The vCPU's async-PF state, created on first use by whichever plugin comes first.
 *
 * @example
 * ```ts
 * import { asyncPfState } from "@pvkit/abi";
 * import { standInVcpu } from "@pvkit/machine";
 * console.log(asyncPfState(standInVcpu()).id); // 0
 * ```
 */
export function asyncPfState(vcpu: VcpuContext): AsyncPfState {
  return vcpu.shared(ASYNC_PF_STATE);
}
