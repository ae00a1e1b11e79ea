// The async-PF state is shared with kvm-asyncpf-int under one per-vCPU key; each plugin keeps
// its own copy of `_async_pf_state.ts`. This test (identical in both plugins) pins the key and
// the shape, so a change to one copy that is not made to the other fails here.
import { assertEquals } from "@std/assert";
import { MSR_KVM_ASYNC_PF_INT } from "@pvkit/abi";
import type { PluginEnvironment, VcpuContext } from "@pvkit/machine";
import { createKvmAsyncpfIntHooks } from "./host.ts";
import { ASYNC_PF_STATE_KEY, newAsyncPfState } from "./_async_pf_state.ts";

const SHAPE: Record<string, string> = {
  dataGpa: "undefined",
  deliveryAsPfVmexit: "boolean",
  done: "array",
  halted: "boolean",
  id: "number",
  msrEnVal: "bigint",
  msrIntVal: "bigint",
  pageReadyPending: "boolean",
  queue: "map",
  readyRequested: "boolean",
  sendAlways: "boolean",
  vec: "number",
};

function shapeOf(value: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [
      k,
      Array.isArray(v) ? "array" : v instanceof Map ? "map" : typeof v,
    ]),
  );
}

Deno.test("the shared async-PF state: key 'kvm.async-pf' and its fields", () => {
  assertEquals(ASYNC_PF_STATE_KEY, "kvm.async-pf");
  assertEquals(shapeOf(newAsyncPfState()), SHAPE);
});

Deno.test("this plugin creates the state with that shape when it touches a vCPU first", () => {
  const store = new Map<string, unknown>();
  const vcpu = {
    apic: {} as VcpuContext["apic"], // an in-kernel LAPIC
    pvHas: () => true,
    shared: <T>(key: string, create: () => T): T => {
      if (!store.has(key)) store.set(key, create());
      return store.get(key) as T;
    },
  } as Pick<VcpuContext, "apic" | "pvHas" | "shared"> as VcpuContext;
  const hooks = createKvmAsyncpfIntHooks({} as PluginEnvironment);
  assertEquals(hooks.msrs![0].write(vcpu, MSR_KVM_ASYNC_PF_INT, 0xf3n, "host").kind, "ok");
  assertEquals([...store.keys()], [ASYNC_PF_STATE_KEY]);
  assertEquals(shapeOf(store.get(ASYNC_PF_STATE_KEY) as object), SHAPE);
});
